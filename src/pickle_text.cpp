// Number text as CPython reads it inside pickles: the INT, LONG and FLOAT
// opcodes and the int()/float()/Decimal() reconstructors. Python's rules
// (PyLong_FromString, PyOS_string_to_double, C strtol for INT) are followed
// exactly, including the 4,300-digit limit on decimal text (CPython 3.11's
// sys.get_int_max_str_digits()): past it, text is refused before any
// quadratic conversion starts.
#include "pickle_internal.hpp"
#include "py_internal.hpp"

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace npio {
inline namespace v1 {
namespace pickle {
namespace detail {

namespace {

bool py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

} // namespace

int_text_result parse_int_text(std::string_view s, int base, std::size_t max_digits) {
  int_text_result r;
  std::size_t i = 0, n = s.size();
  while (i < n && py_space(s[i]))
    ++i;
  while (n > i && py_space(s[n - 1]))
    --n;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i] == '-', ++i;
  if (base != 0 && (base < 2 || base > 36)) {
    r.error = "int() base must be >= 2 and <= 36, or 0";
    return r;
  }
  bool leading_zero_ok = true;
  if (i + 1 < n && s[i] == '0') {
    const char p = static_cast<char>(s[i + 1] | 0x20);
    const int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (pb && (base == 0 || base == pb)) {
      base = pb;
      i += 2;
      if (i < n && s[i] == '_') ++i; // 0x_1 is valid
    } else if (base == 0) {
      leading_zero_ok = false; // base 0: "010" is refused, "00" is not
    }
  }
  if (base == 0) base = 10;
  // digits with single underscores between them
  std::string digits;
  digits.reserve(n - i);
  bool prev_underscore = false;
  for (std::size_t k = i; k < n; ++k) {
    const char c = s[k];
    if (c == '_') {
      if (prev_underscore || digits.empty()) return r;
      prev_underscore = true;
      continue;
    }
    if (digit_value(c) >= base) return r;
    digits += c;
    prev_underscore = false;
  }
  if (digits.empty() || prev_underscore) return r;
  if (!leading_zero_ok && digits.find_first_not_of('0') != std::string::npos) return r;
  auto v = py::detail::int_from_digits(digits, base, neg, max_digits);
  if (!v) {
    r.limit = true;
    r.error = "Exceeds the limit (" + std::to_string(max_digits) +
              " digits) for integer string conversion: value has " + std::to_string(digits.size()) +
              " digits (raise pickle_limits::max_int_digits to increase the limit)";
    return r;
  }
  r.result = std::move(*v);
  r.ok = true;
  return r;
}

int_text_result parse_int_opcode(std::string_view line, std::size_t max_digits) {
  // CPython's load_int: C strtol(s, &end, 0) first (leading space, sign,
  // 0x/0 prefixes, no underscores); when it fails or overflows, Python's
  // int(s, 0) rules.
  if (const auto nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  {
    std::string t(line);
    errno = 0;
    char* end = nullptr;
    const long long x = std::strtoll(t.c_str(), &end, 0);
    if (errno == 0 && end == t.c_str() + t.size() && end != t.c_str()) {
      // strtoll needs at least one digit, and nothing but digits may follow
      bool has_digit = false;
      for (char c : t)
        if (c >= '0' && c <= '9') has_digit = true;
      if (has_digit) {
        int_text_result r;
        r.result = value(static_cast<std::int64_t>(x));
        r.ok = true;
        r.strtol = true;
        return r;
      }
    }
  }
  return parse_int_text(line, 0, max_digits);
}

bool parse_float_text(std::string_view s, double& out, std::string& error) {
  // PyOS_string_to_double: no surrounding space, no underscores, no hex;
  // inf/infinity/nan in any case with a sign; overflow is an error.
  std::string_view v = s;
  bool neg = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) neg = v[0] == '-', v.remove_prefix(1);
  auto ieq = [](std::string_view a, const char* b) {
    if (a.size() != std::strlen(b)) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if ((a[i] | 0x20) != b[i]) return false;
    return true;
  };
  if (ieq(v, "inf") || ieq(v, "infinity")) {
    out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (ieq(v, "nan")) {
    out = neg ? -std::nan("") : std::nan("");
    return true;
  }
  // digits [. digits] [e [sign] digits], at least one digit in the mantissa
  std::size_t i = 0, mant = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9')
    ++i, ++mant;
  if (i < v.size() && v[i] == '.') {
    ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9')
      ++i, ++mant;
  }
  if (mant == 0) {
    error = "could not convert string to float: '" + std::string(s) + "'";
    return false;
  }
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < v.size() && (v[j] == '+' || v[j] == '-')) ++j;
    std::size_t ed = 0;
    while (j < v.size() && v[j] >= '0' && v[j] <= '9')
      ++j, ++ed;
    if (ed) i = j;
  }
  if (i != v.size()) {
    error = "could not convert string to float: '" + std::string(s) + "'";
    return false;
  }
  double d = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), d);
  if (r.ec == std::errc::result_out_of_range) {
    d = std::strtod(std::string(v).c_str(), nullptr); // underflow rounds to 0 or a subnormal
    if (std::isinf(d)) {
      error = "value too large to convert to float: '" + std::string(s) + "'";
      return false;
    }
  } else if (r.ec != std::errc() || r.ptr != v.data() + v.size()) {
    error = "could not convert string to float: '" + std::string(s) + "'";
    return false;
  }
  out = neg ? -d : d;
  return true;
}

bool valid_decimal_text(std::string_view s) {
  // Decimal(str), as CPython's _decimal reads it: surrounding whitespace is
  // stripped, then every '_' is dropped; then [sign] (digits [. digits] |
  // . digits) [e [sign] digits], or Inf/Infinity/NaN/sNaN[digits].
  std::size_t i = 0, n = s.size();
  while (i < n && py_space(s[i]))
    ++i;
  while (n > i && py_space(s[n - 1]))
    --n;
  std::string t;
  for (std::size_t k = i; k < n; ++k)
    if (s[k] != '_') t += s[k];
  std::string_view v = t;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) v.remove_prefix(1);
  auto ieq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
      if ((a[k] | 0x20) != b[k]) return false;
    return true;
  };
  if (ieq(v, "inf") || ieq(v, "infinity")) return true;
  for (std::string_view nan : {std::string_view("nan"), std::string_view("snan")})
    if (v.size() >= nan.size() && ieq(v.substr(0, nan.size()), nan)) {
      for (char c : v.substr(nan.size()))
        if (c < '0' || c > '9') return false;
      return true;
    }
  std::size_t k = 0, mant = 0;
  while (k < v.size() && v[k] >= '0' && v[k] <= '9')
    ++k, ++mant;
  if (k < v.size() && v[k] == '.') {
    ++k;
    while (k < v.size() && v[k] >= '0' && v[k] <= '9')
      ++k, ++mant;
  }
  if (!mant) return false;
  if (k < v.size() && (v[k] == 'e' || v[k] == 'E')) {
    ++k;
    if (k < v.size() && (v[k] == '+' || v[k] == '-')) ++k;
    std::size_t ed = 0;
    while (k < v.size() && v[k] >= '0' && v[k] <= '9')
      ++k, ++ed;
    if (!ed) return false;
  }
  return k == v.size();
}

} // namespace detail
} // namespace pickle
} // namespace v1
} // namespace npio
