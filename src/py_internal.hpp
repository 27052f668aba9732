// Helpers shared by the py::value sources: py_value.cpp (storage), py_bigint.cpp,
// py_compare.cpp, py_repr.cpp and py_ndarray.cpp. Not installed.
#pragma once

#include "py_node.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace npio {
inline namespace v1 {
namespace py {
namespace detail {

[[noreturn]] inline void fail(errc c, std::string msg) {
  throw error(c, std::move(msg));
}

template <class N> N& nd(const value& v) {
  return access::as<N>(v);
}

// ---- big ints (py_bigint.cpp): two's complement, little-endian bytes ----------------

// Strips redundant sign bytes: the result is the shortest two's complement.
void normalize_le(std::vector<std::uint8_t>& b);
bool le_negative(const std::vector<std::uint8_t>& b);
// Magnitude limbs (base 2^32, little-endian) of two's complement bytes.
std::vector<std::uint32_t> le_magnitude(std::vector<std::uint8_t> b, bool& neg);
std::vector<std::uint8_t> magnitude_le(const std::vector<std::uint32_t>& m, bool neg);
// Decimal text; more than max_digits digits (0: no limit) throw limit_exceeded.
std::string le_to_decimal(const std::vector<std::uint8_t>& b, std::size_t max_digits);
// An int value: small when it fits 64 bits.
value make_big(std::vector<std::uint8_t> le);
std::vector<std::uint8_t> int64_le(std::int64_t i);
// Exact integer bytes of an integral double.
std::vector<std::uint8_t> double_le(double f);
bool fits_int64(double f);
// The int whose digits (each below base, 2..36; no sign, prefix or
// underscore) are given, negated when neg. Past max_digits digits (0: no
// limit) a base that is not a power of two (whose conversion is quadratic) is
// refused before any work: nullopt, for the caller to word the error.
std::optional<value> int_from_digits(std::string_view digits, int base, bool neg,
                                     std::size_t max_digits);

} // namespace detail

// The node helpers every py_*.cpp uses (this header is private to src/).
using detail::access;
using detail::fail;
using detail::nd;
using detail::node;

} // namespace py
} // namespace v1
} // namespace npio
