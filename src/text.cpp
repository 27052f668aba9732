// npio/text.hpp: shortest float text, float16 from double, base64.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <npio/error.hpp>
#include <npio/text.hpp>

namespace npio {
inline namespace v1 {

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

// C's "%e" layout of the same digits: d[.ddd]e+XX, at least two exponent digits.
std::string sci_format(bool negative, std::string digits, int exp10) {
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  std::string out = negative ? "-" : "";
  out += digits[0];
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exp10 < 0 ? "e-" : "e+";
  const int ae = exp10 < 0 ? -exp10 : exp10;
  if (ae < 10) out += '0';
  return out + std::to_string(ae);
}

using layout = std::string (*)(bool, std::string, int);

template <class T> std::string ieee_text(T v, layout format) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[128];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  auto p = split_scientific(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  return format(p.negative, std::move(p.digits), p.exp10);
}

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

[[noreturn]] void invalid(const char* what) {
  throw error(errc::invalid_argument, what);
}

} // namespace

std::string float_repr(float v) {
  return ieee_text(v, repr_format);
}
std::string float_repr(double v) {
  return ieee_text(v, repr_format);
}
std::string float_repr(long double v) {
  return ieee_text(v, repr_format);
}
std::string float_sci(float v) {
  return ieee_text(v, sci_format);
}
std::string float_sci(double v) {
  return ieee_text(v, sci_format);
}
std::string float_sci(long double v) {
  return ieee_text(v, sci_format);
}

float16 float16_from_double(double v) noexcept {
  const std::uint16_t sign = std::signbit(v) ? 0x8000u : 0u;
  float16 h;
  if (std::isnan(v)) {
    h.bits = static_cast<std::uint16_t>(sign | 0x7e00u);
    return h;
  }
  const double a = std::fabs(v);
  if (a >= 65520.0) { // halfway between the largest half (65504) and 2^16: ties go to inf
    h.bits = static_cast<std::uint16_t>(sign | 0x7c00u);
  } else if (a < 0x1p-14) {
    // Subnormal: a multiple of 2^-24. Scaling is exact; nearbyint rounds to even.
    const auto q = static_cast<std::uint16_t>(std::nearbyint(a * 0x1p24));
    h.bits = static_cast<std::uint16_t>(sign | q); // q == 1024 is the smallest normal
  } else {
    int ex = 0;
    const double m = std::frexp(a, &ex);                             // a = m * 2^ex, m in [0.5, 1)
    auto q = static_cast<std::uint32_t>(std::nearbyint(m * 2048.0)); // 1024..2048
    int e = ex - 1;
    if (q == 2048) q = 1024, ++e;
    const int biased = e + 15;
    h.bits = biased >= 31 ? static_cast<std::uint16_t>(sign | 0x7c00u)
                          : static_cast<std::uint16_t>(
                                sign | (static_cast<std::uint32_t>(biased) << 10) | (q - 1024));
  }
  return h;
}

namespace {
std::string half_text(float16 h, layout format) {
  const double v = static_cast<double>(static_cast<float>(h)); // exact
  if (std::isnan(v) || std::isinf(v) || v == 0) return ieee_text(v, format);
  const bool neg = v < 0;
  const double a = std::fabs(v);
  const std::uint16_t mag = h.bits & 0x7fffu;
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
      if (float16_from_double(x).bits != mag) continue;
      const double dist = std::fabs(x - a);
      if (!found || dist < best_dist || (dist == best_dist && c % 2 == 0 && best % 2 != 0)) {
        found = true;
        best = c;
        best_dist = dist;
      }
    }
    if (found) return format(neg, std::to_string(best), parts.exp10);
  }
  return ieee_text(v, format); // unreachable: 17 digits identify a double, hence a half
}
} // namespace

std::string float_repr(float16 v) {
  return half_text(v, repr_format);
}
std::string float_sci(float16 v) {
  return half_text(v, sci_format);
}

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(bytes[k]); };
  auto put = [&](std::uint32_t v, int chars) {
    for (int k = 0; k < 4; ++k)
      out += k < chars ? b64_alphabet[v >> (18 - 6 * k) & 63] : '=';
  };
  for (; i + 3 <= bytes.size(); i += 3)
    put(at(i) << 16 | at(i + 1) << 8 | at(i + 2), 4);
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) put(at(i) << 16, 2);
  if (rest == 2) put(at(i) << 16 | at(i + 1) << 8, 3);
  return out;
}

std::vector<std::byte> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) invalid("base64 text length is not a multiple of 4");
  std::vector<std::byte> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t w = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      int v = 0;
      if (c == '=' && last && k >= 2) {
        ++pad;
      } else {
        if (pad) invalid("invalid base64 padding");
        v = b64_value(c);
        if (v < 0) invalid("invalid base64 character");
      }
      w = w << 6 | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::byte>(w >> 16 & 0xff));
    if (pad < 2) out.push_back(static_cast<std::byte>(w >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<std::byte>(w & 0xff));
    // Canonical form only: the bits dropped by padding must be zero.
    if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))) invalid("invalid base64 padding");
  }
  return out;
}

} // namespace v1
} // namespace npio
