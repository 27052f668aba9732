// Conversions out of arrays: NumPy's casting table (np.can_cast), S and U
// elements as C++ strings, and the text casts of astype (S <-> U).
#include "literal.hpp"

#include <cstring>
#include <npio/array.hpp>

namespace npio {
inline namespace v1 {

const char* casting_name(casting c) noexcept {
  switch (c) {
  case casting::no:
    return "no";
  case casting::equiv:
    return "equiv";
  case casting::safe:
    return "safe";
  case casting::same_kind:
    return "same_kind";
  case casting::unsafe:
    return "unsafe";
  }
  return "?";
}

namespace {

bool plain(const dtype& d) {
  return !d.is_structured() && !d.is_subarray();
}

// NumPy's order of numeric kinds for 'same_kind': a cast may go up, not down.
int kind_rank(char k) {
  switch (k) {
  case 'b':
    return 0;
  case 'u':
    return 1;
  case 'i':
    return 2;
  case 'f':
    return 3;
  case 'c':
    return 4;
  default:
    return -1;
  }
}

// The float itemsize an integer needs to be exact by NumPy's table (int64
// and uint64 go to float64 "safely", as NumPy says).
std::size_t float_for_int(char k, std::size_t n) {
  if (n >= 8) return 8;
  return k == 'u' ? 2 * n : (n == 1 ? 2 : 2 * n);
}

bool numeric_safe(const dtype& from, const dtype& to) {
  const char a = from.kind(), b = to.kind();
  const std::size_t n = from.itemsize(), m = to.itemsize();
  if (a == 'b') return true;
  if (b == 'b') return false;
  if (a == 'i' || a == 'u') {
    if (b == 'i') return a == 'i' ? m >= n : m > n;
    if (b == 'u') return a == 'u' && m >= n;
    const std::size_t need = float_for_int(a, n);
    return b == 'f' ? m >= need : m / 2 >= need;
  }
  if (a == 'f') return b == 'f' ? m >= n : (b == 'c' && m / 2 >= n);
  return b == 'c' && m >= n; // complex
}

// Characters NumPy reserves for the text of a number in a safe cast to S/U.
std::size_t text_width(const dtype& d) {
  switch (d.kind()) {
  case 'b':
    return 5;
  case 'i':
    switch (d.itemsize()) {
    case 1:
      return 4;
    case 2:
      return 6;
    case 4:
      return 11;
    default:
      return 21;
    }
  case 'u':
    switch (d.itemsize()) {
    case 1:
      return 3;
    case 2:
      return 5;
    case 4:
      return 10;
    default:
      return 20;
    }
  case 'f':
    return d.itemsize() > 8 ? 48 : 32;
  default: // 'c'
    return d.itemsize() > 16 ? 96 : 64;
  }
}

std::size_t chars(const dtype& d) {
  return d.kind() == 'U' ? d.itemsize() / 4 : d.itemsize();
}

// NumPy's datetime unit order (Y = 0 ... as = 12); generic handled apart.
int unit_index(time_unit u) {
  return static_cast<int>(u) - 1;
}

// NumPy's get_datetime_units_factor: 0 on overflow.
std::uint64_t units_factor(int big, int little) {
  static constexpr std::uint64_t f[] = {1, 1, 7, 24, 60, 60, 1000, 1000, 1000, 1000, 1000, 1000, 1};
  std::uint64_t r = 1;
  for (int u = big; u < little; ++u) {
    r *= f[u];
    if (r & 0xff00000000000000ull) return 0;
  }
  return r;
}

// NumPy's datetime_metadata_divides(src, dst, strict).
bool divides(const dtype& src, const dtype& dst, bool strict) {
  if (src.unit() == time_unit::generic || dst.unit() == time_unit::generic) return true;
  auto n1 = static_cast<std::uint64_t>(src.unit_count());
  auto n2 = static_cast<std::uint64_t>(dst.unit_count());
  const int a = unit_index(src.unit()), b = unit_index(dst.unit());
  constexpr int Y = 0, M = 1;
  if (a != b) {
    if (a == Y) {
      if (b == M)
        n1 *= 12;
      else
        return !strict;
    } else if (b == Y) {
      if (a == M)
        n2 *= 12;
      else
        return !strict;
    } else if (a == M || b == M) {
      return !strict;
    }
    if (a > b) {
      n2 *= units_factor(b, a);
      if (n2 == 0) return false;
    } else if (a < b) {
      n1 *= units_factor(a, b);
      if (n1 == 0) return false;
    }
  }
  if ((n1 | n2) & 0xff00000000000000ull) return false;
  return n2 != 0 && n1 % n2 == 0;
}

bool datetime_cast(const dtype& from, const dtype& to, casting rule) {
  const bool td = from.kind() == 'm';
  const bool g1 = from.unit() == time_unit::generic, g2 = to.unit() == time_unit::generic;
  if (g1 || g2) return g1;
  const int a = unit_index(from.unit()), b = unit_index(to.unit());
  constexpr int M = 1;
  const bool same_side = (a <= M) == (b <= M);
  if (rule == casting::same_kind) return !td || same_side;
  // safe
  const bool units = a <= b && (!td || same_side);
  return units && divides(from, to, td);
}

} // namespace

bool can_cast(const dtype& from, const dtype& to, casting rule) {
  if (rule == casting::unsafe || from == to) return true;
  if (rule == casting::no) return false;
  if (from.to_native() == to.to_native()) return true;
  if (rule == casting::equiv) return false;
  const char a = from.kind(), b = to.kind();
  if (b == 'O' && plain(to)) return true;
  if (!plain(from) || !plain(to)) return false;
  if (a == 'O') return false;
  if (b == 'V')
    return a == 'V' ? rule == casting::same_kind || from.itemsize() <= to.itemsize()
                    : from.itemsize() <= to.itemsize();
  if (a == 'V') return false;
  const bool num_a = kind_rank(a) >= 0, num_b = kind_rank(b) >= 0;
  if (num_a && num_b)
    return numeric_safe(from, to) || (rule == casting::same_kind && kind_rank(a) <= kind_rank(b));
  if (b == 'S' || b == 'U') {
    if (num_a) return rule == casting::same_kind || chars(to) >= text_width(from);
    if (a == 'S' || (a == 'U' && b == 'U'))
      return rule == casting::same_kind || chars(to) >= chars(from);
    return false;
  }
  if (b == 'm' && num_a) {
    if (a == 'f' || a == 'c') return false;
    return rule == casting::same_kind || a != 'u' || from.itemsize() < 8;
  }
  if ((a == 'M' && b == 'M') || (a == 'm' && b == 'm')) return datetime_cast(from, to, rule);
  return false;
}

// ---- S and U elements as strings ---------------------------------------------------

namespace {

std::uint32_t load_u32(const std::byte* p, bool swap) {
  std::uint32_t c;
  std::memcpy(&c, p, 4);
  if (swap) c = (c >> 24) | ((c >> 8) & 0xff00u) | ((c << 8) & 0xff0000u) | (c << 24);
  return c;
}

void store_u32(std::byte* p, std::uint32_t c, bool swap) {
  if (swap) c = (c >> 24) | ((c >> 8) & 0xff00u) | ((c << 8) & 0xff0000u) | (c << 24);
  std::memcpy(p, &c, 4);
}

[[noreturn]] void not_text(const dtype& dt, const char* what) {
  throw error(errc::type_mismatch, std::string(what) + " needs an S or U array, not dtype " +
                                       dt.str() + "; use at<T>() or to_vector<T>() for numbers");
}

// Decodes UTF-8 to code points. Errors: invalid_argument naming the byte offset.
std::u32string decode_utf8(std::string_view s) {
  if (const auto bad = detail::find_invalid_utf8(s); bad != std::string_view::npos)
    throw error(errc::invalid_argument,
                "text is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1Fu) : n == 2 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k <= n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    out.push_back(static_cast<char32_t>(cp));
    i += n + 1;
  }
  return out;
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto cp = static_cast<std::uint32_t>(s[i]);
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
      throw error(errc::invalid_argument, std::string("U element holds ") + hex +
                                              ", which has no UTF-8 form (character " +
                                              std::to_string(i) + "); use std::u32string");
    }
    detail::append_utf8(out, cp);
  }
  return out;
}

} // namespace

std::string array::get_string(const std::byte* p) const {
  if (!plain(dtype_) || (dtype_.kind() != 'S' && dtype_.kind() != 'U'))
    not_text(dtype_, "at<std::string>()");
  if (dtype_.kind() == 'S') {
    std::size_t n = dtype_.itemsize();
    while (n && p[n - 1] == std::byte{0})
      --n;
    return {reinterpret_cast<const char*>(p), n};
  }
  return encode_utf8(get_u32string(p));
}

std::u32string array::get_u32string(const std::byte* p) const {
  if (!plain(dtype_) || dtype_.kind() != 'U') {
    if (plain(dtype_) && dtype_.kind() == 'S')
      throw error(errc::type_mismatch,
                  "std::u32string needs a U array; an S array holds bytes: use std::string");
    not_text(dtype_, "at<std::u32string>()");
  }
  const bool swap = !dtype_.is_native();
  std::size_t n = dtype_.itemsize() / 4;
  while (n && load_u32(p + 4 * (n - 1), swap) == 0)
    --n;
  std::u32string out(n, U'\0');
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<char32_t>(load_u32(p + 4 * i, swap));
  return out;
}

void array::put_u32string(std::byte* p, std::u32string_view s) {
  if (!plain(dtype_) || dtype_.kind() != 'U') {
    if (plain(dtype_) && dtype_.kind() == 'S')
      throw error(errc::type_mismatch,
                  "an S array holds bytes: set it from std::string, not std::u32string");
    not_text(dtype_, "set() of text");
  }
  if (!writeable()) throw error(errc::not_writeable, "array is read-only");
  const std::size_t room = dtype_.itemsize() / 4;
  if (s.size() > room)
    throw error(errc::invalid_argument, "text of " + std::to_string(s.size()) +
                                            " characters does not fit dtype " + dtype_.str());
  const bool swap = !dtype_.is_native();
  for (std::size_t i = 0; i < room; ++i)
    store_u32(p + 4 * i, i < s.size() ? static_cast<std::uint32_t>(s[i]) : 0u, swap);
}

void array::put_string(std::byte* p, std::string_view s) {
  if (!plain(dtype_) || (dtype_.kind() != 'S' && dtype_.kind() != 'U'))
    not_text(dtype_, "set() of text");
  if (dtype_.kind() == 'U') return put_u32string(p, decode_utf8(s));
  if (!writeable()) throw error(errc::not_writeable, "array is read-only");
  if (s.size() > dtype_.itemsize())
    throw error(errc::invalid_argument, "text of " + std::to_string(s.size()) +
                                            " bytes does not fit dtype " + dtype_.str());
  std::memcpy(p, s.data(), s.size());
  std::memset(p + s.size(), 0, dtype_.itemsize() - s.size());
}

template <class T> std::vector<T> array::strings() const {
  std::vector<T> out;
  const std::int64_t total = size();
  if (total == 0) {
    // still check the dtype, as for a non-empty array
    if (!plain(dtype_) ||
        (dtype_.kind() != 'U' && (dtype_.kind() != 'S' || std::is_same_v<T, std::u32string>)))
      not_text(dtype_, "to_vector() of strings");
    return out;
  }
  out.reserve(static_cast<std::size_t>(total));
  shape_t idx(ndim(), 0);
  for (std::int64_t k = 0; k < total; ++k) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < ndim(); ++d)
      off += idx[d] * strides_[d];
    const std::byte* p = data() + off;
    if constexpr (std::is_same_v<T, std::string>)
      out.push_back(get_string(p));
    else
      out.push_back(get_u32string(p));
    for (std::size_t d = ndim(); d-- > 0;) {
      if (++idx[d] < shape_[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

template std::vector<std::string> array::strings<std::string>() const;
template std::vector<std::u32string> array::strings<std::u32string>() const;

namespace detail {

// astype between S and U kinds: S -> U decodes ASCII, U -> S encodes ASCII
// (NumPy's rules); either to a narrower width cuts, as NumPy does.
array astype_text(const array& a, const dtype& dt) {
  array r(dt, a.shape());
  const auto from = a.dtype();
  const bool s_in = from.kind() == 'S', s_out = dt.kind() == 'S';
  const std::int64_t total = a.size();
  shape_t idx(a.ndim(), 0);
  std::byte* out = r.mutable_data();
  const bool swap_in = !from.is_native(), swap_out = !dt.is_native();
  const std::size_t in_chars = chars(from), out_chars = chars(dt);
  for (std::int64_t k = 0; k < total; ++k, out += dt.itemsize()) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < a.ndim(); ++d)
      off += idx[d] * a.strides()[d];
    const std::byte* p = a.data() + off;
    for (std::size_t i = 0; i < out_chars; ++i) {
      std::uint32_t c = 0;
      if (i < in_chars) c = s_in ? static_cast<std::uint8_t>(p[i]) : load_u32(p + 4 * i, swap_in);
      if (s_in != s_out && c > 0x7F)
        throw error(errc::invalid_argument,
                    std::string(s_in ? "S" : "U") + " to " + (s_out ? "S" : "U") +
                        " casts ASCII only (as NumPy), but element " + std::to_string(k) +
                        " holds character " + std::to_string(c));
      if (s_out)
        out[i] = std::byte{static_cast<unsigned char>(c)};
      else
        store_u32(out + 4 * i, c, swap_out);
    }
    for (std::size_t d = a.ndim(); d-- > 0;) {
      if (++idx[d] < a.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return r;
}

} // namespace detail

} // namespace v1
} // namespace npio
