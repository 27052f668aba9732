// npio::py::value: storage, copy-on-write, iterative destruction, Python
// equality, hashing and repr, big ints, and the object-array helpers.
#include "literal.hpp"
#include "py_node.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace npio {
inline namespace v1 {
namespace py {

using detail::access;
using detail::node;

namespace {

[[noreturn]] void fail(errc c, std::string msg) {
  throw error(c, std::move(msg));
}

template <class N> N& nd(const value& v) {
  return access::as<N>(v);
}

// ---- big ints -------------------------------------------------------------------

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

std::size_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}
std::size_t hash_bytes(std::string_view s, std::uint64_t salt) {
  return mix(std::hash<std::string_view>{}(s) ^ salt);
}

// ---- numeric view of a value (for cross-kind == and hash) ------------------------

struct num {
  enum { none, small, big, real, cplx } k = none;
  std::int64_t i = 0;
  double re = 0, im = 0;
  const std::vector<std::uint8_t>* b = nullptr; // null: the bytes are in own
  std::vector<std::uint8_t> own;
  const std::vector<std::uint8_t>& bytes() const { return b ? *b : own; }
};

bool numeric_scalar_kind(char k) {
  return k == 'b' || k == 'i' || k == 'u' || k == 'f' || k == 'c';
}

num to_num(const value& v) {
  num n;
  switch (v.type()) {
  case kind::boolean:
    n.k = num::small;
    n.i = v.as<bool>() ? 1 : 0;
    break;
  case kind::integer:
    if (access::big(v)) {
      n.k = num::big;
      n.own = nd<detail::bigint_node>(v).le; // a copy: v may be a temporary
    } else {
      n.k = num::small;
      n.i = *v.get_if<std::int64_t>();
    }
    break;
  case kind::floating: {
    const double f = *v.get_if<double>();
    if (std::isfinite(f) && f == std::floor(f)) {
      if (fits_int64(f)) {
        n.k = num::small;
        n.i = static_cast<std::int64_t>(f);
      } else {
        n.k = num::big;
        n.own = double_le(f);
      }
    } else {
      n.k = num::real;
      n.re = f;
    }
    break;
  }
  case kind::complex: {
    const auto c = v.as_complex();
    if (c.imag() == 0) return to_num(value(c.real()));
    n.k = num::cplx;
    n.re = c.real();
    n.im = c.imag();
    break;
  }
  case kind::scalar: {
    const auto& s = nd<detail::scalar_node>(v);
    if (numeric_scalar_kind(s.dt.kind()) && !s.dt.is_structured() && !s.dt.is_subarray()) {
      npio::array dummy;
      return to_num(element_value(dummy, s.dt, reinterpret_cast<const std::byte*>(s.raw.data())));
    }
    break;
  }
  default:
    break;
  }
  return n;
}

bool num_equal(num& a, num& b) {
  if (a.k == num::none || b.k == num::none) return false;
  if (a.k == num::small && b.k == num::small) return a.i == b.i;
  if (a.k == num::big || b.k == num::big) {
    if (a.k == num::small) a.own = int64_le(a.i), a.b = nullptr, a.k = num::big;
    if (b.k == num::small) b.own = int64_le(b.i), b.b = nullptr, b.k = num::big;
    if (a.k != num::big || b.k != num::big) return false; // a non-integral float
    return a.bytes() == b.bytes();
  }
  auto re = [](const num& x) { return x.k == num::small ? static_cast<double>(x.i) : x.re; };
  auto im = [](const num& x) { return x.k == num::cplx ? x.im : 0.0; };
  if (a.k == num::small && b.k != num::small) {
    // exact: an integral int vs a non-integral (or complex) float never match
    return b.k == num::cplx ? false : false;
  }
  if (b.k == num::small) return false;
  return re(a) == re(b) && im(a) == im(b);
}

std::size_t num_hash(num& n) {
  switch (n.k) {
  case num::small:
    return mix(static_cast<std::uint64_t>(n.i));
  case num::big:
    return hash_bytes(
        std::string_view(reinterpret_cast<const char*>(n.bytes().data()), n.bytes().size()),
        0x1111);
  case num::real:
    return mix(std::bit_cast<std::uint64_t>(n.re));
  case num::cplx:
    return mix(std::bit_cast<std::uint64_t>(n.re) * 31 + std::bit_cast<std::uint64_t>(n.im));
  default:
    return 0;
  }
}

bool is_numberlike(const value& v) {
  if (v.is_number()) return true;
  if (v.is_scalar()) {
    const auto& dt = v.dtype();
    return numeric_scalar_kind(dt.kind()) && !dt.is_structured() && !dt.is_subarray();
  }
  return false;
}

// ---- hash index for dicts and sets -----------------------------------------------

constexpr std::size_t index_threshold = 8;

template <class Key> void index_insert(detail::hash_index& idx, std::size_t h, std::uint32_t pos) {
  const std::size_t mask = idx.size() - 1;
  std::size_t i = h & mask;
  while (idx[i] != 0)
    i = (i + 1) & mask;
  idx[i] = pos + 1;
}

template <class Items, class KeyOf>
void index_build(detail::hash_index& idx, const Items& items, KeyOf key_of) {
  std::size_t cap = 16;
  while (cap < items.size() * 2 + 2)
    cap *= 2;
  idx.assign(cap, 0);
  for (std::size_t p = 0; p < items.size(); ++p)
    index_insert<void>(idx, key_of(items[p]).hash(), static_cast<std::uint32_t>(p));
}

// Position of `key` in items or -1. Mutations (which own the node alone, by
// copy-on-write) build the index when it is missing or stale; lookups through a
// const value never write to the node (other threads may be reading it) and
// scan linearly when there is no current index.
template <class Items, class KeyOf>
std::ptrdiff_t index_find(detail::hash_index& idx, const Items& items, KeyOf key_of,
                          const value& key, bool may_build) {
  const bool current = idx.size() >= items.size() * 2 + 2;
  if (items.size() < index_threshold || (!current && !may_build)) {
    for (std::size_t p = 0; p < items.size(); ++p)
      if (key_of(items[p]) == key) return static_cast<std::ptrdiff_t>(p);
    return -1;
  }
  if (!current) index_build(idx, items, key_of);
  const std::size_t mask = idx.size() - 1;
  for (std::size_t i = key.hash() & mask; idx[i] != 0; i = (i + 1) & mask) {
    const std::size_t p = idx[i] - 1;
    if (p < items.size() && key_of(items[p]) == key) return static_cast<std::ptrdiff_t>(p);
  }
  return -1;
}

const value& dict_key(const std::pair<value, value>& e) {
  return e.first;
}
const value& set_key(const value& e) {
  return e;
}

// ---- float and string formatting --------------------------------------------------

std::string sci_repr(std::string sci, bool force_point);

template <class T> T load_swapped(const std::byte* p, bool swap) {
  std::byte tmp[sizeof(T)];
  std::memcpy(tmp, p, sizeof(T));
  if (swap) std::reverse(tmp, tmp + sizeof(T));
  T v;
  std::memcpy(&v, tmp, sizeof(T));
  return v;
}

template <class F> std::string float_repr_impl(F f, bool force_point) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  char buf[128];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  return sci_repr(std::string(buf, r.ptr), force_point);
}

// The shortest text of a float16 (the fewest digits that read back to it).
std::string half_repr(float16 h, bool force_point) {
  const float f = static_cast<float>(h);
  if (std::isnan(f) || std::isinf(f)) return float_repr_impl(f, force_point);
  char buf[64];
  for (int p = 0; p < 8; ++p) {
    auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific, p);
    *r.ptr = '\0';
    if (float16(std::strtof(buf, nullptr)).bits == h.bits)
      return sci_repr(std::string(buf, r.ptr), force_point);
  }
  return float_repr_impl(f, force_point);
}

// Python's repr layout of a number given as [-]d[.ddd]e[+-]XX.
std::string sci_repr(std::string sci, bool force_point) {
  // sci: [-]d[.ddd]e[+-]XX
  std::string sign;
  if (sci[0] == '-') sign = "-", sci.erase(0, 1);
  const auto epos = sci.find('e');
  std::string digits = sci.substr(0, epos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(epos + 1));
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  std::string out = sign;
  if (exp < -4 || exp >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += '.', out += digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  } else if (exp < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out += digits;
  } else {
    const auto ip = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= ip) {
      out += digits;
      out.append(ip - digits.size(), '0');
      if (force_point) out += ".0";
    } else {
      out += digits.substr(0, ip);
      out += '.';
      out += digits.substr(ip);
    }
  }
  return out;
}

// Decodes one UTF-8 sequence (surrogates allowed, as pickles may carry them);
// a malformed byte decodes as U+FFFD.
char32_t next_cp(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::size_t n = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 9;
  if (n == 0) return ++i, c;
  if (n == 9 || i + n >= s.size()) return ++i, 0xfffd;
  char32_t cp = n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
  for (std::size_t k = 1; k <= n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return ++i, 0xfffd;
    cp = (cp << 6) | (cc & 0x3f);
  }
  i += n + 1;
  return cp;
}

bool printable(char32_t c) {
  if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad) return false;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  if ((c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f))
    return false;
  if (c == 0xfeff || (c >= 0xe000 && c <= 0xf8ff) || c >= 0xf0000) return false;
  if ((c & 0xfffe) == 0xfffe) return false;
  if (c == 0x3000 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x205f) return false;
  return true;
}

void append_hex(std::string& out, char prefix, std::uint32_t v, int width) {
  char b[16];
  std::snprintf(b, sizeof b, "\\%c%0*x", prefix, width, v);
  out += b;
}

void str_repr(std::string& out, std::string_view s) {
  const bool sq = s.find('\'') != std::string_view::npos;
  const bool dq = s.find('"') != std::string_view::npos;
  const char q = sq && !dq ? '"' : '\'';
  out += q;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const char32_t c = next_cp(s, i);
    if (c == static_cast<char32_t>(q) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (!printable(c)) {
      if (c < 0x100)
        append_hex(out, 'x', c, 2);
      else if (c < 0x10000)
        append_hex(out, 'u', c, 4);
      else
        append_hex(out, 'U', c, 8);
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += q;
}

void bytes_repr(std::string& out, std::string_view s) {
  const bool sq = s.find('\'') != std::string_view::npos;
  const bool dq = s.find('"') != std::string_view::npos;
  const char q = sq && !dq ? '"' : '\'';
  out += 'b';
  out += q;
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(q) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      append_hex(out, 'x', c, 2);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += q;
}

std::string complex_repr(double re, double im) {
  auto part = [](double x) { return float_repr_impl(x, false); };
  if (re == 0 && !std::signbit(re)) return part(im) + "j";
  std::string s = "(" + part(re);
  const std::string ims = part(im);
  if (ims[0] != '-') s += '+';
  return s + ims + "j)";
}

void check_date(int y, int m, int d) {
  if (y < 1 || y > 9999)
    fail(errc::invalid_argument, "year " + std::to_string(y) + " is out of range");
  if (m < 1 || m > 12) fail(errc::invalid_argument, "month must be in 1..12");
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int maxd = dim[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d < 1 || d > maxd) fail(errc::invalid_argument, "day is out of range for month");
}
void check_time(int h, int mi, int s, int us) {
  if (h < 0 || h > 23) fail(errc::invalid_argument, "hour must be in 0..23");
  if (mi < 0 || mi > 59) fail(errc::invalid_argument, "minute must be in 0..59");
  if (s < 0 || s > 59) fail(errc::invalid_argument, "second must be in 0..59");
  if (us < 0 || us > 999999) fail(errc::invalid_argument, "microsecond must be in 0..999999");
}

// Iterative destruction of a node graph whose root just lost its last reference.
void destroy_graph(kind k0, node* n0) noexcept {
  std::vector<std::pair<kind, node*>> work;
  work.emplace_back(k0, n0);
  while (!work.empty()) {
    auto [k, n] = work.back();
    work.pop_back();
    if (n->flags & detail::node_pinned) {
      // The pickle VM's memo still refers to it: the VM decides at its end.
      const detail::defer_hook& h = detail::current_defer_hook();
      if (h.fn) {
        h.fn(h.ctx, k, n);
        continue;
      }
    }
    // Detach children whose count drops to zero onto the work list.
    auto take = [&work](value& c) {
      node* cn = access::ptr(c);
      if (!cn) return;
      const kind ck = access::tag(c);
      access::forget(c); // the value no longer owns cn
      if (cn->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) work.emplace_back(ck, cn);
    };
    switch (k) {
    case kind::list:
    case kind::tuple:
    case kind::set:
    case kind::frozenset: {
      auto* s = static_cast<detail::seq_node*>(n);
      for (auto& c : s->items)
        take(c);
      detail::free_node(s);
      break;
    }
    case kind::dict: {
      auto* d = static_cast<detail::dict_node*>(n);
      for (auto& [key, val] : d->items)
        take(key), take(val);
      detail::free_node(d);
      break;
    }
    case kind::ndarray: {
      auto* a = static_cast<detail::array_node*>(n);
      const auto& buf = a->a.base();
      if (buf && buf.use_count() == 1 && buf->objects() && buf->objects().use_count() == 1) {
        auto objs = buf->objects();
        buf->set_objects(nullptr);
        for (auto& c : *objs)
          take(c);
      }
      detail::free_node(a);
      break;
    }
    case kind::object: {
      auto* o = static_cast<detail::object_node*>(n);
      take(o->args), take(o->state), take(o->list_items), take(o->dict_items);
      detail::free_node(o);
      break;
    }
    case kind::datetime:
    case kind::time:
    case kind::date: {
      auto* d = static_cast<detail::datetime_node*>(n);
      take(d->tzinfo);
      detail::free_node(d);
      break;
    }
    case kind::integer:
      detail::free_node(static_cast<detail::bigint_node*>(n));
      break;
    case kind::complex:
      detail::free_node(static_cast<detail::complex_node*>(n));
      break;
    case kind::str:
    case kind::bytes:
    case kind::bytearray:
    case kind::decimal:
      detail::free_node(static_cast<detail::str_node*>(n));
      break;
    case kind::scalar:
      detail::free_node(static_cast<detail::scalar_node*>(n));
      break;
    case kind::dtype:
      detail::free_node(static_cast<detail::dtype_node*>(n));
      break;
    case kind::timedelta:
      detail::free_node(static_cast<detail::timedelta_node*>(n));
      break;
    case kind::global:
      detail::free_node(static_cast<detail::global_node*>(n));
      break;
    default:
      break;
    }
  }
}

value make_str(kind k, std::string s) {
  auto* n = new detail::str_node;
  n->s = std::move(s);
  return access::make(k, n);
}

value make_seq(kind k, std::vector<value> items) {
  auto* n = new detail::seq_node;
  n->items = std::move(items);
  return access::make(k, n);
}

} // namespace

// ---- detail operations used by the pickle layer -----------------------------------

namespace detail {

void dict_set(dict_node& d, value key, value v) {
  if (!key.is_hashable())
    fail(errc::invalid_argument, std::string("unhashable type: '") + key.kind_name() + "'");
  if (key.type() == kind::tuple) (void)key.hash(); // an unhashable item inside
  const auto p = index_find(d.index, d.items, dict_key, key, true);
  if (p >= 0) {
    d.items[static_cast<std::size_t>(p)].second = std::move(v);
    return;
  }
  d.items.emplace_back(std::move(key), std::move(v));
  if (!d.index.empty()) {
    if (d.index.size() < d.items.size() * 2 + 2)
      index_build(d.index, d.items, dict_key);
    else
      index_insert<void>(d.index, d.items.back().first.hash(),
                         static_cast<std::uint32_t>(d.items.size() - 1));
  }
}

const value* dict_find(const dict_node& d, const value& key) {
  if (!key.is_hashable())
    fail(errc::invalid_argument, std::string("unhashable type: '") + key.kind_name() + "'");
  if (key.type() == kind::tuple) (void)key.hash(); // an unhashable item inside
  auto& dn = const_cast<dict_node&>(d);            // not written: may_build is false
  const auto p = index_find(dn.index, dn.items, dict_key, key, false);
  return p >= 0 ? &d.items[static_cast<std::size_t>(p)].second : nullptr;
}

void set_add(seq_node& s, value item) {
  if (!item.is_hashable())
    fail(errc::invalid_argument, std::string("unhashable type: '") + item.kind_name() + "'");
  if (item.type() == kind::tuple) (void)item.hash(); // an unhashable item inside
  if (index_find(s.index, s.items, set_key, item, true) >= 0) return;
  s.items.push_back(std::move(item));
  if (!s.index.empty()) {
    if (s.index.size() < s.items.size() * 2 + 2)
      index_build(s.index, s.items, set_key);
    else
      index_insert<void>(s.index, s.items.back().hash(),
                         static_cast<std::uint32_t>(s.items.size() - 1));
  }
}

void for_each_child(kind k, node* n, void (*f)(value&, void*), void* ctx) {
  switch (k) {
  case kind::list:
  case kind::tuple:
  case kind::set:
  case kind::frozenset:
    for (auto& c : static_cast<seq_node*>(n)->items)
      f(c, ctx);
    break;
  case kind::dict:
    for (auto& [key, val] : static_cast<dict_node*>(n)->items)
      f(key, ctx), f(val, ctx);
    break;
  case kind::ndarray: {
    const auto& buf = static_cast<array_node*>(n)->a.base();
    if (buf && buf->objects())
      for (auto& c : *buf->objects())
        f(c, ctx);
    break;
  }
  case kind::object: {
    auto* o = static_cast<object_node*>(n);
    f(o->args, ctx), f(o->state, ctx), f(o->list_items, ctx), f(o->dict_items, ctx);
    break;
  }
  case kind::datetime:
  case kind::time:
    f(static_cast<datetime_node*>(n)->tzinfo, ctx);
    break;
  default:
    break;
  }
}

void clear_children(kind k, node* n) noexcept {
  // Moving the children out first: their destruction may free nodes that
  // (through a cycle) point back here.
  switch (k) {
  case kind::list:
  case kind::tuple:
  case kind::set:
  case kind::frozenset: {
    auto tmp = std::move(static_cast<seq_node*>(n)->items);
    static_cast<seq_node*>(n)->items.clear();
    static_cast<seq_node*>(n)->index.clear();
    break;
  }
  case kind::dict: {
    auto tmp = std::move(static_cast<dict_node*>(n)->items);
    static_cast<dict_node*>(n)->items.clear();
    static_cast<dict_node*>(n)->index.clear();
    break;
  }
  case kind::ndarray: {
    auto tmp = std::move(static_cast<array_node*>(n)->a);
    static_cast<array_node*>(n)->a = npio::array();
    break;
  }
  case kind::object: {
    auto* o = static_cast<object_node*>(n);
    value a = std::move(o->args), s = std::move(o->state), l = std::move(o->list_items),
          d = std::move(o->dict_items);
    break;
  }
  case kind::datetime:
  case kind::time: {
    value t = std::move(static_cast<datetime_node*>(n)->tzinfo);
    break;
  }
  default:
    break;
  }
}

// ---- conversions -------------------------------------------------------------------

[[noreturn]] void throw_out_of_range_int(const value& v, const char* type) {
  const std::size_t bytes = v.is_big_int() ? nd<bigint_node>(v).le.size() : 8;
  const std::string text = bytes <= 64 ? v.int_str(0) : "of " + std::to_string(bytes) + " bytes";
  fail(errc::out_of_range, "int " + text + " does not fit the " + type + " type");
}

bool as_bool(const value& v) {
  if (v.is_bool() || (v.is_int() && !v.is_big_int())) return access::ival(v) != 0;
  fail(errc::type_mismatch, std::string("expected bool, got ") + v.kind_name());
}

std::int64_t as_int64(const value& v) {
  if (v.is_bool()) return access::ival(v);
  if (v.is_int()) {
    if (v.is_big_int()) throw_out_of_range_int(v, "int64");
    return access::ival(v);
  }
  fail(errc::type_mismatch, std::string("expected int, got ") + v.kind_name());
}

std::uint64_t as_uint64(const value& v) {
  if (v.is_big_int()) {
    const auto& le = nd<bigint_node>(v).le;
    if (le.size() == 9 && le[8] == 0) {
      std::uint64_t u = 0;
      for (int k = 0; k < 8; ++k)
        u |= std::uint64_t(le[static_cast<std::size_t>(k)]) << (8 * k);
      return u;
    }
    throw_out_of_range_int(v, "uint64");
  }
  const std::int64_t i = as_int64(v);
  if (i < 0) throw_out_of_range_int(v, "unsigned integer");
  return static_cast<std::uint64_t>(i);
}

double as_double(const value& v) {
  if (v.is_float()) return access::fval(v);
  if (v.is_bool() || (v.is_int() && !v.is_big_int())) return static_cast<double>(access::ival(v));
  if (v.is_big_int()) {
    // past 2**1032 every int is beyond the double range (float() overflows)
    const auto& le = nd<bigint_node>(v).le;
    if (le.size() > 130) return le.back() & 0x80 ? -HUGE_VAL : HUGE_VAL;
    return std::strtod(v.int_str(0).c_str(), nullptr);
  }
  fail(errc::type_mismatch, std::string("expected float, got ") + v.kind_name());
}

std::string_view as_string_view(const value& v) {
  switch (v.type()) {
  case kind::str:
  case kind::bytes:
  case kind::bytearray:
  case kind::decimal:
    return access::text(v);
  default:
    fail(errc::type_mismatch, std::string("expected str or bytes, got ") + v.kind_name());
  }
}

datetime_t as_datetime(const value& v) {
  if (v.is_datetime() || v.is_date() || v.is_time()) return nd<datetime_node>(v).dt;
  fail(errc::type_mismatch, std::string("expected a datetime, got ") + v.kind_name());
}

timedelta_t as_timedelta(const value& v) {
  if (v.is_timedelta()) return nd<timedelta_node>(v).td;
  fail(errc::type_mismatch, std::string("expected a timedelta, got ") + v.kind_name());
}

} // namespace detail

// ---- value members -------------------------------------------------------------------

const char* kind_name(kind k) noexcept {
  switch (k) {
  case kind::none:
    return "NoneType";
  case kind::boolean:
    return "bool";
  case kind::integer:
    return "int";
  case kind::floating:
    return "float";
  case kind::complex:
    return "complex";
  case kind::str:
    return "str";
  case kind::bytes:
    return "bytes";
  case kind::bytearray:
    return "bytearray";
  case kind::list:
    return "list";
  case kind::tuple:
    return "tuple";
  case kind::dict:
    return "dict";
  case kind::set:
    return "set";
  case kind::frozenset:
    return "frozenset";
  case kind::ndarray:
    return "numpy.ndarray";
  case kind::scalar:
    return "numpy scalar";
  case kind::dtype:
    return "numpy.dtype";
  case kind::datetime:
    return "datetime.datetime";
  case kind::date:
    return "datetime.date";
  case kind::time:
    return "datetime.time";
  case kind::timedelta:
    return "datetime.timedelta";
  case kind::decimal:
    return "decimal.Decimal";
  case kind::global:
    return "global";
  case kind::object:
    return "object";
  }
  return "?";
}

std::string float_repr(double f) {
  return float_repr_impl(f, true);
}
std::string float_repr(float f) {
  return float_repr_impl(f, true);
}

value::value(std::complex<double> c) : meta_(meta_of(kind::complex) | heap_flag) {
  auto* n = new detail::complex_node;
  n->re = c.real();
  n->im = c.imag();
  u_.p = n;
}
value::value(std::string_view s) : value() {
  if (s.size() <= small_max)
    *this = access::small_str(s);
  else
    *this = make_str(kind::str, std::string(s));
}
value::value(std::string s) : value() {
  if (s.size() <= small_max)
    *this = access::small_str(s);
  else
    *this = make_str(kind::str, std::move(s));
}
value::value(npio::array a) : meta_(meta_of(kind::ndarray) | heap_flag) {
  auto* n = new detail::array_node;
  n->a = std::move(a);
  u_.p = n;
}
value::value(npio::dtype d) : meta_(meta_of(kind::dtype) | heap_flag) {
  auto* n = new detail::dtype_node;
  n->dt = std::move(d);
  u_.p = n;
}
value::value(std::initializer_list<value> items) : value(list(std::vector<value>(items))) {}

value value::list(std::vector<value> items) {
  return make_seq(kind::list, std::move(items));
}
value value::tuple(std::vector<value> items) {
  return make_seq(kind::tuple, std::move(items));
}
value value::tuple(std::initializer_list<value> items) {
  return make_seq(kind::tuple, std::vector<value>(items));
}
value value::dict(dict_entries entries) {
  auto* n = new detail::dict_node;
  value v = access::make(kind::dict, n);
  for (auto& [k, x] : entries)
    detail::dict_set(*n, std::move(k), std::move(x));
  return v;
}
value value::dict(std::initializer_list<std::pair<value, value>> entries) {
  return dict(dict_entries(entries));
}
value value::set(std::vector<value> items) {
  auto* n = new detail::seq_node;
  value v = access::make(kind::set, n);
  for (auto& x : items)
    detail::set_add(*n, std::move(x));
  return v;
}
value value::frozenset(std::vector<value> items) {
  value v = set(std::move(items));
  access::set_kind(v, kind::frozenset);
  return v;
}
value value::bytes(std::string_view b) {
  return make_str(kind::bytes, std::string(b));
}
value value::bytes(std::span<const std::byte> b) {
  return make_str(kind::bytes, std::string(reinterpret_cast<const char*>(b.data()), b.size()));
}
value value::bytearray(std::string_view b) {
  return make_str(kind::bytearray, std::string(b));
}

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
  if (max_digits && digits.size() > max_digits)
    fail(errc::limit_exceeded, "Exceeds the limit (" + std::to_string(max_digits) +
                                   " digits) for integer string conversion: value has " +
                                   std::to_string(digits.size()) + " digits");
  std::vector<std::uint32_t> mag;
  auto mul_add = [&](std::uint32_t mul, std::uint32_t add) {
    std::uint64_t carry = add;
    for (auto& limb : mag) {
      const std::uint64_t cur = std::uint64_t(limb) * mul + carry;
      limb = static_cast<std::uint32_t>(cur);
      carry = cur >> 32;
    }
    if (carry) mag.push_back(static_cast<std::uint32_t>(carry));
  };
  // nine digits at a time
  for (std::size_t i = 0; i < digits.size();) {
    const std::size_t n = i == 0 && digits.size() % 9 ? digits.size() % 9 : 9;
    std::uint32_t v = 0, m = 1;
    for (std::size_t k = 0; k < n; ++k, ++i)
      v = v * 10 + static_cast<std::uint32_t>(digits[i] - '0'), m *= 10;
    mul_add(m, v);
  }
  while (!mag.empty() && mag.back() == 0)
    mag.pop_back();
  return make_big(magnitude_le(mag, neg));
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

value value::scalar(const npio::dtype& dt, std::string_view raw) {
  if (raw.size() != dt.itemsize())
    fail(errc::invalid_argument, "scalar of " + dt.str() + " needs " +
                                     std::to_string(dt.itemsize()) + " bytes, not " +
                                     std::to_string(raw.size()));
  auto* n = new detail::scalar_node;
  n->dt = dt;
  n->raw = std::string(raw);
  return access::make(kind::scalar, n);
}

value value::datetime(const datetime_t& dt, value tzinfo) {
  check_date(dt.year, dt.month, dt.day);
  check_time(dt.hour, dt.minute, dt.second, dt.microsecond);
  auto* n = new detail::datetime_node;
  n->dt = dt;
  n->tzinfo = std::move(tzinfo);
  return access::make(kind::datetime, n);
}
value value::date(int year, int month, int day) {
  check_date(year, month, day);
  auto* n = new detail::datetime_node;
  n->dt = datetime_t{year, month, day, 0, 0, 0, 0, false};
  return access::make(kind::date, n);
}
value value::time(int hour, int minute, int second, int microsecond, bool fold, value tzinfo) {
  check_time(hour, minute, second, microsecond);
  auto* n = new detail::datetime_node;
  n->dt = datetime_t{1900, 1, 1, hour, minute, second, microsecond, fold};
  n->tzinfo = std::move(tzinfo);
  return access::make(kind::time, n);
}
value value::timedelta(std::int64_t days, std::int64_t seconds, std::int64_t us) {
  constexpr std::int64_t lim = 1000000000; // |days| <= 999999999 in Python
  if (days <= -lim * 10 || days >= lim * 10 || seconds <= -lim * 100000 ||
      seconds >= lim * 100000 || us <= -lim * 100000000 || us >= lim * 100000000)
    fail(errc::invalid_argument, "timedelta out of range");
  auto floordiv = [](std::int64_t a, std::int64_t b, std::int64_t& r) {
    std::int64_t q = a / b;
    r = a % b;
    if (r < 0) r += b, --q;
    return q;
  };
  std::int64_t r = 0;
  seconds += floordiv(us, 1000000, r);
  us = r;
  days += floordiv(seconds, 86400, r);
  seconds = r;
  if (days < -999999999 || days > 999999999)
    fail(errc::invalid_argument,
         "days=" + std::to_string(days) + "; must have magnitude <= 999999999");
  auto* n = new detail::timedelta_node;
  n->td = timedelta_t{days, seconds, us};
  return access::make(kind::timedelta, n);
}
value value::decimal(std::string_view text) {
  return make_str(kind::decimal, std::string(text));
}
value value::global(std::string_view module, std::string_view name) {
  auto* n = new detail::global_node;
  n->module = std::string(module);
  n->name = std::string(name);
  return access::make(kind::global, n);
}
value value::object(std::string_view cls, value args, value state) {
  auto* n = new detail::object_node;
  n->cls = std::string(cls);
  n->args = std::move(args);
  n->state = std::move(state);
  return access::make(kind::object, n);
}

value::value(const value& o) noexcept : meta_(o.meta_), u_(o.u_) {
  if (is_heap()) u_.p->refs.fetch_add(1, std::memory_order_relaxed);
}
value& value::operator=(const value& o) noexcept {
  if (this != &o) {
    value tmp(o);
    *this = std::move(tmp);
  }
  return *this;
}
value& value::operator=(value&& o) noexcept {
  if (this != &o) {
    value old; // released after the move, so o may live inside *this
    old.meta_ = meta_, old.u_ = u_;
    meta_ = o.meta_, u_ = o.u_;
    o.meta_ = 0, o.u_.i = 0;
  }
  return *this;
}

void value::release() noexcept {
  node* n = u_.p;
  if (n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_graph(tag(), n);
}

void value::detach() {
  if (!is_heap() || u_.p->refs.load(std::memory_order_acquire) == 1) return;
  node* c = nullptr;
  switch (tag()) {
  case kind::list:
  case kind::tuple:
  case kind::set:
  case kind::frozenset: {
    auto* n = new detail::seq_node;
    n->items = nd<detail::seq_node>(*this).items;
    c = n;
    break;
  }
  case kind::dict: {
    auto* n = new detail::dict_node;
    n->items = nd<detail::dict_node>(*this).items;
    c = n;
    break;
  }
  case kind::ndarray: {
    auto* n = new detail::array_node;
    n->a = nd<detail::array_node>(*this).a;
    c = n;
    break;
  }
  default:
    return; // other kinds are not mutated through value
  }
  value fresh = access::make(tag(), c, big());
  *this = std::move(fresh);
}

void value::require(kind k, const char* what) const {
  if (tag() != k)
    fail(errc::type_mismatch,
         std::string(what) + " needs a " + py::kind_name(k) + ", not " + py::kind_name(tag()));
}

std::complex<double> value::get_complex() const {
  const auto& n = nd<detail::complex_node>(*this);
  return {n.re, n.im};
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

std::size_t value::size() const {
  switch (tag()) {
  case kind::list:
  case kind::tuple:
  case kind::set:
  case kind::frozenset:
    return nd<detail::seq_node>(*this).items.size();
  case kind::dict:
    return nd<detail::dict_node>(*this).items.size();
  case kind::str:
  case kind::bytes:
  case kind::bytearray:
    return access::text(*this).size();
  default:
    fail(errc::type_mismatch, std::string("object of type '") + kind_name() + "' has no len()");
  }
}

const std::vector<value>& value::items() const& {
  if (!is_sequence())
    fail(errc::type_mismatch,
         std::string("items() needs a list, tuple or set, not ") + kind_name());
  return nd<detail::seq_node>(*this).items;
}
std::vector<value>& value::items() & {
  (void)std::as_const(*this).items();
  detach();
  auto& n = nd<detail::seq_node>(*this);
  n.index.clear();
  return n.items;
}
const dict_entries& value::dict_items() const& {
  require(kind::dict, "dict_items()");
  return nd<detail::dict_node>(*this).items;
}
dict_entries& value::dict_items() & {
  require(kind::dict, "dict_items()");
  detach();
  auto& n = nd<detail::dict_node>(*this);
  n.index.clear();
  return n.items;
}

const value& value::at(std::int64_t i) const& {
  if (tag() != kind::list && tag() != kind::tuple)
    fail(errc::type_mismatch,
         std::string("'") + kind_name() + "' object is not subscriptable by index");
  const auto& v = nd<detail::seq_node>(*this).items;
  const auto n = static_cast<std::int64_t>(v.size());
  const std::int64_t j = i < 0 ? i + n : i;
  if (j < 0 || j >= n)
    fail(errc::out_of_range,
         std::string(kind_name()) + " index " + std::to_string(i) + " out of range");
  return v[static_cast<std::size_t>(j)];
}
value& value::at(std::int64_t i) & {
  (void)std::as_const(*this).at(i);
  detach();
  auto& v = nd<detail::seq_node>(*this).items;
  const auto n = static_cast<std::int64_t>(v.size());
  return v[static_cast<std::size_t>(i < 0 ? i + n : i)];
}
const value* value::find(const value& key) const& {
  require(kind::dict, "find()");
  return detail::dict_find(nd<detail::dict_node>(*this), key);
}
bool value::contains(const value& key) const {
  if (tag() == kind::set || tag() == kind::frozenset) {
    auto& n = nd<detail::seq_node>(*this);
    if (!key.is_hashable()) return false;
    return index_find(n.index, n.items, set_key, key, false) >= 0;
  }
  return find(key) != nullptr;
}
const value& value::at(const value& key) const& {
  const value* p = find(key);
  if (!p) fail(errc::out_of_range, "KeyError: " + key.repr());
  return *p;
}
value& value::at(const value& key) & {
  (void)std::as_const(*this).at(key);
  detach();
  return const_cast<value&>(*detail::dict_find(nd<detail::dict_node>(*this), key));
}
void value::push_back(value v) {
  if (is_none()) *this = list();
  require(kind::list, "push_back()");
  detach();
  nd<detail::seq_node>(*this).items.push_back(std::move(v));
}
void value::insert(value key, value v) {
  if (is_none()) *this = dict();
  require(kind::dict, "insert()");
  detach();
  detail::dict_set(nd<detail::dict_node>(*this), std::move(key), std::move(v));
}
void value::add(value item) {
  if (tag() != kind::set && tag() != kind::frozenset) require(kind::set, "add()");
  detach();
  detail::set_add(nd<detail::seq_node>(*this), std::move(item));
}

const npio::array& value::array() const& {
  require(kind::ndarray, "array()");
  return nd<detail::array_node>(*this).a;
}
npio::array& value::array() & {
  require(kind::ndarray, "array()");
  detach();
  return nd<detail::array_node>(*this).a;
}
const npio::dtype& value::dtype() const& {
  if (tag() == kind::scalar) return nd<detail::scalar_node>(*this).dt;
  require(kind::dtype, "dtype()");
  return nd<detail::dtype_node>(*this).dt;
}
const std::string& value::scalar_bytes() const& {
  require(kind::scalar, "scalar_bytes()");
  return nd<detail::scalar_node>(*this).raw;
}
const value& value::tzinfo() const& {
  if (tag() != kind::time) require(kind::datetime, "tzinfo()");
  return nd<detail::datetime_node>(*this).tzinfo;
}
const std::string& value::module() const& {
  require(kind::global, "module()");
  return nd<detail::global_node>(*this).module;
}
const std::string& value::name() const& {
  require(kind::global, "name()");
  return nd<detail::global_node>(*this).name;
}
const std::string& value::object_class() const& {
  require(kind::object, "object_class()");
  return nd<detail::object_node>(*this).cls;
}
const value& value::object_args() const& {
  require(kind::object, "object_args()");
  return nd<detail::object_node>(*this).args;
}
const value& value::object_state() const& {
  require(kind::object, "object_state()");
  return nd<detail::object_node>(*this).state;
}

// ---- hashing --------------------------------------------------------------------------

bool value::is_hashable() const noexcept {
  switch (tag()) {
  case kind::list:
  case kind::dict:
  case kind::set:
  case kind::bytearray:
  case kind::ndarray:
    return false;
  case kind::tuple:
    // A tuple is hashable when its items are; checked without recursion on
    // depth by hash() itself (which reports the culprit).
    return true;
  default:
    return true;
  }
}

namespace {
// Tuples and frozensets met before in this hash() are hashed once: a pickle
// can share a subtuple between both items of its parent (DUP, TUPLE2) at every
// level, and a walk that revisits them takes 2**depth steps.
using hash_memo = std::unordered_map<const detail::node*, std::size_t>;

std::size_t hash_rec(const value& v, int depth, hash_memo& memo) {
  if (depth > 1000)
    fail(errc::limit_exceeded, "maximum recursion depth exceeded while hashing a key");
  if (is_numberlike(v)) {
    num n = to_num(v);
    return num_hash(n);
  }
  switch (v.type()) {
  case kind::none:
    return 0x9e3779b97f4a7c15ULL;
  case kind::str:
    return hash_bytes(access::text(v), 1);
  case kind::bytes:
    return hash_bytes(nd<detail::str_node>(v).s, 2);
  case kind::decimal:
    return hash_bytes(nd<detail::str_node>(v).s, 3);
  case kind::tuple:
  case kind::frozenset: {
    const detail::node* n = access::ptr(v);
    if (n)
      if (auto it = memo.find(n); it != memo.end()) return it->second;
    std::size_t h;
    if (v.type() == kind::tuple) {
      h = 0x345678;
      for (const auto& c : v.items())
        h = mix(h * 1000003 ^ hash_rec(c, depth + 1, memo));
    } else {
      h = 0x6789;
      for (const auto& c : v.items())
        h += mix(hash_rec(c, depth + 1, memo));
    }
    if (n) memo.emplace(n, h);
    return h;
  }
  case kind::scalar:
    return hash_bytes(nd<detail::scalar_node>(v).raw, 5) ^ hash_bytes(v.dtype().str(), 6);
  case kind::dtype:
    return hash_bytes(v.dtype().str(), 7);
  case kind::datetime:
  case kind::date:
  case kind::time: {
    const auto& d = nd<detail::datetime_node>(v).dt;
    return mix(static_cast<std::uint64_t>(d.year) * 372 +
               static_cast<std::uint64_t>(d.month * 31 + d.day)) ^
           mix(static_cast<std::uint64_t>(((d.hour * 60 + d.minute) * 60 + d.second)) * 1000000 +
               static_cast<std::uint64_t>(d.microsecond)) ^
           static_cast<std::size_t>(v.type());
  }
  case kind::timedelta: {
    const auto& t = nd<detail::timedelta_node>(v).td;
    return mix(static_cast<std::uint64_t>(t.days) * 86400 + static_cast<std::uint64_t>(t.seconds)) ^
           mix(static_cast<std::uint64_t>(t.microseconds));
  }
  case kind::global:
    return hash_bytes(v.module() + "." + v.name(), 8);
  case kind::object:
    return mix(reinterpret_cast<std::uintptr_t>(access::ptr(v)));
  default:
    fail(errc::invalid_argument, std::string("unhashable type: '") + v.kind_name() + "'");
  }
}
} // namespace

std::size_t value::hash() const {
  hash_memo memo;
  return hash_rec(*this, 0, memo);
}

// ---- equality (iterative over containers) ----------------------------------------------

namespace {
bool is_container(kind k) noexcept {
  return k == kind::list || k == kind::tuple || k == kind::dict || k == kind::set ||
         k == kind::frozenset;
}

// Equality of two values when no walk is needed: 0 different, 1 equal, 2 walk.
int shallow_equal(const value& a, const value& b) {
  const kind ka = a.type(), kb = b.type();
  if (ka == kb) {
    switch (ka) {
    case kind::none:
      return 1;
    case kind::boolean:
      return access::ival(a) == access::ival(b);
    case kind::integer:
      if (!access::big(a) && !access::big(b)) return access::ival(a) == access::ival(b);
      return 2;
    case kind::floating:
      return access::fval(a) == access::fval(b);
    case kind::str:
    case kind::bytes:
    case kind::bytearray:
    case kind::decimal:
      if (access::heap(a) && access::ptr(a) == access::ptr(b)) return 1;
      return access::text(a) == access::text(b);
    default:
      return 2;
    }
  }
  if ((ka == kind::str || kb == kind::str) && ka != kind::scalar && kb != kind::scalar) return 0;
  return 2;
}
} // namespace

bool operator==(const value& a0, const value& b0) {
  if (const int s = shallow_equal(a0, b0); s != 2) return s == 1;
  std::vector<std::pair<const value*, const value*>> work;
  std::deque<value> keep; // temporaries (tolist of object arrays); stable addresses
  // Pairs of containers already compared (or queued): a pickle can share
  // subtrees (DUP, memo GET) so that a plain walk takes 2**depth steps, and
  // every pair must be equal anyway, so each is walked once.
  struct pair_hash {
    std::size_t operator()(const std::pair<const void*, const void*>& p) const noexcept {
      return std::hash<const void*>()(p.first) * 31 ^ std::hash<const void*>()(p.second);
    }
  };
  std::unordered_set<std::pair<const void*, const void*>, pair_hash> seen;
  work.emplace_back(&a0, &b0);
  while (!work.empty()) {
    auto [a, b] = work.back();
    work.pop_back();
    if (access::heap(*a) && access::ptr(*a) == access::ptr(*b) && a->type() == b->type()) continue;
    if (access::heap(*a) && access::heap(*b) && is_container(a->type()) &&
        !seen.emplace(access::ptr(*a), access::ptr(*b)).second)
      continue;
    if (is_numberlike(*a) && is_numberlike(*b)) {
      num x = to_num(*a), y = to_num(*b);
      if (!num_equal(x, y)) return false;
      continue;
    }
    const kind ka = a->type(), kb = b->type();
    const bool seta = ka == kind::set || ka == kind::frozenset;
    const bool setb = kb == kind::set || kb == kind::frozenset;
    if (ka != kb && !(seta && setb)) return false;
    switch (ka) {
    case kind::none:
      break;
    case kind::str:
    case kind::bytes:
    case kind::bytearray:
    case kind::decimal:
      if (access::text(*a) != access::text(*b)) return false;
      break;
    case kind::list:
    case kind::tuple: {
      const auto& x = a->items();
      const auto& y = b->items();
      if (x.size() != y.size()) return false;
      for (std::size_t i = x.size(); i-- > 0;)
        work.emplace_back(&x[i], &y[i]);
      break;
    }
    case kind::set:
    case kind::frozenset: {
      if (a->size() != b->size()) return false;
      for (const auto& e : a->items())
        if (!b->contains(e)) return false;
      break;
    }
    case kind::dict: {
      const auto& x = a->dict_items();
      if (x.size() != b->size()) return false;
      for (const auto& [k, v] : x) {
        const value* w = detail::dict_find(nd<detail::dict_node>(*b), k);
        if (!w) return false;
        work.emplace_back(&v, w);
      }
      break;
    }
    case kind::ndarray: {
      const auto& x = a->array();
      const auto& y = b->array();
      if (!(x.dtype() == y.dtype()) || x.shape() != y.shape()) return false;
      if (x.dtype().has_object()) {
        keep.push_back(tolist(x));
        keep.push_back(tolist(y));
        work.emplace_back(&keep[keep.size() - 2], &keep.back());
      } else if (!x.equal(y)) {
        return false;
      }
      break;
    }
    case kind::scalar:
      if (!(a->dtype() == b->dtype()) || a->scalar_bytes() != b->scalar_bytes()) return false;
      break;
    case kind::dtype:
      if (!(a->dtype() == b->dtype())) return false;
      break;
    case kind::datetime:
    case kind::date:
    case kind::time: {
      const auto& x = nd<detail::datetime_node>(*a);
      const auto& y = nd<detail::datetime_node>(*b);
      auto dx = x.dt, dy = y.dt;
      dx.fold = dy.fold = false; // Python ignores fold in ==
      if (!(dx == dy)) return false;
      work.emplace_back(&x.tzinfo, &y.tzinfo);
      break;
    }
    case kind::timedelta:
      if (!(nd<detail::timedelta_node>(*a).td == nd<detail::timedelta_node>(*b).td)) return false;
      break;
    case kind::global:
      if (a->module() != b->module() || a->name() != b->name()) return false;
      break;
    case kind::object: {
      const auto& x = nd<detail::object_node>(*a);
      const auto& y = nd<detail::object_node>(*b);
      if (x.cls != y.cls) return false;
      work.emplace_back(&x.args, &y.args);
      work.emplace_back(&x.state, &y.state);
      work.emplace_back(&x.list_items, &y.list_items);
      work.emplace_back(&x.dict_items, &y.dict_items);
      break;
    }
    default:
      return false;
    }
  }
  return true;
}

// ---- repr (iterative) -------------------------------------------------------------------

namespace {

std::string dt_fields(const datetime_t& d, bool with_date, bool with_time) {
  std::string s;
  auto add = [&s](int x) {
    if (!s.empty()) s += ", ";
    s += std::to_string(x);
  };
  if (with_date) add(d.year), add(d.month), add(d.day);
  if (with_time) {
    add(d.hour), add(d.minute);
    if (d.second || d.microsecond) add(d.second);
    if (d.microsecond) add(d.microsecond);
    if (d.fold) s += ", fold=1";
  }
  return s;
}

// Repr of a leaf (a value with no children to walk).
void leaf_repr(std::string& out, const value& v) {
  switch (v.type()) {
  case kind::none:
    out += "None";
    break;
  case kind::boolean:
    out += v.as<bool>() ? "True" : "False";
    break;
  case kind::integer:
    out += v.int_str();
    break;
  case kind::floating:
    out += float_repr(*v.get_if<double>());
    break;
  case kind::complex: {
    const auto c = v.as_complex();
    out += complex_repr(c.real(), c.imag());
    break;
  }
  case kind::str:
    str_repr(out, access::text(v));
    break;
  case kind::bytes:
    bytes_repr(out, nd<detail::str_node>(v).s);
    break;
  case kind::bytearray:
    out += "bytearray(";
    bytes_repr(out, nd<detail::str_node>(v).s);
    out += ")";
    break;
  case kind::decimal:
    out += "Decimal(";
    str_repr(out, nd<detail::str_node>(v).s);
    out += ")";
    break;
  case kind::scalar: {
    const auto& dt = v.dtype();
    out += "np.";
    const char k = dt.kind();
    const std::size_t bits = dt.itemsize() * 8;
    if (k == 'f' || k == 'i' || k == 'u' || k == 'c') {
      out += k == 'f' ? "float" : k == 'i' ? "int" : k == 'u' ? "uint" : "complex";
      out += std::to_string(bits);
    } else if (k == 'b') {
      out += "bool";
    } else if (k == 'S') {
      out += "bytes_";
    } else if (k == 'U') {
      out += "str_";
    } else if (k == 'M') {
      out += "datetime64";
    } else if (k == 'm') {
      out += "timedelta64";
    } else {
      out += "void";
    }
    out += "(";
    npio::array dummy;
    const auto* raw = reinterpret_cast<const std::byte*>(v.scalar_bytes().data());
    const bool sw = dt.itemsize() > 1 && !dt.is_native();
    // a float at its own precision (float16, float32, long double)
    auto own = [&](const std::byte* p, std::size_t n, bool force_point) -> std::string {
      if (n == 2) {
        float16 h;
        h.bits = load_swapped<std::uint16_t>(p, sw);
        return half_repr(h, force_point);
      }
      if (n == 4) return float_repr_impl(load_swapped<float>(p, sw), force_point);
      if (n == sizeof(long double))
        return float_repr_impl(load_swapped<long double>(p, sw), force_point);
      return float_repr_impl(load_swapped<double>(p, sw), force_point);
    };
    if (k == 'f') {
      out += own(raw, dt.itemsize(), true);
    } else if (k == 'c') {
      const std::size_t h = dt.itemsize() / 2;
      const std::string re = own(raw, h, false), im = own(raw + h, h, false);
      const bool re_zero = (re == "0");
      if (re_zero) {
        out += im + "j";
      } else {
        out += "(" + re + (im[0] == '-' ? "" : "+") + im + "j)";
      }
    } else if (k == 'V' && (dt.is_structured() || dt.has_object())) {
      bytes_repr(out, v.scalar_bytes());
    } else {
      out += element_value(dummy, dt, reinterpret_cast<const std::byte*>(v.scalar_bytes().data()))
                 .repr();
    }
    out += ")";
    break;
  }
  case kind::dtype:
    out += "dtype(";
    str_repr(out, v.dtype().str());
    out += ")";
    break;
  case kind::datetime:
    out += "datetime.datetime(" + dt_fields(v.as<datetime_t>(), true, true);
    break;
  case kind::date:
    out += "datetime.date(" + dt_fields(v.as<datetime_t>(), true, false) + ")";
    break;
  case kind::time:
    out += "datetime.time(" + dt_fields(v.as<datetime_t>(), false, true);
    break;
  case kind::timedelta: {
    const auto t = v.as<timedelta_t>();
    std::string s;
    if (t.days) s += "days=" + std::to_string(t.days);
    if (t.seconds) s += std::string(s.empty() ? "" : ", ") + "seconds=" + std::to_string(t.seconds);
    if (t.microseconds)
      s += std::string(s.empty() ? "" : ", ") + "microseconds=" + std::to_string(t.microseconds);
    out += "datetime.timedelta(" + (s.empty() ? std::string("0") : s) + ")";
    break;
  }
  case kind::global:
    out += "<class '" + (v.module() == "builtins" ? v.name() : v.module() + "." + v.name()) + "'>";
    break;
  default:
    out += "?";
  }
}

struct repr_frame {
  const value* v;
  std::size_t i = 0;
  const char* close = "";
  std::unique_ptr<value> own; // tolist() of an ndarray being printed
};

} // namespace

std::string value::repr() const {
  std::string out;
  std::vector<repr_frame> st;
  // Emits the opening of v (or all of it for a leaf) and pushes a frame when
  // it has children.
  auto open = [&](const value& v) {
    switch (v.type()) {
    case kind::list:
      out += '[';
      st.push_back({&v, 0, "]", nullptr});
      break;
    case kind::tuple:
      out += '(';
      st.push_back({&v, 0, v.size() == 1 ? ",)" : ")", nullptr});
      break;
    case kind::set:
    case kind::frozenset: {
      const bool fz = v.type() == kind::frozenset;
      if (v.size() == 0) {
        out += fz ? "frozenset()" : "set()";
        break;
      }
      out += fz ? "frozenset({" : "{";
      st.push_back({&v, 0, fz ? "})" : "}", nullptr});
      break;
    }
    case kind::dict:
      out += '{';
      st.push_back({&v, 0, "}", nullptr});
      break;
    case kind::ndarray: {
      const auto& a = v.array();
      out += "array(";
      std::unique_ptr<value> own;
      try {
        own = std::make_unique<value>(tolist(a));
      } catch (const error& e) {
        // elements with no Python value (e.g. invalid code points in a U array)
        out += "<" + e.detail() + ">)";
        break;
      }
      std::string close = ", dtype=";
      repr_frame f{nullptr, 0, "", std::move(own)};
      f.v = f.own.get();
      // the closing text must outlive the frame: keep it in a static table by kind
      f.close = a.dtype().is_object() ? ", dtype=object)" : ")";
      if (!f.v->is_list()) {
        leaf_repr(out, *f.v);
        out += f.close;
        break;
      }
      out += '[';
      f.close = a.dtype().is_object() ? "], dtype=object)" : "])";
      st.push_back(std::move(f));
      break;
    }
    case kind::datetime:
    case kind::time: {
      leaf_repr(out, v);
      const auto& tz = nd<detail::datetime_node>(v).tzinfo;
      if (tz.is_none()) {
        out += ")";
      } else {
        out += ", tzinfo=";
        st.push_back({&v, 0, ")", nullptr});
      }
      break;
    }
    case kind::object:
      out += nd<detail::object_node>(v).cls + "(*";
      st.push_back({&v, 0, ")", nullptr});
      break;
    default:
      leaf_repr(out, v);
    }
  };
  open(*this);
  while (!st.empty()) {
    auto& f = st.back();
    const value& v = *f.v;
    const std::size_t i = f.i++;
    const value* next = nullptr;
    switch (v.type()) {
    case kind::list:
    case kind::tuple:
    case kind::set:
    case kind::frozenset: {
      const auto& it = nd<detail::seq_node>(v).items;
      if (i < it.size()) {
        if (i) out += ", ";
        next = &it[i];
      }
      break;
    }
    case kind::dict: {
      const auto& it = nd<detail::dict_node>(v).items;
      if (i < 2 * it.size()) {
        if (i % 2 == 0 && i) out += ", ";
        if (i % 2 == 1) out += ": ";
        next = i % 2 == 0 ? &it[i / 2].first : &it[i / 2].second;
      }
      break;
    }
    case kind::datetime:
    case kind::time:
      if (i == 0) next = &nd<detail::datetime_node>(v).tzinfo;
      break;
    case kind::object: {
      const auto& o = nd<detail::object_node>(v);
      if (i == 0) {
        next = &o.args;
      } else if (i == 1 && !o.state.is_none()) {
        out += ", state=";
        next = &o.state;
      }
      break;
    }
    default:
      break;
    }
    if (next) {
      open(*next);
    } else {
      out += st.back().close;
      st.pop_back();
    }
  }
  return out;
}

// ---- object arrays ------------------------------------------------------------------------

namespace {

const value& none_value() {
  static const value v;
  return v;
}

// Address of flat C-order element i.
const std::byte* flat_ptr(const npio::array& a, std::int64_t i) {
  const auto n = a.size();
  if (i < 0 || i >= n)
    fail(errc::out_of_range,
         "index " + std::to_string(i) + " is out of bounds for size " + std::to_string(n));
  std::int64_t off = 0;
  for (std::size_t d = a.ndim(); d-- > 0;) {
    const std::int64_t ext = a.shape()[d];
    off += (i % ext) * a.strides()[d];
    i /= ext;
  }
  return a.data() + off;
}

void require_object(const npio::array& a) {
  if (!a.dtype().is_object())
    fail(errc::type_mismatch, "an object array is needed, not " + a.dtype().str());
}

std::string utf8_of(char32_t c) {
  std::string s;
  npio::detail::append_utf8(s, static_cast<std::uint32_t>(c));
  return s;
}

value nested_subarray(const npio::array& a, const npio::dtype& base,
                      const std::vector<std::int64_t>& shape, std::size_t dim,
                      const std::byte*& p) {
  std::vector<value> out;
  for (std::int64_t k = 0; k < shape[dim]; ++k) {
    if (dim + 1 == shape.size()) {
      out.push_back(element_value(a, base, p));
      p += base.itemsize();
    } else {
      out.push_back(nested_subarray(a, base, shape, dim + 1, p));
    }
  }
  return value::list(std::move(out));
}

value tolist_rec(const npio::array& a, std::size_t dim, const std::byte* p) {
  if (dim == a.ndim()) return element_value(a, a.dtype(), p);
  std::vector<value> out;
  out.reserve(static_cast<std::size_t>(a.shape()[dim]));
  for (std::int64_t k = 0; k < a.shape()[dim]; ++k)
    out.push_back(tolist_rec(a, dim + 1, p + k * a.strides()[dim]));
  return value::list(std::move(out));
}

} // namespace

value element_value(const npio::array& a, const npio::dtype& dt, const std::byte* p) {
  const bool swap = dt.itemsize() > 1 && dt.order() != byte_order::none && !dt.is_native();
  if (dt.is_subarray()) {
    const std::byte* q = p;
    if (dt.shape().empty()) return element_value(a, dt.base(), p);
    return nested_subarray(a, dt.base(), dt.shape(), 0, q);
  }
  if (dt.is_structured()) {
    std::vector<value> out;
    for (const auto& f : dt.fields()) {
      out.push_back(element_value(a, f.type, p + f.offset));
    }
    return value::tuple(std::move(out));
  }
  const std::size_t n = dt.itemsize();
  switch (dt.kind()) {
  case 'b':
    return value(*p != std::byte{0});
  case 'i':
    switch (n) {
    case 1:
      return value(load_swapped<std::int8_t>(p, false));
    case 2:
      return value(load_swapped<std::int16_t>(p, swap));
    case 4:
      return value(load_swapped<std::int32_t>(p, swap));
    case 8:
      return value(load_swapped<std::int64_t>(p, swap));
    default:
      break;
    }
    break;
  case 'u':
    switch (n) {
    case 1:
      return value(load_swapped<std::uint8_t>(p, false));
    case 2:
      return value(load_swapped<std::uint16_t>(p, swap));
    case 4:
      return value(load_swapped<std::uint32_t>(p, swap));
    case 8:
      return value(load_swapped<std::uint64_t>(p, swap));
    default:
      break;
    }
    break;
  case 'f':
    switch (n) {
    case 2: {
      float16 h;
      h.bits = load_swapped<std::uint16_t>(p, swap);
      return value(static_cast<double>(static_cast<float>(h)));
    }
    case 4:
      return value(static_cast<double>(load_swapped<float>(p, swap)));
    case 8:
      return value(load_swapped<double>(p, swap));
    default:
      if (n == sizeof(long double))
        return value(static_cast<double>(load_swapped<long double>(p, swap)));
      break;
    }
    break;
  case 'c': {
    const std::size_t h = n / 2;
    auto part = [&](const std::byte* q) -> double {
      if (h == 4) return static_cast<double>(load_swapped<float>(q, swap));
      if (h == 8) return load_swapped<double>(q, swap);
      if (h == sizeof(long double)) return static_cast<double>(load_swapped<long double>(q, swap));
      fail(errc::unsupported, "complex of " + std::to_string(n) + " bytes");
    };
    return value(std::complex<double>(part(p), part(p + h)));
  }
  case 'S': {
    std::string_view s(reinterpret_cast<const char*>(p), n);
    while (!s.empty() && s.back() == '\0')
      s.remove_suffix(1);
    return value::bytes(s);
  }
  case 'U': {
    std::size_t cnt = n / 4;
    const bool little =
        dt.order() == byte_order::little ||
        (dt.order() != byte_order::big && std::endian::native == std::endian::little);
    std::vector<char32_t> cps(cnt);
    for (std::size_t k = 0; k < cnt; ++k) {
      const auto* q = reinterpret_cast<const unsigned char*>(p + 4 * k);
      cps[k] =
          little
              ? char32_t(q[0]) | char32_t(q[1]) << 8 | char32_t(q[2]) << 16 | char32_t(q[3]) << 24
              : char32_t(q[3]) | char32_t(q[2]) << 8 | char32_t(q[1]) << 16 | char32_t(q[0]) << 24;
    }
    while (cnt > 0 && cps[cnt - 1] == 0)
      --cnt;
    std::string s;
    for (std::size_t k = 0; k < cnt; ++k) {
      if (cps[k] > 0x10ffff) fail(errc::invalid_argument, "invalid code point in a U array");
      s += utf8_of(cps[k]);
    }
    return value(std::move(s));
  }
  case 'V':
    return value::bytes(std::string_view(reinterpret_cast<const char*>(p), n));
  case 'M':
  case 'm': {
    const auto x = load_swapped<std::int64_t>(p, swap);
    if (x == std::numeric_limits<std::int64_t>::min()) return value();
    return value(x);
  }
  case 'O':
    return object_at(a, p);
  default:
    break;
  }
  fail(errc::unsupported, "no Python value for elements of " + dt.str());
}

npio::array make_object_array(shape_t shape, std::vector<value> items) {
  npio::array a(npio::dtype::make('O', 8), std::move(shape));
  if (static_cast<std::size_t>(a.size()) != items.size())
    fail(errc::bad_shape, "object array of " + std::to_string(a.size()) + " elements given " +
                              std::to_string(items.size()) + " values");
  std::byte* d = a.mutable_data();
  const std::size_t n = items.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t idx = i + 1;
    std::memcpy(d + 8 * i, &idx, 8);
  }
  std::shared_ptr<std::vector<value>> table;
  if (items.capacity() > n) {
    // Room for the None at index 0: the items become the table in place.
    items.insert(items.begin(), value());
    table = std::make_shared<std::vector<value>>(std::move(items));
  } else {
    table = std::make_shared<std::vector<value>>();
    table->reserve(n + 1);
    table->emplace_back();
    for (auto& v : items)
      table->push_back(std::move(v));
  }
  a.base()->set_objects(std::move(table));
  return a;
}

const value& object_at(const npio::array& a, const std::byte* slot) {
  std::uint64_t idx = 0;
  std::memcpy(&idx, slot, 8);
  const auto& buf = a.base();
  const auto* table = buf ? buf->objects().get() : nullptr;
  if (!table || table->empty()) {
    if (idx == 0) return none_value();
    fail(errc::out_of_range,
         "object slot refers to entry " + std::to_string(idx) + " of an empty object table");
  }
  if (idx >= table->size())
    fail(errc::out_of_range, "object slot refers to entry " + std::to_string(idx) + " of " +
                                 std::to_string(table->size()));
  return (*table)[idx];
}

const value& object_at(const npio::array& a, std::int64_t i) {
  require_object(a);
  return object_at(a, flat_ptr(a, i));
}

void set_object(npio::array& a, std::byte* slot, value v) {
  if (!a.writeable()) fail(errc::not_writeable, "array is read-only");
  const auto& buf = a.base();
  if (!buf->objects()) {
    auto t = std::make_shared<std::vector<value>>();
    t->emplace_back();
    buf->set_objects(std::move(t));
  }
  auto& table = *buf->objects();
  if (table.empty()) table.emplace_back();
  table.push_back(std::move(v));
  const std::uint64_t idx = table.size() - 1;
  std::memcpy(slot, &idx, 8);
}

void set_object(npio::array& a, std::int64_t i, value v) {
  require_object(a);
  auto* p = const_cast<std::byte*>(flat_ptr(a, i));
  (void)a.mutable_data(); // checks writeability
  set_object(a, p, std::move(v));
}

value tolist(const npio::array& a) {
  return tolist_rec(a, 0, a.data());
}

value item(const npio::array& a) {
  if (a.size() != 1)
    fail(errc::out_of_range, "can only convert an array of size 1 to a Python scalar");
  return element_value(a, a.dtype(), a.data());
}

} // namespace py
} // namespace v1
} // namespace npio
