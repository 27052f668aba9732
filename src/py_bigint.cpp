// Python ints past 64 bits: two's complement little-endian bytes, decimal
// text in both directions (with CPython's digit limit) and int text of any base.
#include "py_internal.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace npio {
inline namespace v1 {
namespace py {

namespace detail {

// Strips redundant sign bytes: the result is the shortest two's complement.
void normalize_le(std::vector<std::uint8_t>& b) {
  while (b.size() > 1) {
    const std::uint8_t top = b.back(), next = b[b.size() - 2];
    if ((top == 0x00 && !(next & 0x80)) || (top == 0xff && (next & 0x80)))
      b.pop_back();
    else
      break;
  }
  if (b.size() == 1 && b[0] == 0) b.clear();
}

bool le_negative(const std::vector<std::uint8_t>& b) {
  return !b.empty() && (b.back() & 0x80);
}

// Magnitude limbs (base 2^32, little-endian) of two's complement bytes.
std::vector<std::uint32_t> le_magnitude(std::vector<std::uint8_t> b, bool& neg) {
  neg = le_negative(b);
  if (neg) { // negate: invert and add one
    unsigned carry = 1;
    for (auto& x : b) {
      const unsigned t = static_cast<std::uint8_t>(~x) + carry;
      x = static_cast<std::uint8_t>(t);
      carry = t >> 8;
    }
  }
  std::vector<std::uint32_t> m((b.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < b.size(); ++i)
    m[i / 4] |= std::uint32_t(b[i]) << (8 * (i % 4));
  while (!m.empty() && m.back() == 0)
    m.pop_back();
  return m;
}

std::vector<std::uint8_t> magnitude_le(const std::vector<std::uint32_t>& m, bool neg) {
  std::vector<std::uint8_t> b;
  b.reserve(m.size() * 4 + 1);
  for (auto limb : m)
    for (int k = 0; k < 4; ++k)
      b.push_back(static_cast<std::uint8_t>(limb >> (8 * k)));
  b.push_back(0); // room for the sign
  if (neg) {
    unsigned carry = 1;
    for (auto& x : b) {
      const unsigned t = static_cast<std::uint8_t>(~x) + carry;
      x = static_cast<std::uint8_t>(t);
      carry = t >> 8;
    }
  }
  normalize_le(b);
  return b;
}

// Decimal text of a big int. Schoolbook conversion is quadratic, so, as
// CPython's str(int) does, more than max_digits digits (0: no limit) are
// refused, and refused before converting when the bit length alone shows it.
std::string le_to_decimal(const std::vector<std::uint8_t>& b, std::size_t max_digits) {
  bool neg = false;
  auto m = le_magnitude(b, neg);
  if (m.empty()) return "0";
  auto too_many = [&](std::size_t digits) {
    fail(errc::limit_exceeded,
         "Exceeds the limit (" + std::to_string(max_digits) +
             " digits) for integer string conversion" +
             (digits ? "; value has " + std::to_string(digits) + " digits" : std::string()));
  };
  // an int of n bits has at least floor((n - 1) * log10(2)) + 1 digits
  const std::size_t bits = m.size() * 32 - static_cast<std::size_t>(std::countl_zero(m.back()));
  if (max_digits &&
      static_cast<double>(bits - 1) / 3.3219280948873626 > static_cast<double>(max_digits) + 1)
    too_many(0);
  std::string out;
  while (!m.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = m.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | m[i];
      m[i] = static_cast<std::uint32_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    while (!m.empty() && m.back() == 0)
      m.pop_back();
    for (int k = 0; k < 9; ++k) {
      out.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
      if (m.empty() && rem == 0) break;
    }
  }
  if (max_digits && out.size() > max_digits) too_many(out.size());
  if (neg) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

value make_big(std::vector<std::uint8_t> le) {
  normalize_le(le);
  if (le.size() <= 8) {
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < le.size(); ++i)
      u |= std::uint64_t(le[i]) << (8 * i);
    if (!le.empty() && (le.back() & 0x80) && le.size() < 8)
      u |= ~std::uint64_t(0) << (8 * le.size());
    return value(static_cast<std::int64_t>(u));
  }
  auto* n = new detail::bigint_node;
  n->le = std::move(le);
  return access::make(kind::integer, n, true);
}

std::vector<std::uint8_t> int64_le(std::int64_t i) {
  std::vector<std::uint8_t> b(8);
  const auto u = static_cast<std::uint64_t>(i);
  for (int k = 0; k < 8; ++k)
    b[k] = static_cast<std::uint8_t>(u >> (8 * k));
  normalize_le(b);
  return b;
}

// Exact integer bytes of an integral double.
std::vector<std::uint8_t> double_le(double f) {
  int e = 0;
  const double m = std::frexp(std::fabs(f), &e); // f = m * 2^e, 0.5 <= m < 1
  auto mant = static_cast<std::uint64_t>(std::ldexp(m, 53));
  const int shift = e - 53; // >= 0 for |f| >= 2^53
  std::vector<std::uint32_t> limbs{static_cast<std::uint32_t>(mant),
                                   static_cast<std::uint32_t>(mant >> 32)};
  if (shift > 0) {
    const int words = shift / 32, bits = shift % 32;
    std::vector<std::uint32_t> r(limbs.size() + static_cast<std::size_t>(words) + 1, 0);
    for (std::size_t i = 0; i < limbs.size(); ++i) {
      const std::uint64_t v = std::uint64_t(limbs[i]) << bits;
      r[i + static_cast<std::size_t>(words)] |= static_cast<std::uint32_t>(v);
      r[i + static_cast<std::size_t>(words) + 1] |= static_cast<std::uint32_t>(v >> 32);
    }
    limbs = std::move(r);
  }
  while (!limbs.empty() && limbs.back() == 0)
    limbs.pop_back();
  return magnitude_le(limbs, f < 0);
}

bool fits_int64(double f) {
  return f >= -9223372036854775808.0 && f < 9223372036854775808.0;
}

namespace {

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  return c - 'A' + 10;
}

// mag = mag * mul + add
void mul_add(std::vector<std::uint32_t>& mag, std::uint32_t mul, std::uint32_t add) {
  std::uint64_t carry = add;
  for (auto& limb : mag) {
    const std::uint64_t cur = std::uint64_t(limb) * mul + carry;
    limb = static_cast<std::uint32_t>(cur);
    carry = cur >> 32;
  }
  if (carry) mag.push_back(static_cast<std::uint32_t>(carry));
}

} // namespace

std::optional<value> int_from_digits(std::string_view digits, int base, bool neg,
                                     std::size_t max_digits) {
  const bool pow2 = (base & (base - 1)) == 0;
  if (!pow2 && max_digits && digits.size() > max_digits) return std::nullopt;
  std::vector<std::uint32_t> mag;
  if (pow2) {
    const int bits = std::countr_zero(static_cast<unsigned>(base));
    std::size_t bitpos = 0;
    mag.assign((digits.size() * static_cast<std::size_t>(bits) + 31) / 32 + 1, 0);
    for (std::size_t k = digits.size(); k-- > 0;) {
      const auto d = static_cast<std::uint64_t>(digit_value(digits[k]));
      const std::size_t w = bitpos / 32, off = bitpos % 32;
      const std::uint64_t sh = d << off;
      mag[w] |= static_cast<std::uint32_t>(sh);
      if (sh >> 32) mag[w + 1] |= static_cast<std::uint32_t>(sh >> 32);
      bitpos += static_cast<std::size_t>(bits);
    }
  } else {
    // chunks of digits whose value fits 32 bits (nine at a time in base 10)
    std::uint32_t chunk_mul = 1;
    int per = 0;
    while (std::uint64_t(chunk_mul) * static_cast<std::uint64_t>(base) <= 0xffffffffu)
      chunk_mul *= static_cast<std::uint32_t>(base), ++per;
    std::size_t k = 0;
    const std::size_t first = digits.size() % static_cast<std::size_t>(per);
    auto take = [&](std::size_t cnt) {
      std::uint32_t v = 0, m = 1;
      for (std::size_t j = 0; j < cnt; ++j, ++k) {
        v = v * static_cast<std::uint32_t>(base) +
            static_cast<std::uint32_t>(digit_value(digits[k]));
        m *= static_cast<std::uint32_t>(base);
      }
      mul_add(mag, m, v);
    };
    if (first) take(first);
    while (k < digits.size())
      take(static_cast<std::size_t>(per));
  }
  while (!mag.empty() && mag.back() == 0)
    mag.pop_back();
  return make_big(magnitude_le(mag, neg));
}

} // namespace detail

using detail::int64_le;
using detail::le_to_decimal;
using detail::make_big;

value value::integer(std::string_view text, std::size_t max_digits) {
  std::string_view t = text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
    t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n'))
    t.remove_suffix(1);
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) neg = t[0] == '-', t.remove_prefix(1);
  auto invalid = [&] {
    fail(errc::invalid_argument, "invalid literal for int(): '" + std::string(text) + "'");
  };
  if (t.empty() || t.front() == '_' || t.back() == '_' || t.find("__") != std::string_view::npos)
    invalid();
  std::string digits;
  digits.reserve(t.size());
  for (char c : t) {
    if (c == '_') continue;
    if (c < '0' || c > '9') invalid();
    digits += c;
  }
  auto r = detail::int_from_digits(digits, 10, neg, max_digits);
  if (!r)
    fail(errc::limit_exceeded, "Exceeds the limit (" + std::to_string(max_digits) +
                                   " digits) for integer string conversion: value has " +
                                   std::to_string(digits.size()) + " digits");
  return std::move(*r);
}

value value::int_from_bytes(std::span<const std::uint8_t> le) {
  return make_big(std::vector<std::uint8_t>(le.begin(), le.end()));
}

value value::from_uint64(std::uint64_t u) {
  std::vector<std::uint8_t> b(9, 0);
  for (int k = 0; k < 8; ++k)
    b[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(u >> (8 * k));
  return make_big(std::move(b));
}

std::string value::int_str(std::size_t max_digits) const {
  if (tag() == kind::boolean) return access::ival(*this) ? "1" : "0";
  require(kind::integer, "int_str()");
  if (big()) return le_to_decimal(nd<detail::bigint_node>(*this).le, max_digits);
  return std::to_string(u_.i);
}

std::vector<std::uint8_t> value::int_bytes() const {
  if (tag() == kind::boolean) return int64_le(u_.i);
  require(kind::integer, "int_bytes()");
  if (big()) return nd<detail::bigint_node>(*this).le;
  return int64_le(u_.i);
}

} // namespace py
} // namespace v1
} // namespace npio
