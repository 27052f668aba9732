// Numbers in text as Python's int(), float() and complex() read them (NumPy
// 1.24's astype from S/U to numbers), ASCII only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace npio {
inline namespace v1 {
namespace detail {

/// An integer's sign and magnitude; `huge` when the magnitude passes 2**64 - 1.
struct py_int {
  bool negative = false, huge = false;
  std::uint64_t magnitude = 0;
};

/// int(text): whitespace, a sign, digits with single underscores between
/// them. false when Python would raise ValueError (or the text is not ASCII).
bool parse_py_int(std::string_view text, py_int& v);
/// float(text): also "inf", "infinity", "nan" in any case. false as ValueError.
bool parse_py_float(std::string_view text, double& v);
/// complex(text): "1.5", "2j", "1+2j", "(1-j)". false as ValueError.
bool parse_py_complex(std::string_view text, double& re, double& im);
/// A long double as NumPy 1.24 reads text (string_to_long_double: NumPyOS_ascii_strtold,
/// C's strtold in the C locale after its own nan/inf): spaces before, not after; hex floats;
/// "nan(...)", "inf", "infinity" in any case; out of range gives inf or the nearest
/// subnormal, as strtold does. Reads up to a NUL, as NumPy's C string does. false as
/// NumPy's ValueError.
bool parse_np_longdouble(const std::string& text, long double& v);

} // namespace detail
} // namespace v1
} // namespace npio
