/// \file text.hpp
/// Text forms of element values that several layers share (the JSON
/// component, the CLI): the shortest round-trip float text, exact float16
/// rounding from double, and base64. Each is written once, here.
#pragma once

#include <cstddef>
#include <npio/dtype.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace npio {
inline namespace v1 {

/// The shortest decimal that reads back to the same value at the value's own
/// precision, laid out as Python's repr(float): plain notation when the
/// decimal point falls within 16 digits ("100000.0", "0.0001", "-0.0"),
/// otherwise "d.ddde+XX" ("1e+16", "1.5e-07"); always a '.' or an 'e'.
/// Not finite: "nan", "inf", "-inf". float16 digits come from a search that
/// reads each candidate back with float16_from_double (as NumPy's Dragon4
/// gives them); the others from std::to_chars. Errors: none (std::bad_alloc).
std::string float_repr(float16 v);
std::string float_repr(float v);
std::string float_repr(double v);
std::string float_repr(long double v);
/// The same shortest digits in C's "%e" layout ("1.563e-02", "-5e+00",
/// "1e+16"), for printers that place the point themselves (array repr).
/// Not finite: "nan", "inf", "-inf". Errors: none (std::bad_alloc).
std::string float_sci(float16 v);
std::string float_sci(float v);
std::string float_sci(double v);
std::string float_sci(long double v);

/// The float16 nearest to `v`, ties to even (one rounding, unlike
/// float16(float(v))); NaN keeps its sign. Errors: none.
float16 float16_from_double(double v) noexcept;

/// Standard base64 (RFC 4648 alphabet) with '=' padding. Errors: none.
std::string base64_encode(std::span<const std::byte> bytes);
/// Strict inverse of base64_encode: canonical padding only.
/// Errors: invalid_argument.
std::vector<std::byte> base64_decode(std::string_view text);

} // namespace v1
} // namespace npio
