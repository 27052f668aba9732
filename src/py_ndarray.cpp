// The bridge between npio::array and py::value: element_value, object arrays
// (make_object_array, object_at, set_object), tolist and item.
#include "literal.hpp"
#include "py_internal.hpp"

#include <cmath>
#include <cstring>
#include <npio/visit.hpp>

namespace npio {
inline namespace v1 {
namespace py {

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
  const bool swap = needs_swap(dt);
  const std::size_t n = dt.itemsize();
  return visit_kind(dt, [&](auto tag) -> value {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, subarray_tag>) {
      const std::byte* q = p;
      if (dt.shape().empty()) return element_value(a, dt.base(), p);
      return nested_subarray(a, dt.base(), dt.shape(), 0, q);
    } else if constexpr (std::is_same_v<Tag, structured_tag>) {
      std::vector<value> out;
      for (const auto& f : dt.fields())
        out.push_back(element_value(a, f.type, p + f.offset));
      return value::tuple(std::move(out));
    } else if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      return value(*p != std::byte{0});
    } else if constexpr (std::is_same_v<Tag, bytes_tag>) {
      std::string_view s(reinterpret_cast<const char*>(p), n);
      while (!s.empty() && s.back() == '\0')
        s.remove_suffix(1);
      return value::bytes(s);
    } else if constexpr (std::is_same_v<Tag, str_tag>) {
      std::size_t cnt = n / 4;
      std::vector<char32_t> cps(cnt);
      for (std::size_t k = 0; k < cnt; ++k)
        cps[k] = static_cast<char32_t>(load_element<std::uint32_t>(p + 4 * k, swap));
      while (cnt > 0 && cps[cnt - 1] == 0)
        --cnt;
      std::string s;
      for (std::size_t k = 0; k < cnt; ++k) {
        if (cps[k] > 0x10ffff) fail(errc::invalid_argument, "invalid code point in a U array");
        s += utf8_of(cps[k]);
      }
      return value(std::move(s));
    } else if constexpr (std::is_same_v<Tag, void_tag>) {
      return value::bytes(std::string_view(reinterpret_cast<const char*>(p), n));
    } else if constexpr (std::is_same_v<Tag, datetime_tag> || std::is_same_v<Tag, timedelta_tag>) {
      const auto x = load_element<std::int64_t>(p, swap);
      if (x == std::numeric_limits<std::int64_t>::min()) return value();
      return value(x);
    } else if constexpr (std::is_same_v<Tag, object_tag>) {
      return object_at(a, p);
    } else {
      using T = typename Tag::type;
      if constexpr (std::is_integral_v<T>) {
        return value(load_element<T>(p, swap));
      } else if constexpr (requires { typename T::value_type; }) { // complex
        const T c = load_element<T>(p, swap);
        return value(
            std::complex<double>(static_cast<double>(c.real()), static_cast<double>(c.imag())));
      } else if constexpr (std::is_same_v<T, float16>) {
        return value(static_cast<double>(static_cast<float>(load_element<T>(p, swap))));
      } else { // float, double, long double: a Python float
        return value(static_cast<double>(load_element<T>(p, swap)));
      }
    }
  });
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
