/// \file dtype.hpp
/// NumPy's data types: the whole `descr` grammar of .npy headers.
#pragma once

#include <bit>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace npio {
inline namespace v1 {

/// An IEEE 754 half, stored as its bits (NumPy's float16, 'f2').
struct float16 {
  std::uint16_t bits = 0;
  float16() = default;
  explicit float16(float f) noexcept;
  explicit operator float() const noexcept;
  friend bool operator==(float16 a, float16 b) noexcept { return a.bits == b.bits; }
};

/// Byte order as NumPy writes it: '<', '>' or '|' (not applicable).
enum class byte_order : char { little = '<', big = '>', none = '|' };

/// The native byte order of this machine.
constexpr byte_order native_order() noexcept {
  return std::endian::native == std::endian::little ? byte_order::little : byte_order::big;
}

/// Units of datetime64/timedelta64. `generic` is NumPy's unitless 'M8'.
enum class time_unit : std::uint8_t { generic, Y, M, W, D, h, m, s, ms, us, ns, ps, fs, as };

/// Largest number of dimensions npio accepts (NumPy 2's NPY_MAXDIMS).
inline constexpr std::size_t max_ndim = 64;
/// Deepest nesting of structured/subarray dtypes accepted from a file.
inline constexpr std::size_t max_dtype_depth = 32;

class dtype;
struct field;

/// Array and subarray shapes.
using shape_t = std::vector<std::int64_t>;

/// A NumPy dtype: kind, byte order, itemsize, and for structured types the
/// fields, for subarrays the base and shape, for datetimes the unit.
/// Cheap to copy (shared immutable state). Compare with ==.
///
/// Kinds are NumPy's characters: 'b' bool, 'i' signed, 'u' unsigned, 'f' float,
/// 'c' complex, 'S' bytes, 'U' UCS-4 text, 'V' void (raw, structured or
/// subarray), 'M' datetime64, 'm' timedelta64, 'O' object.
class dtype {
public:
  /// float64, NumPy's default.
  dtype();

  /// Parses a dtype string the way `np.dtype(str)` does: "<f8", "float64", "d",
  /// "=i4", "|O8", "S3", "U5", "V4", "M8[ns]", "m8[25s]", "?", "bool", ...
  /// Errors: bad_descr.
  static dtype parse(std::string_view text);

  /// Parses a header's descr value written as a Python literal, e.g.
  /// "'<f8'" or "[('a', '<i4'), ('b', '|S3', (2,))]".
  /// Errors: header_syntax, bad_descr, limit_exceeded.
  static dtype from_descr(std::string_view python_literal);

  /// Builds a scalar dtype: kind, itemsize in bytes, byte order (native when
  /// it matters and not given). Errors: bad_descr.
  static dtype make(char kind, std::size_t itemsize,
                    std::optional<byte_order> order = std::nullopt);
  /// datetime64 ('M') or timedelta64 ('m') with a unit and multiple.
  static dtype datetime(char kind, time_unit unit, std::int64_t count = 1,
                        byte_order order = native_order());
  /// A structured dtype from fields with explicit offsets; itemsize defaults to
  /// the end of the last field. Fields may overlap, as in NumPy (then descr()
  /// refuses, as NumPy's does), except fields holding objects.
  /// Errors: bad_descr (duplicate names or titles, an itemsize too small, overlapping objects).
  static dtype structured(std::vector<field> fields,
                          std::optional<std::size_t> itemsize = std::nullopt);
  /// A structured dtype packed in order like np.dtype([(name, type), ...]),
  /// or with C alignment like align=True.
  static dtype record(const std::vector<std::pair<std::string, dtype>>& fields, bool align = false);
  /// A subarray dtype (base, shape), like np.dtype(('<f8', (2, 3))).
  static dtype subarray(const dtype& base, std::vector<std::int64_t> shape);

  /// The dtype of a C++ element type (bool, intN_t, uintN_t, float16, float,
  /// double, long double, std::complex<...>) in native byte order.
  template <class T> static dtype of();

  char kind() const noexcept;
  byte_order order() const noexcept;
  std::size_t itemsize() const noexcept;
  /// Alignment NumPy would use for this type in an aligned struct.
  std::size_t alignment() const noexcept;

  bool is_structured() const noexcept; ///< has named fields
  bool is_subarray() const noexcept;   ///< (base, shape)
  bool is_object() const noexcept { return kind() == 'O'; }
  bool has_object() const noexcept; ///< 'O' anywhere inside
  bool is_datetime() const noexcept { return kind() == 'M' || kind() == 'm'; }
  /// True when no byte swapping is needed to read it on this machine.
  bool is_native() const noexcept;

  const std::vector<field>& fields() const noexcept;       ///< empty unless structured
  const dtype& base() const noexcept;                      ///< subarray base, else *this
  const std::vector<std::int64_t>& shape() const noexcept; ///< subarray shape, else empty
  time_unit unit() const noexcept;
  std::int64_t unit_count() const noexcept;

  /// The same dtype with every byte order set to `o` ('|' types unchanged).
  dtype with_order(byte_order o) const;
  /// with_order(native_order()).
  dtype to_native() const { return with_order(native_order()); }

  /// `dtype.str`: "<f8", "|S3", "<M8[ns]", "|V12" for structured.
  std::string str() const;
  /// The header's descr exactly as NumPy writes it (Python repr): "'<f8'" or
  /// "[('a', '<i4'), ('', '|V4')]".
  std::string descr() const;
  /// A description in words: "float64", "big-endian int32", "structured (3 fields)", ...
  std::string name() const;

  friend bool operator==(const dtype& a, const dtype& b) noexcept;

  struct impl;

private:
  explicit dtype(std::shared_ptr<const impl> p) : p_(std::move(p)) {}
  std::shared_ptr<const impl> p_;
};

/// One field of a structured dtype. `title` is NumPy's optional field title.
struct field {
  std::string name;
  dtype type;
  std::size_t offset = 0;
  std::optional<std::string> title;
  friend bool operator==(const field&, const field&) = default;
};

namespace detail {
template <class T> struct dtype_traits;
template <> struct dtype_traits<bool> { static constexpr char kind = 'b'; };
template <> struct dtype_traits<std::int8_t> { static constexpr char kind = 'i'; };
template <> struct dtype_traits<std::int16_t> { static constexpr char kind = 'i'; };
template <> struct dtype_traits<std::int32_t> { static constexpr char kind = 'i'; };
template <> struct dtype_traits<std::int64_t> { static constexpr char kind = 'i'; };
template <> struct dtype_traits<std::uint8_t> { static constexpr char kind = 'u'; };
template <> struct dtype_traits<std::uint16_t> { static constexpr char kind = 'u'; };
template <> struct dtype_traits<std::uint32_t> { static constexpr char kind = 'u'; };
template <> struct dtype_traits<std::uint64_t> { static constexpr char kind = 'u'; };
template <> struct dtype_traits<float16> { static constexpr char kind = 'f'; };
template <> struct dtype_traits<float> { static constexpr char kind = 'f'; };
template <> struct dtype_traits<double> { static constexpr char kind = 'f'; };
template <> struct dtype_traits<long double> { static constexpr char kind = 'f'; };
template <class F> struct dtype_traits<std::complex<F>> { static constexpr char kind = 'c'; };
template <class T>
concept element_type = requires {
  dtype_traits<T>::kind;
};
} // namespace detail

template <class T> dtype dtype::of() {
  static_assert(detail::element_type<T>, "no NumPy dtype for this C++ type");
  return make(detail::dtype_traits<T>::kind, sizeof(T), native_order());
}

} // namespace v1
} // namespace npio
