/// \file visit.hpp
/// One switch over element kinds: `visit_kind(dt, f)` calls `f` with a tag
/// naming the C++ type (or the layout) of one element of `dt`, so that code
/// walking elements (repr, JSON, casts, pickle reconstruction) writes the
/// per-kind work once, as overloads or an `if constexpr` chain.
///
/// Tags passed to `f`:
///
/// | dtype                       | tag                                    |
/// |-----------------------------|----------------------------------------|
/// | `b1`                        | `std::type_identity<bool>`             |
/// | `i1 i2 i4 i8`               | `std::type_identity<std::int8_t>` ... `<std::int64_t>` |
/// | `u1 u2 u4 u8`               | `std::type_identity<std::uint8_t>` ... `<std::uint64_t>` |
/// | `f2 f4 f8`                  | `std::type_identity<npio::float16>`, `<float>`, `<double>` |
/// | `f16` (x87 long double)     | `std::type_identity<long double>`      |
/// | `c8 c16 c32`                | `std::type_identity<std::complex<float>>`, `<double>`, `<long
/// double>` | | `S` n                       | `npio::bytes_tag` (n bytes, trailing NULs are
/// padding) | | `U` n                       | `npio::str_tag` (n UCS-4 code units in `dt.order()`)
/// | | `V` n without fields        | `npio::void_tag` (n raw bytes)         | | `M8[unit]` |
/// `npio::datetime_tag` (int64 count in `dt.order()`, unit in `dt.unit()`) | | `m8[unit]` |
/// `npio::timedelta_tag` (as datetime_tag) | | `O`                         | `npio::object_tag` (a
/// pointer-sized slot) | | structured (has fields)     | `npio::structured_tag` (walk
/// `dt.fields()`) | | subarray `(base, shape)`    | `npio::subarray_tag` (walk `dt.base()` x
/// `dt.shape()`) |
///
/// Byte order is the caller's: numeric tags name the native type, and
/// `load_element<T>(p, needs_swap(dt))` / `store_element` read and write one
/// element in the dtype's order. A float or complex width this machine has
/// no C++ type for (a 16-byte float where long double is not 16 bytes) is
/// an `unsupported` error, raised before `f` is called.
#pragma once

#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <npio/dtype.hpp>
#include <npio/error.hpp>
#include <string>
#include <type_traits>

namespace npio {
inline namespace v1 {

struct bytes_tag {};      ///< 'S': fixed-width bytes
struct str_tag {};        ///< 'U': fixed-width UCS-4 text
struct void_tag {};       ///< 'V' with no fields and no subarray: raw bytes
struct datetime_tag {};   ///< 'M': datetime64, an int64 count of dt.unit()
struct timedelta_tag {};  ///< 'm': timedelta64, an int64 count of dt.unit()
struct object_tag {};     ///< 'O': a Python object reference
struct structured_tag {}; ///< a structured dtype: see dtype::fields()
struct subarray_tag {};   ///< a subarray dtype: see dtype::base(), dtype::shape()

/// True when one scalar of `dt` is stored in the other byte order than this
/// machine's (always false for '|' types, structured and subarray dtypes).
inline bool needs_swap(const dtype& dt) noexcept {
  return dt.itemsize() > 1 && dt.order() != byte_order::none && dt.order() != native_order();
}

/// Reads one scalar of type T (a visit_kind numeric type) at `p`, which need
/// not be aligned, reversing its bytes when `swap` (each part of a complex
/// separately). Errors: none.
template <class T> T load_element(const std::byte* p, bool swap) noexcept {
  if constexpr (requires { typename T::value_type; }) { // std::complex
    using F = typename T::value_type;
    return T(load_element<F>(p, swap), load_element<F>(p + sizeof(F), swap));
  } else {
    std::byte tmp[sizeof(T)];
    std::memcpy(tmp, p, sizeof(T));
    if (swap) std::reverse(tmp, tmp + sizeof(T));
    T v;
    std::memcpy(&v, tmp, sizeof(T));
    return v;
  }
}

/// Writes one scalar of type T at `p` (the inverse of load_element).
/// Errors: none.
template <class T> void store_element(std::byte* p, const T& v, bool swap) noexcept {
  if constexpr (requires { typename T::value_type; }) {
    using F = typename T::value_type;
    store_element<F>(p, v.real(), swap);
    store_element<F>(p + sizeof(F), v.imag(), swap);
  } else {
    std::memcpy(p, &v, sizeof(T));
    // x87's 80-bit long double: the 6 padding bytes are zeroed, not whatever
    // the register spill left there
    if constexpr (std::is_same_v<T, long double> &&
                  std::numeric_limits<long double>::digits == 64 && sizeof(T) > 10)
      std::memset(p + 10, 0, sizeof(T) - 10);
    if (swap) std::reverse(p, p + sizeof(T));
  }
}

/// Calls `f(tag)` with the tag of `dt`'s element kind (table above) and
/// returns what it returns; every call of `f` must return the same type.
/// Errors: unsupported (a float width with no C++ type here), and whatever
/// `f` throws.
template <class F> decltype(auto) visit_kind(const dtype& dt, F&& f) {
  const std::size_t n = dt.itemsize();
  if (dt.is_structured()) return f(structured_tag{});
  if (dt.is_subarray()) return f(subarray_tag{});
  switch (dt.kind()) {
  case 'b':
    return f(std::type_identity<bool>{});
  case 'i':
    switch (n) {
    case 1:
      return f(std::type_identity<std::int8_t>{});
    case 2:
      return f(std::type_identity<std::int16_t>{});
    case 4:
      return f(std::type_identity<std::int32_t>{});
    default:
      return f(std::type_identity<std::int64_t>{});
    }
  case 'u':
    switch (n) {
    case 1:
      return f(std::type_identity<std::uint8_t>{});
    case 2:
      return f(std::type_identity<std::uint16_t>{});
    case 4:
      return f(std::type_identity<std::uint32_t>{});
    default:
      return f(std::type_identity<std::uint64_t>{});
    }
  case 'f':
    if (n == 2) return f(std::type_identity<float16>{});
    if (n == 4) return f(std::type_identity<float>{});
    if (n == 8) return f(std::type_identity<double>{});
    if (n == sizeof(long double)) return f(std::type_identity<long double>{});
    break;
  case 'c':
    if (n == 8) return f(std::type_identity<std::complex<float>>{});
    if (n == 16) return f(std::type_identity<std::complex<double>>{});
    if (n == 2 * sizeof(long double)) return f(std::type_identity<std::complex<long double>>{});
    break;
  case 'S':
    return f(bytes_tag{});
  case 'U':
    return f(str_tag{});
  case 'M':
    return f(datetime_tag{});
  case 'm':
    return f(timedelta_tag{});
  case 'O':
    return f(object_tag{});
  default:
    return f(void_tag{});
  }
  throw error(errc::unsupported, "no C++ type for " + dt.name() + " on this machine");
}

} // namespace v1
} // namespace npio
