// Python equality and hashing of py::value: numbers compare across kinds
// (True == 1 == 1.0 == (1+0j)), containers are walked iteratively, and shared
// subtrees are hashed and compared once.
#include "py_internal.hpp"

#include <bit>
#include <cmath>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace npio {
inline namespace v1 {
namespace py {

using detail::double_le;
using detail::fits_int64;
using detail::int64_le;

namespace {

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
} // namespace

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

} // namespace py
} // namespace v1
} // namespace npio
