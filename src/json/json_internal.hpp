// Helpers shared by the sources of the JSON component (npio/json.hpp).
#pragma once

#include "../literal.hpp"

#include <cmath>
#include <cstdint>
#include <npio/error.hpp>
#include <npio/json.hpp>
#include <npio/text.hpp>
#include <string>
#include <string_view>

namespace npio {
inline namespace v1 {
namespace json {
namespace internal {

[[noreturn]] inline void fail(errc code, std::string detail) {
  throw error(code, std::move(detail));
}
[[noreturn]] inline void invalid(std::string detail) {
  fail(errc::invalid_argument, std::move(detail));
}

using npio::detail::append_utf8; // src/literal.hpp
bool valid_code_point(std::uint32_t cp) noexcept;
bool is_surrogate(std::uint32_t cp) noexcept;
/// Decodes one UTF-8 sequence at s[i]; false when malformed. With
/// `surrogates`, the 3-byte sequences of U+D800 to U+DFFF (WTF-8) are taken.
bool next_utf8(std::string_view s, std::size_t& i, std::uint32_t& cp,
               bool surrogates = false) noexcept;
/// A JSON string; lone surrogates as `\uXXXX`. Errors: invalid_argument.
void write_string(text_out& out, std::string_view s);

/// The JSON text of one element of `dt` at `p` (a NumPy scalar's value).
std::string element_text(const dtype& dt, const std::byte* p, const write_options& options);

/// The JSON of a float by the spec's rule: its float_repr, or a {"$float": ...} tag.
template <class T> std::string float_text(T v) {
  if constexpr (std::is_same_v<T, float16>) {
    const float f = static_cast<float>(v);
    if (!std::isfinite(f)) return float_text(f);
  } else {
    if (std::isnan(v)) return R"({"$float": "nan"})";
    if (std::isinf(v)) return v > 0 ? R"({"$float": "inf"})" : R"({"$float": "-inf"})";
  }
  return float_repr(v);
}

} // namespace internal
} // namespace json
} // namespace v1
} // namespace npio
