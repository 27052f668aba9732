// Typed arrays <-> tagged JSON (shared spec/json.md). See json_array.hpp.
#include "json_array.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <memory>
#include <unordered_set>

namespace npio_cli {

namespace {

[[noreturn]] void fail(npio::errc code, std::string detail) {
  throw npio::error(code, std::move(detail));
}
[[noreturn]] void invalid(std::string detail) {
  fail(npio::errc::invalid_argument, std::move(detail));
}

} // namespace

// ---- output ----------------------------------------------------------------

void text_out::flush() {
  if (!sink_ || buf_.empty()) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), sink_) != buf_.size() || std::fflush(sink_) != 0)
    throw npio::error(npio::errc::io_error,
                      std::string("cannot write the output: ") + std::strerror(errno), "<stdout>");
  buf_.clear();
}

// ---- floats ----------------------------------------------------------------

namespace {

// Formats significant digits (no leading zeros) and the decimal exponent of
// the first digit the way Python's repr(float) does: fixed notation when the
// decimal point falls within [-4, 16), else d.ddde+XX.
std::string repr_format(bool negative, std::string digits, int exp10) {
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  std::string out;
  if (negative) out += '-';
  const int n = static_cast<int>(digits.size());
  const int decpt = exp10 + 1;
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += 'e';
    out += exp10 < 0 ? '-' : '+';
    const int ae = exp10 < 0 ? -exp10 : exp10;
    if (ae < 10) out += '0';
    out += std::to_string(ae);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= n) {
    out += digits;
    out.append(static_cast<std::size_t>(decpt - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<std::size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<std::size_t>(decpt), std::string::npos);
  }
  return out;
}

struct sci_parts {
  bool negative = false;
  std::string digits;
  int exp10 = 0;
};

// Splits std::to_chars scientific output ("-1.25e+03") into its parts.
sci_parts split_scientific(std::string_view s) {
  sci_parts p;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') p.negative = true, ++i;
  for (; i < s.size() && s[i] != 'e'; ++i)
    if (s[i] != '.') p.digits += s[i];
  if (i < s.size()) {
    ++i;
    int sign = 1;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
    int e = 0;
    for (; i < s.size(); ++i)
      e = e * 10 + (s[i] - '0');
    p.exp10 = sign * e;
  }
  if (p.digits.empty()) p.digits = "0";
  return p;
}

constexpr std::string_view nan_json = R"({"$float": "nan"})";
constexpr std::string_view inf_json = R"({"$float": "inf"})";
constexpr std::string_view ninf_json = R"({"$float": "-inf"})";

template <class T> std::string format_ieee(T v) {
  if (std::isnan(v)) return std::string(nan_json);
  if (std::isinf(v)) return std::string(v > 0 ? inf_json : ninf_json);
  char buf[128];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  auto p = split_scientific(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  return repr_format(p.negative, std::move(p.digits), p.exp10);
}

} // namespace

std::string format_float(float v) {
  return format_ieee(v);
}
std::string format_float(double v) {
  return format_ieee(v);
}
std::string format_float(long double v) {
  return format_ieee(v);
}

double half_to_double(std::uint16_t bits) noexcept {
  const bool neg = (bits & 0x8000u) != 0;
  const int e = (bits >> 10) & 0x1f;
  const int m = bits & 0x3ff;
  double v;
  if (e == 0)
    v = std::ldexp(static_cast<double>(m), -24);
  else if (e == 31)
    v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(static_cast<double>(m + 1024), e - 25);
  return neg ? -v : v;
}

std::uint16_t double_to_half(double v) noexcept {
  const std::uint16_t sign = std::signbit(v) ? 0x8000u : 0u;
  if (std::isnan(v)) return static_cast<std::uint16_t>(sign | 0x7e00u);
  const double a = std::fabs(v);
  // 65520 is halfway between the largest half (65504) and 2^16: ties go to inf.
  if (a >= 65520.0) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (a < 0x1p-14) {
    // Subnormal: a multiple of 2^-24. Scaling is exact; nearbyint rounds to even.
    const auto q = static_cast<std::uint16_t>(std::nearbyint(a * 0x1p24));
    return static_cast<std::uint16_t>(sign | q); // q == 1024 is the smallest normal
  }
  int ex = 0;
  const double m = std::frexp(a, &ex);                             // a = m * 2^ex, m in [0.5, 1)
  auto q = static_cast<std::uint32_t>(std::nearbyint(m * 2048.0)); // 1024..2048
  int e = ex - 1;
  if (q == 2048) q = 1024, ++e;
  const int biased = e + 15;
  if (biased >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(biased) << 10) | (q - 1024));
}

std::string format_half(std::uint16_t bits) {
  const double v = half_to_double(bits);
  if (std::isnan(v)) return std::string(nan_json);
  if (std::isinf(v)) return std::string(v > 0 ? inf_json : ninf_json);
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  const bool neg = v < 0;
  const double a = std::fabs(v);
  // The shortest digit count whose best candidate reads back as the same half.
  // For each count p, the correctly rounded p-digit decimal and its two
  // neighbours are the only p-digit numbers that can be closest and round-trip.
  for (int p = 1; p <= 17; ++p) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific, p - 1);
    const auto parts =
        split_scientific(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    std::uint64_t m = 0;
    for (char c : parts.digits)
      m = m * 10 + static_cast<std::uint64_t>(c - '0');
    std::uint64_t lo = 1;
    for (int i = 1; i < p; ++i)
      lo *= 10;
    const std::uint64_t hi = lo * 10;
    bool found = false;
    std::uint64_t best = 0;
    double best_dist = 0;
    for (std::uint64_t c : {m, m - 1, m + 1}) {
      if (c < lo || c >= hi) continue;
      const std::string digits = std::to_string(c);
      const std::string text =
          digits.substr(0, 1) + "." + digits.substr(1) + "e" + std::to_string(parts.exp10);
      const double x = std::strtod(text.c_str(), nullptr);
      if (double_to_half(x) != (bits & 0x7fffu)) continue;
      const double dist = std::fabs(x - a);
      if (!found || dist < best_dist || (dist == best_dist && c % 2 == 0 && best % 2 != 0)) {
        found = true;
        best = c;
        best_dist = dist;
      }
    }
    if (found) return repr_format(neg, std::to_string(best), parts.exp10);
  }
  // Unreachable: 17 digits always identify a double, hence a half.
  return format_ieee(v);
}

// ---- base64 ----------------------------------------------------------------

namespace {
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
} // namespace

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += b64_alphabet[v >> 6 & 63];
    out += b64_alphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = at(i) << 16;
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += b64_alphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

std::vector<std::byte> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) invalid("base64 text length is not a multiple of 4");
  std::vector<std::byte> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) invalid("invalid base64 padding");
      v[k] = b64_value(c);
      if (v[k] < 0) invalid("invalid base64 character");
    }
    const std::uint32_t w =
        static_cast<std::uint32_t>(v[0]) << 18 | static_cast<std::uint32_t>(v[1]) << 12 |
        static_cast<std::uint32_t>(v[2]) << 6 | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<std::byte>(w >> 16 & 0xff));
    if (pad < 2) out.push_back(static_cast<std::byte>(w >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<std::byte>(w & 0xff));
    // Canonical form only: the bits dropped by padding must be zero.
    if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))) invalid("invalid base64 padding");
  }
  return out;
}

// ---- UTF-8 -----------------------------------------------------------------

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool valid_code_point(std::uint32_t cp) noexcept {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

bool is_surrogate(std::uint32_t cp) noexcept {
  return cp >= 0xD800 && cp <= 0xDFFF;
}

// Decodes one UTF-8 sequence at s[i]; returns false when malformed. With
// `surrogates`, the 3-byte sequences of U+D800 to U+DFFF (WTF-8) are taken:
// text elements may hold lone surrogates (json.md).
bool next_utf8(std::string_view s, std::size_t& i, std::uint32_t& cp,
               bool surrogates = false) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len;
  std::uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return false;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) return false;
    cp = cp << 6 | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (!surrogates && is_surrogate(cp))) return false;
  i += static_cast<std::size_t>(len);
  return true;
}

// s may hold lone surrogates (WTF-8: U arrays and Python strs can), written
// as `\\uXXXX`; json.loads gives the same str back.
void write_string(text_out& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.put('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t start = i;
      std::uint32_t cp;
      if (!next_utf8(s, i, cp, true)) invalid("a string is not valid UTF-8");
      if (is_surrogate(cp)) {
        out.put("\\u");
        for (int shift = 12; shift >= 0; shift -= 4)
          out.put(hex[(cp >> shift) & 15]);
      } else {
        out.put(s.substr(start, i - start));
      }
      continue;
    }
    ++i;
    switch (c) {
    case '"':
      out.put("\\\"");
      break;
    case '\\':
      out.put("\\\\");
      break;
    case '\n':
      out.put("\\n");
      break;
    case '\r':
      out.put("\\r");
      break;
    case '\t':
      out.put("\\t");
      break;
    case '\b':
      out.put("\\b");
      break;
    case '\f':
      out.put("\\f");
      break;
    default:
      if (c < 0x20) {
        out.put("\\u00");
        out.put(hex[c >> 4]);
        out.put(hex[c & 15]);
      } else {
        out.put(static_cast<char>(c));
      }
    }
  }
  out.put('"');
}

} // namespace

// ---- generic JSON writer ---------------------------------------------------

std::optional<std::string_view> big_int_digits(const json& j) {
  if (!j.is_binary()) return std::nullopt;
  const auto& b = j.get_binary();
  // Without a subtype too: json::binary(binary_t&&) drops it (it binds to the
  // container overload), so producers easily lose it.
  if ((b.has_subtype() && b.subtype() != big_int_subtype) || b.empty()) return std::nullopt;
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const std::size_t start = s[0] == '-' ? 1 : 0;
  if (start == s.size()) return std::nullopt;
  for (std::size_t k = start; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
  return s;
}

json big_int_json(std::string_view digits) {
  return json::binary(std::vector<std::uint8_t>(digits.begin(), digits.end()), big_int_subtype);
}

json raw_text_json(std::string_view text) {
  return json::binary(std::vector<std::uint8_t>(text.begin(), text.end()), raw_text_subtype);
}

namespace {
// Writes a scalar, or the opening bracket of a container (returning true).
bool write_open(text_out& out, const json& j) {
  switch (j.type()) {
  case json::value_t::null:
    out.put("null");
    return false;
  case json::value_t::boolean:
    out.put(j.get<bool>() ? "true" : "false");
    return false;
  case json::value_t::number_integer:
    out.put(std::to_string(j.get<std::int64_t>()));
    return false;
  case json::value_t::number_unsigned:
    out.put(std::to_string(j.get<std::uint64_t>()));
    return false;
  case json::value_t::number_float:
    out.put(format_float(j.get<double>()));
    return false;
  case json::value_t::string:
    write_string(out, j.get_ref<const std::string&>());
    return false;
  case json::value_t::array:
    out.put('[');
    return true;
  case json::value_t::object:
    out.put('{');
    return true;
  case json::value_t::binary:
    if (const auto digits = big_int_digits(j)) {
      out.put(*digits);
      return false;
    }
    if (j.get_binary().has_subtype() && j.get_binary().subtype() == raw_text_subtype) {
      const auto& b = j.get_binary();
      out.put(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
      return false;
    }
    invalid("a JSON value holds binary data");
  case json::value_t::discarded:
    break;
  }
  invalid("a JSON value is discarded");
}
} // namespace

void write_json(text_out& out, const json& j) {
  struct frame {
    const json* node;
    std::size_t next;
  };
  std::vector<frame> stack;
  if (write_open(out, j)) stack.push_back({&j, 0});
  while (!stack.empty()) {
    const std::size_t top = stack.size() - 1;
    const json& node = *stack[top].node;
    const std::size_t k = stack[top].next;
    const json* child;
    if (node.is_array()) {
      const auto& arr = node.get_ref<const json::array_t&>();
      if (k == arr.size()) {
        out.put(']');
        stack.pop_back();
        continue;
      }
      if (k) out.put(", ");
      child = &arr[k];
    } else {
      const auto& obj = node.get_ref<const json::object_t&>();
      if (k == obj.size()) {
        out.put('}');
        stack.pop_back();
        continue;
      }
      if (k) out.put(", ");
      const auto& kv = *(obj.begin() + static_cast<std::ptrdiff_t>(k));
      write_string(out, kv.first);
      out.put(": ");
      child = &kv.second;
    }
    stack[top].next = k + 1;
    if (write_open(out, *child)) stack.push_back({child, 0});
    out.maybe_flush();
  }
}

std::string dump_json(const json& j) {
  text_out out;
  write_json(out, j);
  return std::move(out.str());
}

// ---- descr <-> JSON --------------------------------------------------------

namespace {

// Reads the Python literal dtype::descr() renders: str, int, tuple, list.
class py_literal {
public:
  explicit py_literal(std::string_view s) : s_(s) {}
  json parse() {
    json v = value(0);
    ws();
    if (i_ != s_.size()) bad();
    return v;
  }

private:
  [[noreturn]] void bad() {
    fail(npio::errc::bad_descr, "cannot read the dtype's descr " + std::string(s_));
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t'))
      ++i_;
  }
  json value(int depth) {
    if (depth > 200) bad();
    ws();
    if (i_ >= s_.size()) bad();
    const char c = s_[i_];
    if (c == '\'' || c == '"') return str();
    if ((c == 'u' || c == 'U') && i_ + 1 < s_.size() && (s_[i_ + 1] == '\'' || s_[i_ + 1] == '"')) {
      ++i_;
      return str();
    }
    if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      ++i_;
      json arr = json::array();
      for (;;) {
        ws();
        if (i_ < s_.size() && s_[i_] == close) {
          ++i_;
          return arr;
        }
        arr.push_back(value(depth + 1));
        ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == close) {
          ++i_;
          return arr;
        }
        bad();
      }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const std::size_t start = i_;
      if (c == '-') ++i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      std::int64_t v = 0;
      const auto r = std::from_chars(s_.data() + start, s_.data() + i_, v);
      if (r.ec != std::errc() || r.ptr != s_.data() + i_) bad();
      if (i_ < s_.size() && (s_[i_] == 'L' || s_[i_] == 'l')) ++i_;
      return v;
    }
    bad();
  }
  std::uint32_t hex(std::size_t n) {
    if (i_ + n > s_.size()) bad();
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char h = s_[i_++];
      int d;
      if (h >= '0' && h <= '9')
        d = h - '0';
      else if (h >= 'a' && h <= 'f')
        d = h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        d = h - 'A' + 10;
      else
        bad();
      v = v << 4 | static_cast<std::uint32_t>(d);
    }
    return v;
  }
  json str() {
    const char q = s_[i_++];
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) bad();
      const char c = s_[i_++];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) bad();
      const char e = s_[i_++];
      switch (e) {
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\n':
        break;
      case 'x':
        append_utf8(out, hex(2));
        break;
      case 'u':
        append_utf8(out, hex(4));
        break;
      case 'U': {
        const std::uint32_t cp = hex(8);
        if (!valid_code_point(cp)) bad();
        append_utf8(out, cp);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          std::uint32_t v = static_cast<std::uint32_t>(e - '0');
          for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k)
            v = v * 8 + static_cast<std::uint32_t>(s_[i_++] - '0');
          append_utf8(out, v);
        } else {
          out += '\\';
          out += e;
        }
      }
    }
    return out;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::string py_quote(const std::string& s) {
  static constexpr char hexd[] = "0123456789abcdef";
  std::string out = "'";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hexd[c >> 4];
      out += hexd[c & 15];
    } else {
      out += ch;
    }
  }
  out += '\'';
  return out;
}

std::string shape_py(const json& j) {
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  if (!j.is_array()) invalid("a subarray shape must be a list of integers");
  std::string out = "(";
  for (std::size_t k = 0; k < j.size(); ++k) {
    if (!j[k].is_number_integer()) invalid("a subarray shape must be a list of integers");
    if (k) out += ", ";
    out += j[k].is_number_unsigned() ? std::to_string(j[k].get<std::uint64_t>())
                                     : std::to_string(j[k].get<std::int64_t>());
  }
  if (j.size() == 1) out += ',';
  return out + ")";
}

std::string descr_py(const json& j, int depth) {
  if (depth > static_cast<int>(npio::max_dtype_depth) + 2)
    fail(npio::errc::limit_exceeded, "dtype nesting is too deep");
  if (j.is_string()) return py_quote(j.get_ref<const std::string&>());
  if (!j.is_array()) invalid("a dtype must be a string or a list");
  // A subarray (TYPE, SHAPE): ["<f8", [2, 3]], or with a struct or another
  // subarray as TYPE. A struct's entries are lists starting with a name, so
  // a list of integers in second place is a shape.
  const auto is_shape = [](const json& s) {
    return s.is_number_integer() ||
           (s.is_array() &&
            std::all_of(s.begin(), s.end(), [](const json& d) { return d.is_number_integer(); }));
  };
  if (j.size() == 2 && (j[0].is_string() || j[0].is_array()) && is_shape(j[1]))
    return fmt::format("({}, {})", descr_py(j[0], depth + 1), shape_py(j[1]));
  std::string out = "[";
  for (std::size_t k = 0; k < j.size(); ++k) {
    const json& f = j[k];
    if (!f.is_array() || f.size() < 2 || f.size() > 3)
      invalid("a structured dtype field must be [name, type] or [name, type, shape]");
    if (k) out += ", ";
    out += '(';
    if (f[0].is_string()) {
      out += py_quote(f[0].get_ref<const std::string&>());
    } else if (f[0].is_array() && f[0].size() == 2 && f[0][0].is_string() && f[0][1].is_string()) {
      out += fmt::format("({}, {})", py_quote(f[0][0].get_ref<const std::string&>()),
                         py_quote(f[0][1].get_ref<const std::string&>()));
    } else {
      invalid("a field name must be a string or [title, name]");
    }
    out += ", ";
    out += descr_py(f[1], depth + 1);
    if (f.size() == 3) {
      out += ", ";
      out += shape_py(f[2]);
    }
    out += ')';
  }
  return out + "]";
}

} // namespace

json dtype_to_json(const npio::dtype& dt) {
  return py_literal(dt.descr()).parse();
}

npio::dtype dtype_from_json(const json& j) {
  return npio::dtype::from_descr(descr_py(j, 0));
}

// ---- elements: array -> JSON text ------------------------------------------

namespace {

bool swapped(const npio::dtype& dt) noexcept {
  const auto o = dt.order();
  return o != npio::byte_order::none && o != npio::native_order();
}

void copy_swapped(void* dst, const std::byte* src, std::size_t n, bool swap) noexcept {
  auto* d = static_cast<std::byte*>(dst);
  if (swap)
    for (std::size_t k = 0; k < n; ++k)
      d[k] = src[n - 1 - k];
  else
    std::memcpy(d, src, n);
}

template <class T> T load(const std::byte* p, bool swap) noexcept {
  T v;
  copy_swapped(&v, p, sizeof(T), swap);
  return v;
}

template <class T> void store(std::byte* p, T v, bool swap) noexcept {
  std::byte tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  copy_swapped(p, tmp, sizeof(T), swap);
}

constexpr bool have_x87_long_double =
    sizeof(long double) == 16 && std::numeric_limits<long double>::digits == 64;

long double load_long_double(const std::byte* p, bool swap) noexcept {
  long double v = 0;
  copy_swapped(&v, p, 16, swap);
  return v;
}

void store_long_double(std::byte* p, long double v, bool swap) noexcept {
  std::byte tmp[16] = {};
  std::memcpy(tmp, &v, 10); // the 80-bit value; the 6 padding bytes stay zero
  copy_swapped(p, tmp, 16, swap);
}

[[noreturn]] void unsupported_float(const npio::dtype& dt) {
  fail(npio::errc::unsupported, "floats of " + std::to_string(dt.itemsize()) + " bytes (" +
                                    dt.str() + ") are not supported on this machine");
}

std::string float_text(const std::byte* p, std::size_t size, bool swap, const npio::dtype& dt) {
  switch (size) {
  case 2:
    return format_half(load<std::uint16_t>(p, swap));
  case 4:
    return format_float(load<float>(p, swap));
  case 8:
    return format_float(load<double>(p, swap));
  case 16:
    if constexpr (have_x87_long_double) return format_float(load_long_double(p, swap));
    [[fallthrough]];
  default:
    unsupported_float(dt);
  }
}

struct element_writer {
  text_out& out;
  const npio::array& arr;

  void nested(const npio::dtype& base, const std::vector<std::int64_t>& shape, std::size_t dim,
              const std::byte* p) {
    if (dim == shape.size()) return element(base, p);
    std::size_t stride = base.itemsize();
    for (std::size_t k = dim + 1; k < shape.size(); ++k)
      stride *= static_cast<std::size_t>(shape[k]);
    out.put('[');
    for (std::int64_t i = 0; i < shape[dim]; ++i) {
      if (i) out.put(", ");
      nested(base, shape, dim + 1, p + static_cast<std::size_t>(i) * stride);
    }
    out.put(']');
  }

  void element(const npio::dtype& dt, const std::byte* p) {
    if (dt.is_subarray()) return nested(dt.base(), dt.shape(), 0, p);
    if (dt.is_structured()) {
      out.put('[');
      bool first = true;
      for (const auto& f : dt.fields()) {
        if (!first) out.put(", ");
        first = false;
        element(f.type, p + f.offset);
      }
      out.put(']');
      return;
    }
    const bool sw = swapped(dt);
    const std::size_t n = dt.itemsize();
    switch (dt.kind()) {
    case 'b':
      out.put(*p != std::byte{0} ? "true" : "false");
      return;
    case 'i':
      switch (n) {
      case 1:
        out.put(std::to_string(load<std::int8_t>(p, sw)));
        return;
      case 2:
        out.put(std::to_string(load<std::int16_t>(p, sw)));
        return;
      case 4:
        out.put(std::to_string(load<std::int32_t>(p, sw)));
        return;
      case 8:
        out.put(std::to_string(load<std::int64_t>(p, sw)));
        return;
      }
      break;
    case 'u':
      switch (n) {
      case 1:
        out.put(std::to_string(load<std::uint8_t>(p, sw)));
        return;
      case 2:
        out.put(std::to_string(load<std::uint16_t>(p, sw)));
        return;
      case 4:
        out.put(std::to_string(load<std::uint32_t>(p, sw)));
        return;
      case 8:
        out.put(std::to_string(load<std::uint64_t>(p, sw)));
        return;
      }
      break;
    case 'f':
      out.put(float_text(p, n, sw, dt));
      return;
    case 'c':
      out.put(R"({"$complex": [)");
      out.put(float_text(p, n / 2, sw, dt));
      out.put(", ");
      out.put(float_text(p + n / 2, n / 2, sw, dt));
      out.put("]}");
      return;
    case 'S': {
      std::size_t len = n;
      while (len > 0 && p[len - 1] == std::byte{0})
        --len;
      out.put(R"({"$bytes": ")");
      out.put(base64_encode({p, len}));
      out.put("\"}");
      return;
    }
    case 'V':
      out.put(R"({"$bytes": ")");
      out.put(base64_encode({p, n}));
      out.put("\"}");
      return;
    case 'U': {
      std::size_t count = n / 4;
      while (count > 0 && load<std::uint32_t>(p + (count - 1) * 4, sw) == 0)
        --count;
      std::string s;
      s.reserve(count);
      for (std::size_t k = 0; k < count; ++k) {
        const auto cp = load<std::uint32_t>(p + k * 4, sw);
        if (cp > 0x10FFFF) {
          char hexbuf[16];
          std::snprintf(hexbuf, sizeof hexbuf, "%X", cp);
          invalid(std::string("a text element holds an invalid code point U+") + hexbuf);
        }
        append_utf8(s, cp);
      }
      write_string(out, s);
      return;
    }
    case 'M':
    case 'm': {
      const auto v = load<std::int64_t>(p, sw);
      out.put(v == std::numeric_limits<std::int64_t>::min() ? std::string("null")
                                                            : std::to_string(v));
      return;
    }
    case 'O':
      write_json(out, object_element_to_json(arr, p));
      return;
    }
    fail(npio::errc::unsupported, "cannot write elements of dtype " + dt.str() + " as JSON");
  }

  void dims(std::size_t dim, std::int64_t offset) {
    const auto& shape = arr.shape();
    if (dim == shape.size()) {
      element(arr.dtype(), arr.data() + offset);
      out.maybe_flush();
      return;
    }
    out.put('[');
    const std::int64_t stride = arr.strides()[dim];
    for (std::int64_t i = 0; i < shape[dim]; ++i) {
      if (i) out.put(", ");
      dims(dim + 1, offset + i * stride);
    }
    out.put(']');
  }
};

} // namespace

void write_array_data(text_out& out, const npio::array& a) {
  element_writer w{out, a};
  if (a.size() == 0) {
    // No element exists: write the empty nesting without touching memory.
    // Recursion depth is at most ndim (<= max_ndim); it stops at the first 0.
    struct rec {
      static void go(text_out& o, const npio::shape_t& s, std::size_t d) {
        o.put('[');
        for (std::int64_t i = 0; i < s[d]; ++i) {
          if (i) o.put(", ");
          go(o, s, d + 1);
        }
        o.put(']');
      }
    };
    rec::go(out, a.shape(), 0);
    return;
  }
  w.dims(0, 0);
}

void write_npy_document(text_out& out, const npio::array& a, bool fortran_order) {
  out.put(R"({"dtype": )");
  write_json(out, dtype_to_json(a.dtype()));
  out.put(R"(, "shape": [)");
  for (std::size_t k = 0; k < a.shape().size(); ++k) {
    if (k) out.put(", ");
    out.put(std::to_string(a.shape()[k]));
  }
  out.put(R"(], "fortran_order": )");
  out.put(fortran_order ? "true" : "false");
  out.put(R"(, "data": )");
  write_array_data(out, a);
  out.put('}');
}

json array_data_to_json(const npio::array& a) {
  text_out out;
  write_array_data(out, a);
  // Long doubles beyond double's range become +-inf here (see the header).
  return std::move(*parse_json(out.str()).root);
}

// ---- parsing JSON with number texts ----------------------------------------

namespace {

// Parsing with long double numbers lets values beyond double's range (x87
// long doubles reach 1.19e4932) through nlohmann's overflow check; the tree
// itself holds doubles, and the exact text is kept beside it.
using json_ld = nlohmann::basic_json<nlohmann::ordered_map, std::vector, std::string, bool,
                                     std::int64_t, std::uint64_t, long double>;

// nlohmann's lexer refuses the `\\uXXXX` escape of a lone surrogate, which
// json.md allows in text elements. mark_surrogates rewrites the text (when
// it holds one) so that such an escape becomes the noncharacter U+FDD0 then
// U+E000 + (XXXX - 0xD800), and a real U+FDD0 in a string becomes U+FDD0
// twice; unmark_surrogates undoes it on each string, leaving the surrogate
// as its 3-byte (WTF-8) sequence.
constexpr std::uint32_t surrogate_mark = 0xFDD0;
constexpr std::string_view surrogate_mark_utf8 = "\xEF\xB7\x90";

bool hex4(std::string_view t, std::size_t at, std::uint32_t& v) noexcept {
  if (at + 4 > t.size()) return false;
  v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const char c = t[at + k];
    std::uint32_t d;
    if (c >= '0' && c <= '9')
      d = static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    else
      return false;
    v = v << 4 | d;
  }
  return true;
}

std::optional<std::string> mark_surrogates(std::string_view t) {
  bool maybe = false; // fast path: no escape that could be a surrogate
  for (std::size_t i = t.find("\\u"); i != std::string_view::npos && !maybe;
       i = t.find("\\u", i + 2)) {
    std::uint32_t v;
    maybe = hex4(t, i + 2, v) && is_surrogate(v);
  }
  if (!maybe) return std::nullopt;
  std::string out;
  out.reserve(t.size() + 64);
  const auto escape = [&out](std::uint32_t v) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4)
      out += hex[(v >> shift) & 15];
  };
  bool in_string = false, lone = false;
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '"') {
      in_string = !in_string;
    } else if (in_string && c == '\\' && i + 1 < t.size()) {
      std::uint32_t v, w;
      if (t[i + 1] == 'u' && hex4(t, i + 2, v)) {
        if (v >= 0xD800 && v <= 0xDBFF && t.substr(i + 6, 2) == "\\u" && hex4(t, i + 8, w) &&
            w >= 0xDC00 && w <= 0xDFFF) { // a pair: one code point
          out.append(t.substr(i, 12));
          i += 12;
          continue;
        }
        if (is_surrogate(v) || v == surrogate_mark) {
          lone = lone || v != surrogate_mark;
          escape(surrogate_mark);
          escape(v == surrogate_mark ? v : 0xE000 + (v - 0xD800));
          i += 6;
          continue;
        }
      }
      out.append(t.substr(i, 2));
      i += 2;
      continue;
    } else if (in_string && t.substr(i, 3) == surrogate_mark_utf8) {
      escape(surrogate_mark);
      escape(surrogate_mark);
      i += 3;
      continue;
    }
    out += c;
    ++i;
  }
  if (!lone) return std::nullopt;
  return out;
}

void unmark_surrogates(std::string& s) {
  if (s.find(surrogate_mark_utf8) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, surrogate_mark_utf8) == 0 && i + 6 <= s.size()) {
      std::size_t j = i + 3;
      std::uint32_t cp = 0;
      if (!next_utf8(s, j, cp)) cp = 0;
      if (cp >= 0xE000 && cp < 0xE800) {
        append_utf8(out, 0xD800 + (cp - 0xE000));
        i = j;
        continue;
      }
      if (cp == surrogate_mark) {
        out.append(surrogate_mark_utf8);
        i = j;
        continue;
      }
    }
    out += s[i++];
  }
  s = std::move(out);
}

class sax_builder {
public:
  explicit sax_builder(json& root) : root_(root) {}

  bool null() { return add(nullptr), true; }
  bool boolean(bool b) { return add(b), true; }
  bool number_integer(std::int64_t v) { return add(v), true; }
  bool number_unsigned(std::uint64_t v) { return add(v), true; }
  bool number_float(long double, const std::string& text) {
    if (text.find_first_of(".eE") == std::string::npos) {
      // An integer beyond 64 bits: kept exactly, as a big-int node.
      add(big_int_json(text));
      return true;
    }
    // The tree holds the double nearest to the text (+-inf outside double's
    // range), read directly: rounding through long double could be off by one.
    const double d = std::strtod(text.c_str(), nullptr);
    add(d);
    // Only texts that the double does not print back as are kept: npio's own
    // output for float64/float32/float16 never needs them, long doubles do.
    if (format_float(d) != text) float_texts.emplace_back(float_count, text);
    ++float_count;
    return true;
  }
  bool string(std::string& s) {
    if (unmark) unmark_surrogates(s);
    return add(std::move(s)), true;
  }
  bool binary(json_ld::binary_t& b) { return add(json::binary(std::move(b))), true; }
  bool start_object(std::size_t) {
    stack_.push_back(add(json::object()));
    keys_.emplace_back();
    return true;
  }
  bool key(std::string& k) {
    if (unmark) unmark_surrogates(k);
    auto& obj = stack_.back()->get_ref<json::object_t&>();
    auto& seen = keys_.back();
    if (!seen && obj.size() >= 16) {
      seen = std::make_unique<std::unordered_set<std::string>>();
      for (const auto& kv : obj)
        seen->insert(kv.first);
    }
    bool dup;
    if (seen)
      dup = !seen->insert(k).second;
    else
      dup = std::any_of(obj.begin(), obj.end(), [&](const auto& kv) { return kv.first == k; });
    if (dup) {
      error = "duplicate key \"" + k + "\"";
      return false;
    }
    obj.emplace_back(k, nullptr);
    slot_ = &obj.back().second;
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    stack_.push_back(add(json::array()));
    keys_.emplace_back();
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    if (const auto pos = what.find("] ");
        what.starts_with("[json.exception") && pos != std::string::npos)
      what.erase(0, pos + 2);
    error = what;
    return false;
  }

  // (ordinal among the document's float tokens, text) for the texts kept.
  std::vector<std::pair<std::size_t, std::string>> float_texts;
  std::size_t float_count = 0;
  std::string error;
  bool unmark = false; // the text went through mark_surrogates

private:
  template <class V> json* add(V&& v) {
    if (stack_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    json* top = stack_.back();
    if (top->is_array()) {
      auto& arr = top->get_ref<json::array_t&>();
      arr.emplace_back(std::forward<V>(v));
      return &arr.back();
    }
    *slot_ = json(std::forward<V>(v));
    return slot_;
  }

  json& root_;
  std::vector<json*> stack_;
  std::vector<std::unique_ptr<std::unordered_set<std::string>>> keys_;
  json* slot_ = nullptr;
};

} // namespace

parsed_json parse_json(std::string_view text) {
  parsed_json out;
  sax_builder b(*out.root);
  const auto marked = mark_surrogates(text);
  if (marked) {
    b.unmark = true;
    text = *marked;
  }
  const bool ok = json_ld::sax_parse(text.begin(), text.end(), &b);
  if (!ok) invalid("invalid JSON: " + (b.error.empty() ? std::string("parse error") : b.error));
  // Number tokens arrive in document order, which is the tree's depth-first
  // order (object keys keep their order and are unique): pair them up.
  std::size_t next = 0, ordinal = 0;
  if (b.float_texts.empty()) return out;
  out.numbers.reserve(b.float_texts.size());
  std::vector<const json*> stack{out.root.get()};
  while (!stack.empty()) {
    const json* j = stack.back();
    stack.pop_back();
    if (j->is_number_float()) {
      if (next < b.float_texts.size() && b.float_texts[next].first == ordinal)
        out.numbers.emplace(j, std::move(b.float_texts[next++].second));
      ++ordinal;
    } else if (j->is_array()) {
      const auto& arr = j->get_ref<const json::array_t&>();
      for (auto it = arr.rbegin(); it != arr.rend(); ++it)
        stack.push_back(&*it);
    } else if (j->is_object()) {
      const auto& obj = j->get_ref<const json::object_t&>();
      for (auto it = obj.rbegin(); it != obj.rend(); ++it)
        stack.push_back(&it->second);
    }
  }
  return out;
}

// ---- elements: JSON -> array ------------------------------------------------

namespace {

const json* tagged(const json& j, const char* tag) {
  if (!j.is_object() || j.size() != 1) return nullptr;
  const auto it = j.find(tag);
  return it == j.end() ? nullptr : &*it;
}

const char* type_name(const json& j) {
  switch (j.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::boolean:
    return "a boolean";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return "an integer";
  case json::value_t::number_float:
    return "a float";
  case json::value_t::binary:
    return big_int_digits(j) ? "an integer beyond 64 bits" : "binary data";
  case json::value_t::string:
    return "a string";
  case json::value_t::array:
    return "a list";
  case json::value_t::object:
    return "an object";
  default:
    return "a value";
  }
}

struct element_reader {
  npio::array& arr;
  const number_texts* texts;
  // Where we are, for messages: the array index, then subarray indices
  // (name null) and field names inside the element.
  const std::vector<std::int64_t>* index = nullptr;
  struct step {
    const std::string* name;
    std::int64_t i;
  };
  std::vector<step> path;

  [[noreturn]] void bad(const std::string& what) const {
    std::string where = "data";
    if (index)
      for (auto i : *index)
        where += fmt::format("[{}]", i);
    for (const auto& p : path)
      where += p.name ? fmt::format(".{}", *p.name) : fmt::format("[{}]", p.i);
    invalid(fmt::format("{}: {}", where, what));
  }

  std::string number_text(const json& j) const {
    if (j.is_number_float()) {
      if (texts && !texts->empty()) {
        const auto it = texts->find(&j);
        if (it != texts->end()) return it->second;
      }
      return format_float(j.get<double>());
    }
    if (j.is_number_unsigned()) return std::to_string(j.get<std::uint64_t>());
    return std::to_string(j.get<std::int64_t>());
  }

  // A float value as decimal text, or "nan"/"inf"/"-inf".
  std::string float_source(const json& j, const npio::dtype& dt) const {
    if (j.is_number()) return number_text(j);
    if (const auto digits = big_int_digits(j)) return std::string(*digits);
    if (const json* t = tagged(j, "$float"); t && t->is_string()) {
      const auto& s = t->get_ref<const std::string&>();
      if (s == "nan" || s == "inf" || s == "-inf") return s;
      bad("unknown $float value \"" + s + "\"");
    }
    bad(std::string("expected a number for ") + dt.str() + ", got " + type_name(j));
  }

  template <class T> T parse_real(const std::string& s, T (*conv)(const char*, char**)) const {
    if (s == "nan") return std::numeric_limits<T>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<T>::infinity();
    if (s == "-inf") return -std::numeric_limits<T>::infinity();
    errno = 0;
    char* end = nullptr;
    const T v = conv(s.c_str(), &end);
    if (end != s.c_str() + s.size()) bad("cannot read the number " + s);
    if (errno == ERANGE && std::isinf(v)) bad("the number " + s + " is out of range");
    return v;
  }

  void put_float(std::byte* p, std::size_t size, bool sw, const npio::dtype& dt, const json& j) {
    const std::string s = float_source(j, dt);
    switch (size) {
    case 2: {
      const double v = parse_real<double>(s, std::strtod);
      const std::uint16_t h = double_to_half(v);
      if ((h & 0x7fffu) == 0x7c00u && !std::isinf(v))
        bad("the number " + s + " is out of range for float16");
      store(p, h, sw);
      return;
    }
    case 4:
      store(p, parse_real<float>(s, std::strtof), sw);
      return;
    case 8:
      store(p, parse_real<double>(s, std::strtod), sw);
      return;
    case 16:
      if constexpr (have_x87_long_double) {
        store_long_double(p, parse_real<long double>(s, std::strtold), sw);
        return;
      }
      [[fallthrough]];
    default:
      unsupported_float(dt);
    }
  }

  template <class T> void put_int(std::byte* p, bool sw, const npio::dtype& dt, const json& j) {
    if (const auto digits = big_int_digits(j))
      bad(std::string(*digits) + " is out of range for " + dt.str());
    if (!j.is_number_integer())
      bad(std::string("expected an integer for ") + dt.str() + ", got " + type_name(j));
    T v;
    if (j.is_number_unsigned()) {
      const auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        bad(std::to_string(u) + " is out of range for " + dt.str());
      v = static_cast<T>(u);
    } else {
      const auto s = j.get<std::int64_t>();
      if (s < 0 && !std::numeric_limits<T>::is_signed)
        bad(std::to_string(s) + " is out of range for " + dt.str());
      if constexpr (std::numeric_limits<T>::is_signed) {
        if (s < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            s > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
          bad(std::to_string(s) + " is out of range for " + dt.str());
      } else if (static_cast<std::uint64_t>(s) >
                 static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
        bad(std::to_string(s) + " is out of range for " + dt.str());
      }
      v = static_cast<T>(s);
    }
    store(p, v, sw);
  }

  std::vector<std::byte> bytes_value(const json& j, const npio::dtype& dt) const {
    const json* t = tagged(j, "$bytes");
    if (!t || !t->is_string())
      bad(std::string("expected {\"$bytes\": BASE64} for ") + dt.str() + ", got " + type_name(j));
    try {
      auto b = base64_decode(t->get_ref<const std::string&>());
      if (b.size() > dt.itemsize())
        bad(std::to_string(b.size()) + " bytes do not fit in " + dt.str());
      return b;
    } catch (const npio::error& e) {
      if (e.detail().starts_with("data")) throw;
      bad(e.detail());
    }
  }

  void nested(const npio::dtype& base, const std::vector<std::int64_t>& shape, std::size_t dim,
              std::byte* p, const json& j) {
    if (dim == shape.size()) return element(base, p, j);
    if (!j.is_array() || j.size() != static_cast<std::size_t>(shape[dim]))
      bad("expected a list of " + std::to_string(shape[dim]) + " for a subarray, got " +
          (j.is_array() ? "a list of " + std::to_string(j.size()) : std::string(type_name(j))));
    std::size_t stride = base.itemsize();
    for (std::size_t k = dim + 1; k < shape.size(); ++k)
      stride *= static_cast<std::size_t>(shape[k]);
    for (std::int64_t i = 0; i < shape[dim]; ++i) {
      path.push_back({nullptr, i});
      nested(base, shape, dim + 1, p + static_cast<std::size_t>(i) * stride,
             j[static_cast<std::size_t>(i)]);
      path.pop_back();
    }
  }

  void element(const npio::dtype& dt, std::byte* p, const json& j) {
    if (dt.is_subarray()) return nested(dt.base(), dt.shape(), 0, p, j);
    if (dt.is_structured()) {
      const std::size_t named = dt.fields().size();
      if (!j.is_array() || j.size() != named)
        bad("expected a list of " + std::to_string(named) + " field values, got " +
            (j.is_array() ? "a list of " + std::to_string(j.size()) : std::string(type_name(j))));
      std::size_t k = 0;
      for (const auto& f : dt.fields()) {
        path.push_back({&f.name, 0});
        element(f.type, p + f.offset, j[k++]);
        path.pop_back();
      }
      return;
    }
    const bool sw = swapped(dt);
    const std::size_t n = dt.itemsize();
    switch (dt.kind()) {
    case 'b':
      if (!j.is_boolean()) bad(std::string("expected true or false, got ") + type_name(j));
      *p = std::byte{j.get<bool>() ? std::uint8_t{1} : std::uint8_t{0}};
      return;
    case 'i':
      switch (n) {
      case 1:
        return put_int<std::int8_t>(p, sw, dt, j);
      case 2:
        return put_int<std::int16_t>(p, sw, dt, j);
      case 4:
        return put_int<std::int32_t>(p, sw, dt, j);
      case 8:
        return put_int<std::int64_t>(p, sw, dt, j);
      }
      break;
    case 'u':
      switch (n) {
      case 1:
        return put_int<std::uint8_t>(p, sw, dt, j);
      case 2:
        return put_int<std::uint16_t>(p, sw, dt, j);
      case 4:
        return put_int<std::uint32_t>(p, sw, dt, j);
      case 8:
        return put_int<std::uint64_t>(p, sw, dt, j);
      }
      break;
    case 'f':
      return put_float(p, n, sw, dt, j);
    case 'c': {
      const json* t = tagged(j, "$complex");
      if (!t || !t->is_array() || t->size() != 2)
        bad(std::string("expected {\"$complex\": [RE, IM]} for ") + dt.str() + ", got " +
            type_name(j));
      put_float(p, n / 2, sw, dt, (*t)[0]);
      put_float(p + n / 2, n / 2, sw, dt, (*t)[1]);
      return;
    }
    case 'S':
    case 'V': {
      const auto b = bytes_value(j, dt);
      if (!b.empty()) std::memcpy(p, b.data(), b.size());
      return;
    }
    case 'U': {
      if (!j.is_string())
        bad(std::string("expected a string for ") + dt.str() + ", got " + type_name(j));
      const auto& s = j.get_ref<const std::string&>();
      std::size_t i = 0, k = 0;
      while (i < s.size()) {
        std::uint32_t cp;
        if (!next_utf8(s, i, cp, true)) bad("the string is not valid UTF-8");
        if (k == n / 4) bad("the string has more than " + std::to_string(n / 4) + " characters");
        store(p + 4 * k++, cp, sw);
      }
      return;
    }
    case 'M':
    case 'm':
      if (j.is_null()) return store(p, std::numeric_limits<std::int64_t>::min(), sw);
      return put_int<std::int64_t>(p, sw, dt, j);
    case 'O':
      return object_element_from_json(j, arr, p);
    }
    fail(npio::errc::unsupported, "cannot read elements of dtype " + dt.str() + " from JSON");
  }
};

// Checks that `data` nests exactly as `shape` says, before anything is allocated.
void check_nesting(const json& data, const npio::shape_t& shape) {
  if (shape.empty()) return; // 0-d: the data is the bare element
  struct item {
    const json* j;
    std::size_t dim;
  };
  std::vector<item> stack{{&data, 0}};
  while (!stack.empty()) {
    const item it = stack.back();
    stack.pop_back();
    const auto want = static_cast<std::uint64_t>(shape[it.dim]);
    if (!it.j->is_array() || it.j->size() != want)
      invalid("data: axis " + std::to_string(it.dim) + " needs a list of " + std::to_string(want) +
              ", got " +
              (it.j->is_array() ? "a list of " + std::to_string(it.j->size())
                                : std::string(type_name(*it.j))));
    if (it.dim + 1 < shape.size()) // elements themselves are checked when read
      for (const auto& c : *it.j)
        stack.push_back({&c, it.dim + 1});
  }
}

} // namespace

npio::array array_from_json(const npio::dtype& dtype_in, const npio::shape_t& shape_in,
                            bool fortran_order, const json& data, const number_texts* texts) {
  // A subarray dtype at the top level adds its dimensions to the array's, as
  // NumPy does; the nested lists of the data are the same either way.
  npio::dtype dt = dtype_in;
  npio::shape_t shape = shape_in;
  for (std::size_t guard = 0; dt.is_subarray() && guard < npio::max_dtype_depth; ++guard) {
    shape.insert(shape.end(), dt.shape().begin(), dt.shape().end());
    dt = dt.base();
  }
  if (shape.size() > npio::max_ndim)
    fail(npio::errc::bad_shape, "more than " + std::to_string(npio::max_ndim) + " dimensions");
  for (auto d : shape)
    if (d < 0) fail(npio::errc::bad_shape, "negative dimensions are not allowed");
  check_nesting(data, shape);
  npio::array a(dt, shape, fortran_order ? npio::order::f : npio::order::c);
  std::vector<std::int64_t> idx(shape.size(), 0);
  element_reader r{a, texts, &idx, {}};
  if (a.size() == 0) return a;
  std::byte* base = a.mutable_data();
  const auto& strides = a.strides();
  // Walk the indices in C order (an odometer), descending the nested lists.
  for (;;) {
    const json* j = &data;
    std::int64_t off = 0;
    for (std::size_t k = 0; k < shape.size(); ++k) {
      j = &(*j)[static_cast<std::size_t>(idx[k])];
      off += idx[k] * strides[k];
    }
    r.element(dt, base + off, *j);
    std::size_t k = shape.size();
    while (k > 0 && ++idx[k - 1] == shape[k - 1])
      idx[--k] = 0;
    if (k == 0) break;
  }
  return a;
}

npio::array npy_document_from_json(const json& doc, const number_texts* texts,
                                   bool& fortran_order) {
  if (!doc.is_object()) invalid("a .npy document must be a JSON object");
  for (const auto& kv : doc.items())
    if (kv.key() != "dtype" && kv.key() != "shape" && kv.key() != "fortran_order" &&
        kv.key() != "data")
      invalid("unknown key \"" + kv.key() + "\" in a .npy document");
  for (const char* k : {"dtype", "shape", "data"})
    if (!doc.contains(k)) invalid(std::string("a .npy document needs \"") + k + "\"");
  const npio::dtype dt = dtype_from_json(doc["dtype"]);
  const json& js = doc["shape"];
  if (!js.is_array()) invalid("shape must be a list of non-negative integers");
  npio::shape_t shape;
  for (const auto& d : js) {
    if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<std::int64_t>() < 0) ||
        (d.is_number_unsigned() &&
         d.get<std::uint64_t>() >
             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())))
      invalid("shape must be a list of non-negative integers");
    shape.push_back(d.get<std::int64_t>());
  }
  fortran_order = false;
  if (doc.contains("fortran_order")) {
    if (!doc["fortran_order"].is_boolean()) invalid("fortran_order must be true or false");
    fortran_order = doc["fortran_order"].get<bool>();
  }
  return array_from_json(dt, shape, fortran_order, doc["data"], texts);
}

} // namespace npio_cli
