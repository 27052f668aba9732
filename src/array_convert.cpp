// Conversions out of arrays: NumPy's casting table (np.can_cast), S and U
// elements as C++ strings, and the casts of astype that are not plain numeric
// conversions: S <-> U, numbers to S/U text, and datetime64/timedelta64 units.
#include "datetime_text.hpp"
#include "literal.hpp"
#include "parse_number.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <locale.h>
#include <npio/array.hpp>
#include <npio/text.hpp>
#include <npio/visit.hpp>

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

// Characters NumPy reserves for the text of a number in a safe cast to S/U
// (0 for other kinds).
std::size_t text_width(const dtype& d) {
  return visit_kind(d, [](auto tag) -> std::size_t {
    if constexpr (requires { typename decltype(tag)::type; }) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, bool>) {
        return 5; // "False"
      } else if constexpr (std::is_integral_v<T>) {
        constexpr std::size_t n = sizeof(T);
        if constexpr (std::is_signed_v<T>)
          return n == 1 ? 4 : n == 2 ? 6 : n == 4 ? 11 : 21;
        else
          return n == 1 ? 3 : n == 2 ? 5 : n == 4 ? 10 : 20;
      } else if constexpr (requires { typename T::value_type; }) { // complex
        return sizeof(T) > 16 ? 96 : 64;
      } else {
        return sizeof(T) > 8 ? 48 : 32;
      }
    } else {
      return 0;
    }
  });
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

constexpr int never = 5; // past casting::unsafe

int cast_level(const dtype& from, const dtype& to);

// NumPy 1.24's structured-to-structured rule: fields by position, counts
// equal; the least safe field cast, at least `safe` when the names differ,
// at least `equiv` when the layout (offsets, itemsize) differs.
int structured_level(const dtype& from, const dtype& to) {
  const auto& a = from.fields();
  const auto& b = to.fields();
  if (a.size() != b.size()) return never;
  int level = 0;
  bool names = true, layout = from.itemsize() == to.itemsize();
  for (std::size_t i = 0; i < a.size(); ++i) {
    level = std::max(level, cast_level(a[i].type, b[i].type));
    names = names && a[i].name == b[i].name;
    layout = layout && a[i].offset == b[i].offset;
  }
  if (level >= never) return never;
  if (!names) level = std::max(level, static_cast<int>(casting::safe));
  if (level == 0 && !layout) level = static_cast<int>(casting::equiv);
  return level;
}

// The safest rule under which np.can_cast(from, to) holds (never: none).
int cast_level(const dtype& from, const dtype& to) {
  constexpr int unsafe = static_cast<int>(casting::unsafe);
  if (from.is_structured() && to.is_structured()) return structured_level(from, to);
  // To a plain dtype: object safely (anything is), otherwise one field only,
  // itself castable (a nested structure of two fields is not); from a plain
  // one: always, unsafe.
  if (from.is_structured()) {
    if (to.kind() == 'O' && plain(to)) return static_cast<int>(casting::safe);
    return from.fields().size() == 1 ? std::max(unsafe, cast_level(from.fields()[0].type, to))
                                     : never;
  }
  if (to.is_structured()) return unsafe;
  if (from.is_subarray() || to.is_subarray()) {
    if (from.is_subarray() && to.is_subarray())
      return from.shape() == to.shape() ? cast_level(from.base(), to.base()) : unsafe;
    if (to.is_subarray()) // one value to every element of the subarray
      return std::max(static_cast<int>(casting::safe), cast_level(from, to.base()));
    return unsafe;
  }
  for (int r = 0; r < unsafe; ++r)
    if (can_cast(from, to, static_cast<casting>(r))) return r;
  return unsafe;
}

} // namespace

bool can_cast(const dtype& from, const dtype& to, casting rule) {
  if (from.is_structured() || to.is_structured())
    return cast_level(from, to) <= static_cast<int>(rule);
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
  return load_element<std::uint32_t>(p, swap);
}

void store_u32(std::byte* p, std::uint32_t c, bool swap) {
  store_element(p, c, swap);
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

// ---- numbers to text (astype to S or U) ----------------------------------------------

namespace {

// NumPy's str() of a finite float scalar (Dragon4 with the fewest digits that
// read back in the float's own type): positional for 0 and 1e-4 <= |x| < 1e16,
// scientific otherwise. keep_zero: "2.0" (a float) rather than "2" (a complex
// part); plus: a sign on positive values (a complex's imaginary part).
template <class F> std::string np_float_str(F f, long double value, bool keep_zero, bool plus) {
  std::string sci = npio::float_sci(f); // [-]d[.ddd]e[+-]XX
  std::string out;
  if (sci[0] == '-')
    out = "-", sci.erase(0, 1);
  else if (plus)
    out = "+";
  const auto epos = sci.find('e');
  std::string digits = sci.substr(0, epos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(epos + 1));
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  const long double a = std::fabs(value);
  if (a != 0 && (a < 1e-4L || a >= 1e16L)) {
    out += digits[0];
    if (digits.size() > 1) out += '.', out += digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + eb;
  }
  if (a == 0) return out + (keep_zero ? "0.0" : "0");
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    return out + digits;
  }
  const auto ip = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= ip) {
    out += digits;
    out.append(ip - digits.size(), '0');
    return keep_zero ? out + ".0" : out;
  }
  return out + digits.substr(0, ip) + '.' + digits.substr(ip);
}

template <class F> std::string float_str(F f, bool keep_zero = true, bool plus = false) {
  const auto v = static_cast<long double>(f);
  if (std::isnan(v)) return plus ? "+nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : plus ? "+inf" : "inf";
  return np_float_str(f, v, keep_zero, plus);
}
std::string float_str(float16 h) {
  const float f = static_cast<float>(h);
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  return np_float_str(h, f, true, false);
}

// NumPy's str() of a complex scalar: "1.5j" when the real part is +0,
// otherwise "(re+imj)", each part printed without a trailing ".0".
template <class F> std::string complex_str(F re, F im) {
  if (re == 0 && !std::signbit(re)) return float_str(im, false) + "j";
  return "(" + float_str(re, false) + float_str(im, false, true) + "j)";
}

template <class I> std::string int_str(I v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// str() of a number of visit_kind type T, as NumPy 1.24's scalars print it.
template <class T> std::string number_str(T v) {
  if constexpr (std::is_same_v<T, bool>)
    return v ? "True" : "False";
  else if constexpr (std::is_integral_v<T>)
    return int_str(v);
  else if constexpr (requires { typename T::value_type; })
    return complex_str(v.real(), v.imag());
  else
    return float_str(v);
}

// Calls f(p, k) with the address of each element of a in C order.
template <class F> void each_element(const array& a, F f) {
  const std::int64_t total = a.size();
  shape_t idx(a.ndim(), 0);
  for (std::int64_t k = 0; k < total; ++k) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < a.ndim(); ++d)
      off += idx[d] * a.strides()[d];
    f(a.data() + off, k);
    for (std::size_t d = a.ndim(); d-- > 0;) {
      if (++idx[d] < a.shape()[d]) break;
      idx[d] = 0;
    }
  }
}

} // namespace

namespace detail {

// astype from b/i/u/f/c to S or U: each element's str() as NumPy 1.24 writes
// it, cut to the width; a width of 0 (dtype 'S'/'U') takes NumPy's width for
// the source type.
// ASCII text `t` into one S (s_out) or U element of `width` characters,
// cut to the width and padded with NULs.
void put_ascii(std::byte* o, std::string_view t, std::size_t width, bool s_out, bool swap_out) {
  for (std::size_t i = 0; i < width; ++i) {
    const auto c = static_cast<std::uint8_t>(i < t.size() ? t[i] : '\0');
    if (s_out)
      o[i] = std::byte{c};
    else
      store_u32(o + 4 * i, c, swap_out);
  }
}

array astype_number_text(const array& a, dtype dt) {
  if (dt.itemsize() == 0)
    dt = dtype::make(dt.kind(), text_width(a.dtype()) * (dt.kind() == 'U' ? 4 : 1), dt.order());
  array r(dt, a.shape());
  std::byte* out = r.mutable_data();
  const std::size_t width = chars(dt);
  const bool s_out = dt.kind() == 'S', swap_out = needs_swap(dt);
  auto put = [&](std::int64_t k, const std::string& t) {
    put_ascii(out + static_cast<std::size_t>(k) * dt.itemsize(), t, width, s_out, swap_out);
  };
  const bool swap_in = needs_swap(a.dtype());
  visit_kind(a.dtype(), [&](auto tag) {
    if constexpr (requires { typename decltype(tag)::type; }) {
      using T = typename decltype(tag)::type;
      each_element(a, [&](const std::byte* p, std::int64_t k) {
        if constexpr (std::is_same_v<T, bool>)
          put(k, number_str(p[0] != std::byte{0})); // any nonzero byte is True
        else
          put(k, number_str(load_element<T>(p, swap_in)));
      });
    } else {
      throw error(errc::type_mismatch, "not a number: " + a.dtype().str());
    }
  });
  return r;
}

// astype from datetime64 to S or U: ISO 8601 text in the dtype's unit (NaT as
// 'NaT'); from timedelta64: str() of the scalar ('5 seconds'), cut to the
// width. A width of 0 takes NumPy's. Errors: invalid_argument when an ISO
// text does not fit the width (NumPy's RuntimeError) or for a generic
// datetime64 other than NaT.
array astype_datetime_text(const array& a, dtype dt) {
  const dtype& from = a.dtype();
  if (dt.itemsize() == 0)
    dt = dtype::make(dt.kind(), datetime_text_width(from) * (dt.kind() == 'U' ? 4 : 1), dt.order());
  array r(dt, a.shape());
  std::byte* out = r.mutable_data();
  const std::size_t width = chars(dt);
  const bool s_out = dt.kind() == 'S', swap_out = needs_swap(dt), swap_in = needs_swap(from);
  const bool td = from.kind() == 'm';
  each_element(a, [&](const std::byte* p, std::int64_t k) {
    const auto v = load_element<std::int64_t>(p, swap_in);
    std::string t = td ? timedelta_text(v, from) : datetime_iso(v, from);
    if (td && t.size() > 21) t.resize(21); // NumPy 1.24 cuts it to 21 whatever the width
    if (!td && t.size() > width)
      throw error(errc::invalid_argument, "element " + std::to_string(k) + " of dtype " +
                                              from.str() + " ('" + t + "') needs " +
                                              std::to_string(t.size()) + " characters; dtype " +
                                              dt.str() + " has " + std::to_string(width));
    put_ascii(out + static_cast<std::size_t>(k) * dt.itemsize(), t, width, s_out, swap_out);
  });
  return r;
}

} // namespace detail

// ---- datetime64 and timedelta64 units -------------------------------------------------

namespace {

// Two's complement arithmetic, as NumPy's C code computes it (wrapping).
std::int64_t wmul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
std::int64_t wadd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
// Floor division for a positive divisor.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b < 0) --q;
  return q;
}

constexpr std::int64_t nat = std::numeric_limits<std::int64_t>::min();
constexpr int Y = 0, M = 1, W = 2, D = 3;

// NumPy's get_datetime_conversion_factor: value * num / denom converts `from`
// to `to` (years and months as their 400-year averages). Errors:
// invalid_argument when the factor overflows, as NumPy's OverflowError.
void conversion_factor(const dtype& from, const dtype& to, std::int64_t& num, std::int64_t& den) {
  if (from.unit() == time_unit::generic) {
    num = den = 1;
    return;
  }
  if (to.unit() == time_unit::generic)
    throw error(errc::invalid_argument, "cannot convert from specific units to generic units (" +
                                            from.str() + " to " + to.str() + ")");
  int a = unit_index(from.unit()), b = unit_index(to.unit());
  const bool swap = a > b;
  if (swap) std::swap(a, b);
  std::uint64_t n = 1, d = 1;
  if (a != b) {
    if (a == Y) {
      if (b == M) {
        n *= 12;
      } else if (b == W) {
        n *= 97 + 400 * 365, d *= 400 * 7;
      } else {
        n *= 97 + 400 * 365, d *= 400;
        n *= units_factor(D, b);
      }
    } else if (a == M) {
      if (b == W) {
        n *= 97 + 400 * 365, d *= 400 * 12 * 7;
      } else {
        n *= 97 + 400 * 365, d *= 400 * 12;
        n *= units_factor(D, b);
      }
    } else {
      n *= units_factor(a, b);
    }
  }
  if (n == 0)
    throw error(errc::invalid_argument,
                "integer overflow while computing the conversion factor between datetime units (" +
                    from.str() + " to " + to.str() + ")");
  if (swap) std::swap(n, d);
  n *= static_cast<std::uint64_t>(from.unit_count());
  d *= static_cast<std::uint64_t>(to.unit_count());
  std::uint64_t x = n, y = d;
  while (y) {
    const std::uint64_t t = x % y;
    x = y, y = t;
  }
  num = static_cast<std::int64_t>(n / x);
  den = static_cast<std::int64_t>(d / x);
}

// A linear unit change: NumPy's _strided_to_strided_datetime_cast.
std::int64_t scale(std::int64_t v, std::int64_t num, std::int64_t den) {
  if (v == nat) return v;
  if (v < 0) return wadd(wmul(v, num), -(den - 1)) / den;
  return wmul(v, num) / den;
}

// Units of `unit_idx` (D and finer, not fs/as) in one day.
std::int64_t per_day(int unit_idx) {
  return static_cast<std::int64_t>(units_factor(D, unit_idx));
}

// A datetime64 unit change involving years or months, through the calendar:
// NumPy's _strided_to_strided_datetime_general_cast.
std::int64_t calendar_cast(std::int64_t v, const dtype& from, const dtype& to) {
  if (v == nat) return v;
  v = wmul(v, from.unit_count());
  const int a = unit_index(from.unit()), b = unit_index(to.unit());
  detail::civil_date t;
  if (a == Y) {
    t.year = wadd(1970, v);
  } else if (a == M) {
    t.year = wadd(1970, floor_div(v, 12));
    t.month = static_cast<int>(v - floor_div(v, 12) * 12) + 1;
  } else if (a == W) {
    t = detail::civil_from_days(wmul(v, 7));
  } else if (a == D) {
    t = detail::civil_from_days(v);
  } else {
    // hours and finer: the day is the floor (fs and as span less than a day
    // around 1970 and cannot reach here: their factor to Y or M overflows)
    t = detail::civil_from_days(floor_div(v, per_day(a)));
  }
  std::int64_t r;
  if (b == Y) {
    r = wadd(t.year, -1970);
  } else if (b == M) {
    r = wadd(wmul(12, wadd(t.year, -1970)), t.month - 1);
  } else {
    const std::int64_t days = detail::days_from_civil(t);
    r = b == W ? (days >= 0 ? days / 7 : (days - 6) / 7) : wmul(days, per_day(b));
  }
  const std::int64_t n = to.unit_count();
  if (n > 1) r = r >= 0 ? r / n : (r - n + 1) / n;
  return r;
}

} // namespace

namespace detail {

// NumPy's compute_datetime_metadata_greatest_common_divisor for two units of
// multiple 1, as astype to 'M8' combines the units of texts one by one: the
// finer unit, unless the factor between them passes NumPy's overflow check.
time_unit promote_text_unit(time_unit a, time_unit b) {
  if (a == time_unit::generic) return b;
  if (b == time_unit::generic || a == b) return a;
  const time_unit fine = std::max(a, b), coarse = std::min(a, b);
  if (units_factor(unit_index(coarse), unit_index(fine)) == 0)
    throw error(errc::invalid_argument,
                "integer overflow getting a common unit for datetime64 texts in " +
                    dtype::datetime('M', a).str() + " and " + dtype::datetime('M', b).str() +
                    " (NumPy's OverflowError)");
  return fine;
}

// astype between datetime64 units or between timedelta64 units, as NumPy
// 1.24: finer units multiply, coarser ones floor, NaT stays NaT, values that
// overflow wrap (NumPy does not check), datetime64 to or from years and
// months goes through the calendar, timedelta64 uses the 400-year averages.
// Errors: invalid_argument when the unit factor overflows (s to as).
array astype_datetime(const array& a, const dtype& dt) {
  const dtype& from = a.dtype();
  std::int64_t num = 1, den = 1;
  conversion_factor(from, dt, num, den);
  const int ua = from.unit() == time_unit::generic ? -1 : unit_index(from.unit());
  const int ub = dt.unit() == time_unit::generic ? -1 : unit_index(dt.unit());
  const bool calendar = from.kind() == 'M' && ua >= 0 && ub >= 0 && (ua <= M || ub <= M);
  array r(dt, a.shape());
  std::byte* out = r.mutable_data();
  const bool swap_in = needs_swap(from), swap_out = needs_swap(dt);
  each_element(a, [&](const std::byte* p, std::int64_t k) {
    const auto v = load_element<std::int64_t>(p, swap_in);
    std::int64_t w = calendar ? calendar_cast(v, from, dt) : scale(v, num, den);
    store_element(out + static_cast<std::size_t>(k) * 8, w, swap_out);
  });
  return r;
}

} // namespace detail

} // namespace v1
} // namespace npio

// ---- text to numbers (astype from S or U) --------------------------------------------

namespace npio {
inline namespace v1 {
namespace detail {

namespace {

bool py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && py_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && py_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Python's underscores in numbers ("1_000"): each between two digits, then
// dropped. False for one elsewhere or for a character that is not ASCII
// (Python's other Unicode digits and spaces are not read here).
bool drop_underscores(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
    if (s[i] != '_') {
      out += s[i];
      continue;
    }
    if (i == 0 || i + 1 >= s.size() || !digit(s[i - 1]) || !digit(s[i + 1])) return false;
  }
  return true;
}

bool word_at(std::string_view s, std::size_t i, std::string_view w) {
  if (s.size() - i < w.size()) return false;
  for (std::size_t k = 0; k < w.size(); ++k)
    if ((s[i + k] | 0x20) != w[k]) return false;
  return true;
}

// CPython's PyOS_string_to_double on the longest prefix of s from pos: a
// sign, then "inf", "infinity", "nan" (any case) or digits[.digits][e[+-]digits].
bool float_prefix(std::string_view s, std::size_t& pos, double& out) {
  std::size_t i = pos;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  const double inf = std::numeric_limits<double>::infinity();
  if (word_at(s, i, "infinity") || word_at(s, i, "inf")) {
    pos = i + (word_at(s, i, "infinity") ? 8 : 3);
    out = neg ? -inf : inf;
    return true;
  }
  if (word_at(s, i, "nan")) {
    pos = i + 3;
    out = std::copysign(std::numeric_limits<double>::quiet_NaN(), neg ? -1.0 : 1.0);
    return true;
  }
  const std::size_t start = i;
  while (i < s.size() && digit(s[i]))
    ++i;
  const std::size_t int_digits = i - start;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    const std::size_t f = ++i;
    while (i < s.size() && digit(s[i]))
      ++i;
    frac_digits = i - f;
  }
  if (int_digits + frac_digits == 0) return false;
  std::int64_t exp10 = 0;
  if (i < s.size() && (s[i] | 0x20) == 'e') {
    std::size_t j = i + 1;
    const bool eneg = j < s.size() && s[j] == '-';
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    const std::size_t e = j;
    while (j < s.size() && digit(s[j])) {
      exp10 = std::min<std::int64_t>(exp10 * 10 + (s[j] - '0'), 1'000'000'000);
      ++j;
    }
    if (j > e)
      i = j, exp10 = eneg ? -exp10 : exp10;
    else
      exp10 = 0;
  }
  double v = 0;
  const auto r = std::from_chars(s.data() + start, s.data() + i, v);
  if (r.ec == std::errc::result_out_of_range) {
    // too large (inf) or too small (0): by the decimal exponent of the
    // first nonzero digit
    std::int64_t lead = 0;
    bool nonzero = false;
    for (std::size_t k = start, n = 0; k < i && !nonzero; ++k) {
      if (s[k] == '.') continue;
      if (s[k] < '0' || s[k] > '9') break;
      if (s[k] != '0')
        nonzero = true,
        lead = static_cast<std::int64_t>(int_digits) - 1 - static_cast<std::int64_t>(n);
      ++n;
    }
    v = nonzero && lead + exp10 > 0 ? inf : 0.0;
  } else if (r.ec != std::errc{} || r.ptr != s.data() + i) {
    return false;
  }
  pos = i;
  out = neg ? -v : v;
  return true;
}

} // namespace

bool parse_py_int(std::string_view text, py_int& v) {
  std::string s;
  if (!drop_underscores(strip(text), s)) return false;
  std::size_t i = 0;
  v = py_int{};
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) v.negative = s[i++] == '-';
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!digit(s[i])) return false;
    const auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (v.magnitude > (UINT64_MAX - d) / 10) v.huge = true;
    if (!v.huge) v.magnitude = v.magnitude * 10 + d;
  }
  return true;
}

// float(text) as Python reads it. false when it does not read.
bool parse_py_float(std::string_view text, double& v) {
  std::string s;
  if (!drop_underscores(strip(text), s) || s.empty()) return false;
  std::size_t pos = 0;
  return float_prefix(s, pos, v) && pos == s.size();
}

bool parse_np_longdouble(const std::string& text, long double& v) {
  const char* s = text.c_str(); // up to the first NUL, as NumPy's C string
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  const auto word = [](const char* p, const char* w) {
    for (; *w; ++p, ++w)
      if ((*p | 0x20) != *w) return false;
    return true;
  };
  const char* p = s;
  while (space(*p))
    ++p;
  const char* q = p + (*p == '-' || *p == '+');
  const char* end = nullptr;
  if (word(q, "nan")) {
    q += 3;
    if (*q == '(') { // nan(chars): letters, digits and '_' up to a ')'
      ++q;
      while ((*q >= '0' && *q <= '9') || ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') || *q == '_')
        ++q;
      if (*q == ')') ++q;
    }
    v = std::numeric_limits<long double>::quiet_NaN(); // unsigned, as NumPy's NPY_NAN
    end = q;
  } else if (word(q, "inf")) {
    q += 3;
    if (word(q, "inity")) q += 5;
    v = *p == '-' ? -std::numeric_limits<long double>::infinity()
                  : std::numeric_limits<long double>::infinity();
    end = q;
  } else {
    static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
    if (!c_locale) return false;
    char* stop = nullptr;
    errno = 0;
    v = ::strtold_l(p, &stop, c_locale);
    if (errno != 0 && errno != ERANGE) return false; // ERANGE: inf or subnormal, kept
    end = stop;
  }
  return end != s && *end == '\0';
}

// complex(text) as Python reads it: "1.5", "2j", "1+2j", "(1-j)", spaces
// around and inside the brackets. false when it does not read.
bool parse_py_complex(std::string_view text, double& re, double& im) {
  std::string buf;
  if (!drop_underscores(text, buf)) return false;
  std::string_view s = strip(buf);
  bool bracket = false;
  if (!s.empty() && s.front() == '(') {
    if (s.size() < 2 || s.back() != ')') return false;
    s = strip(s.substr(1, s.size() - 2));
    bracket = true;
  }
  (void)bracket;
  if (s.empty()) return false;
  std::size_t i = 0;
  double z = 0;
  re = im = 0;
  const auto is_j = [&](std::size_t k) { return k < s.size() && (s[k] | 0x20) == 'j'; };
  if (float_prefix(s, i, z)) {
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      re = z;
      const std::size_t sign = i;
      if (!float_prefix(s, i, im)) {
        im = s[sign] == '+' ? 1.0 : -1.0;
        i = sign + 1;
      }
      if (!is_j(i)) return false;
      ++i;
    } else if (is_j(i)) {
      ++i;
      im = z;
    } else {
      re = z;
    }
  } else {
    im = 1.0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) im = s[i++] == '+' ? 1.0 : -1.0;
    if (!is_j(i)) return false;
    ++i;
  }
  return i == s.size();
}

} // namespace detail
} // namespace v1
} // namespace npio
