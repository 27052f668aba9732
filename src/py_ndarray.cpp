// The bridge between npio::array and py::value: element_value, object arrays
// (make_object_array, object_at, set_object), tolist and item.
#include "literal.hpp"
#include "py_internal.hpp"

#include <cmath>
#include <cstring>

namespace npio {
inline namespace v1 {
namespace py {

using detail::access;
using detail::fail;
using detail::load_swapped;
using detail::nd;
using detail::node;

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
