// npio::py::value: storage, construction, copy-on-write, iterative destruction,
// the dict/set hash index and typed access. Big ints are in py_bigint.cpp,
// equality and hashing in py_compare.cpp, repr in py_repr.cpp and the
// object-array bridge in py_ndarray.cpp.
#include "py_internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace npio {
inline namespace v1 {
namespace py {

namespace {

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

} // namespace py
} // namespace v1
} // namespace npio
