// The Python-literal subset .npy headers use (dict, str, int, tuple, list,
// True/False/None), parsed without evaluating anything. Private to npio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

struct literal {
  enum class kind : std::uint8_t { none, boolean, integer, floating, string, tuple, list, dict };
  kind k = kind::none;
  bool b = false;
  bool big = false; // an integer outside int64 (value in `s` as digits)
  std::int64_t i = 0;
  std::string s;              // strings (UTF-8), big integers, float text
  std::vector<literal> items; // tuple and list elements; dict: key, value, key, value, ...
  std::size_t pos = 0;        // byte offset of the literal in the parsed text

  bool is_int() const { return k == kind::integer && !big; }
  bool is_str() const { return k == kind::string; }
};

/// Deepest nesting of brackets accepted (Python's own parser stops at 200).
inline constexpr std::size_t max_literal_depth = 64;

struct literal_error {
  std::string what;
  std::size_t pos;
};

/// Parses `text` as one literal followed only by whitespace. `latin1` means
/// bytes >= 0x80 are latin-1 characters (v1/v2 headers); otherwise the text
/// must be UTF-8 (v3). Throws literal_error.
literal parse_literal(std::string_view text, bool latin1);

/// Python's repr() of a literal: "(3,)", "'a'", "[1, 2]", "{'a': 1}".
std::string repr(const literal& v);
/// Python's repr() of a tuple of ints: "()", "(3,)", "(2, 3)".
std::string repr_shape(const std::vector<std::int64_t>& shape);
/// Python's repr() of a str (UTF-8 in, UTF-8 out).
std::string repr_str(std::string_view utf8);

/// Appends the UTF-8 encoding of code point `cp`.
void append_utf8(std::string& out, std::uint32_t cp);
/// Returns the offset of the first invalid UTF-8 byte, or npos.
std::size_t find_invalid_utf8(std::string_view s) noexcept;

} // namespace detail
} // namespace v1
} // namespace npio
