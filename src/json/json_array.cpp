// Typed arrays <-> tagged JSON (shared spec/json.md): dtypes as descr JSON,
// walked through dtype::fields(), base() and shape(); elements through
// npio::visit_kind. Object elements go through json_value.cpp.
#include "json_internal.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <npio/pickle.hpp>
#include <npio/visit.hpp>
#include <unordered_set>

namespace npio {
inline namespace v1 {
namespace json {

using namespace internal;

// ---- dtypes ----------------------------------------------------------------

namespace {

template <class T> inline constexpr bool is_complex = false;
template <class F> inline constexpr bool is_complex<std::complex<F>> = true;

[[noreturn]] void bad_descr(const std::string& what) {
  fail(errc::bad_descr, what);
}

node shape_json(const shape_t& s) {
  node out = node::array();
  for (auto d : s)
    out.push_back(d);
  return out;
}

// As dtype::descr() (numpy/_core/_internal.py::_array_descr), as JSON.
node descr_json(const dtype& dt) {
  if (dt.is_subarray()) return node::array({descr_json(dt.base()), shape_json(dt.shape())});
  if (!dt.is_structured()) return dt.str();
  node out = node::array();
  std::size_t offset = 0;
  auto pad = [&](std::size_t n) { out.push_back(node::array({"", "|V" + std::to_string(n)})); };
  for (const field& f : dt.fields()) {
    if (f.offset > offset)
      pad(f.offset - offset), offset = f.offset;
    else if (f.offset < offset)
      bad_descr("dtype.descr is not defined for types with overlapping or out-of-order fields");
    node item = node::array();
    item.push_back(f.title ? node::array({*f.title, f.name}) : node(f.name));
    if (f.type.is_subarray()) {
      item.push_back(descr_json(f.type.base()));
      item.push_back(shape_json(f.type.shape()));
    } else {
      item.push_back(descr_json(f.type));
    }
    out.push_back(std::move(item));
    offset += f.type.itemsize();
  }
  if (dt.itemsize() > offset) pad(dt.itemsize() - offset);
  return out;
}

bool is_shape(const node& s) {
  if (s.is_number_integer()) return true;
  if (!s.is_array()) return false;
  for (const auto& d : s)
    if (!d.is_number_integer()) return false;
  return true;
}

std::int64_t dimension(const node& d) {
  if (d.is_number_unsigned() &&
      d.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    bad_descr("a subarray dimension is too large: " + d.dump());
  const auto v = d.get<std::int64_t>();
  if (v < 0) bad_descr("subarray dimensions must be non-negative: " + d.dump());
  return v;
}

// (type, shape): an int shape of 1 is the deprecated synonym of type itself.
dtype subarray_of(const dtype& base, const node& s) {
  if (!is_shape(s)) bad_descr("a subarray shape must be an integer or a list of integers");
  if (s.is_number_integer()) {
    const auto d = dimension(s);
    return d == 1 ? base : dtype::subarray(base, {d});
  }
  shape_t shape;
  for (const auto& d : s)
    shape.push_back(dimension(d));
  return dtype::subarray(base, std::move(shape));
}

// As dtype::from_descr reads the Python literal, from its JSON form: lists
// stand for both tuples and lists, so [TYPE, SHAPE] with TYPE a string or a
// list and SHAPE integers is a subarray (a field is never a list of integers).
dtype descr_dtype(const node& j, std::size_t depth) {
  if (depth > max_dtype_depth)
    fail(errc::limit_exceeded,
         "dtype nesting deeper than " + std::to_string(max_dtype_depth) + " levels");
  if (j.is_string()) return dtype::parse(j.get_ref<const std::string&>());
  if (!j.is_array()) bad_descr("a dtype must be a string or a list, not " + j.dump());
  if (j.size() == 2 && (j[0].is_string() || j[0].is_array()) && is_shape(j[1]))
    return subarray_of(descr_dtype(j[0], depth + 1), j[1]);
  std::vector<field> fields;
  std::size_t offset = 0;
  for (const node& f : j) {
    if (!f.is_array() || f.size() < 2 || f.size() > 3)
      bad_descr("a structured dtype field must be [name, type] or [name, type, shape], not " +
                f.dump());
    std::string name;
    std::optional<std::string> title;
    if (f[0].is_string()) {
      name = f[0].get<std::string>();
    } else if (f[0].is_array() && f[0].size() == 2 && f[0][0].is_string() && f[0][1].is_string()) {
      title = f[0][0].get<std::string>();
      name = f[0][1].get<std::string>();
    } else {
      bad_descr("a field name must be a string or [title, name], not " + f[0].dump());
    }
    dtype t = descr_dtype(f[1], depth + 1);
    if (f.size() == 3) t = subarray_of(t, f[2]);
    // Padding: a '' name of raw void type (a '' name of any other type is a real field).
    const bool padding = !title && name.empty() && t.kind() == 'V' && !t.is_structured();
    if (!padding) fields.push_back(field{std::move(name), t, offset, std::move(title)});
    if (offset + t.itemsize() < offset) bad_descr("itemsize too large");
    offset += t.itemsize();
  }
  return dtype::structured(std::move(fields), offset);
}

} // namespace

node dtype_to_json(const dtype& dt) {
  return descr_json(dt);
}

dtype dtype_from_json(const node& j) {
  return descr_dtype(j, 0);
}

// ---- elements: array -> JSON text ------------------------------------------

namespace {

std::size_t count_of(const shape_t& shape) {
  std::size_t n = 1;
  for (auto d : shape)
    n *= static_cast<std::size_t>(d);
  return n;
}

struct element_writer {
  text_out& out;
  const array& arr; // for object slots
  const write_options& options;

  // A subarray field: nested lists (depth bounded by the dtype's).
  void nested(const dtype& base, const shape_t& shape, std::size_t dim, const std::byte* p) {
    if (dim == shape.size()) return element(base, p);
    const std::size_t stride =
        base.itemsize() *
        count_of(shape_t(shape.begin() + static_cast<std::ptrdiff_t>(dim) + 1, shape.end()));
    out.put('[');
    for (std::int64_t i = 0; i < shape[dim]; ++i) {
      if (i) out.put(", ");
      nested(base, shape, dim + 1, p + static_cast<std::size_t>(i) * stride);
    }
    out.put(']');
  }

  void bytes(const std::byte* p, std::size_t n) {
    out.put(R"({"$bytes": ")");
    out.put(base64_encode({p, n}));
    out.put("\"}");
  }

  void element(const dtype& dt, const std::byte* p) {
    visit_kind(dt, [&](auto tag) { put(tag, dt, p); });
  }

  template <class T> void put(std::type_identity<T>, const dtype& dt, const std::byte* p) {
    const bool sw = needs_swap(dt);
    if constexpr (std::is_same_v<T, bool>) {
      out.put(*p != std::byte{0} ? "true" : "false");
    } else if constexpr (std::is_integral_v<T>) {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, load_element<T>(p, sw));
      out.put(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    } else if constexpr (is_complex<T>) {
      const T c = load_element<T>(p, sw);
      out.put(R"({"$complex": [)");
      out.put(float_text(c.real()));
      out.put(", ");
      out.put(float_text(c.imag()));
      out.put("]}");
    } else {
      out.put(float_text(load_element<T>(p, sw)));
    }
  }
  void put(bytes_tag, const dtype& dt, const std::byte* p) {
    std::size_t len = dt.itemsize();
    while (len > 0 && p[len - 1] == std::byte{0})
      --len;
    bytes(p, len);
  }
  void put(void_tag, const dtype& dt, const std::byte* p) { bytes(p, dt.itemsize()); }
  void put(str_tag, const dtype& dt, const std::byte* p) {
    const bool sw = needs_swap(dt);
    std::size_t count = dt.itemsize() / 4;
    while (count > 0 && load_element<std::uint32_t>(p + (count - 1) * 4, sw) == 0)
      --count;
    std::string s;
    s.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      const auto cp = load_element<std::uint32_t>(p + k * 4, sw);
      if (cp > 0x10FFFF) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%X", cp);
        invalid(std::string("a text element holds an invalid code point U+") + hex);
      }
      append_utf8(s, cp); // a lone surrogate as WTF-8: write_string escapes it
    }
    write_string(out, s);
  }
  void time(const dtype& dt, const std::byte* p) {
    const auto v = load_element<std::int64_t>(p, needs_swap(dt));
    out.put(v == std::numeric_limits<std::int64_t>::min() ? std::string("null")
                                                          : std::to_string(v));
  }
  void put(datetime_tag, const dtype& dt, const std::byte* p) { time(dt, p); }
  void put(timedelta_tag, const dtype& dt, const std::byte* p) { time(dt, p); }
  void put(object_tag, const dtype&, const std::byte* p) {
    write(out, value_to_json(py::object_at(arr, p), options));
  }
  void put(structured_tag, const dtype& dt, const std::byte* p) {
    out.put('[');
    bool first = true;
    for (const auto& f : dt.fields()) {
      if (!first) out.put(", ");
      first = false;
      element(f.type, p + f.offset);
    }
    out.put(']');
  }
  void put(subarray_tag, const dtype& dt, const std::byte* p) {
    nested(dt.base(), dt.shape(), 0, p);
  }

  // The array's axes, at most max_ndim deep.
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

void empty_nesting(text_out& o, const shape_t& s, std::size_t d) {
  o.put('[');
  for (std::int64_t i = 0; i < s[d]; ++i) {
    if (i) o.put(", ");
    empty_nesting(o, s, d + 1); // stops at the first 0, at most ndim deep
  }
  o.put(']');
}

} // namespace

void write_data(text_out& out, const array& a, const write_options& options) {
  if (a.size() == 0) return empty_nesting(out, a.shape(), 0); // touches no memory
  element_writer{out, a, options}.dims(0, 0);
}

void write_npy(text_out& out, const array& a, bool fortran_order, const write_options& options) {
  out.put(R"({"dtype": )");
  write(out, dtype_to_json(a.dtype()));
  out.put(R"(, "shape": [)");
  for (std::size_t k = 0; k < a.shape().size(); ++k) {
    if (k) out.put(", ");
    out.put(std::to_string(a.shape()[k]));
  }
  out.put(R"(], "fortran_order": )");
  out.put(fortran_order ? "true" : "false");
  out.put(R"(, "data": )");
  write_data(out, a, options);
  out.put('}');
}

namespace internal {
std::string element_text(const dtype& dt, const std::byte* p, const write_options& options) {
  text_out out;
  const array none;
  element_writer{out, none, options}.element(dt, p);
  return std::move(out.str());
}
} // namespace internal

// ---- elements: JSON -> array ------------------------------------------------

namespace {

const node* tagged(const node& j, const char* tag) {
  if (!j.is_object() || j.size() != 1) return nullptr;
  const auto it = j.find(tag);
  return it == j.end() ? nullptr : &*it;
}

const char* type_name(const node& j) {
  switch (j.type()) {
  case node::value_t::null:
    return "null";
  case node::value_t::boolean:
    return "a boolean";
  case node::value_t::number_integer:
  case node::value_t::number_unsigned:
    return "an integer";
  case node::value_t::number_float:
    return "a float";
  case node::value_t::binary:
    return big_int_digits(j) ? "an integer beyond 64 bits" : "binary data";
  case node::value_t::string:
    return "a string";
  case node::value_t::array:
    return "a list";
  case node::value_t::object:
    return "an object";
  default:
    return "a value";
  }
}

std::string list_of(const node& j) {
  return j.is_array() ? "a list of " + std::to_string(j.size()) : std::string(type_name(j));
}

struct element_reader {
  array& arr;
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
        where += "[" + std::to_string(i) + "]";
    for (const auto& p : path)
      where += p.name ? "." + *p.name : "[" + std::to_string(p.i) + "]";
    invalid(where + ": " + what);
  }

  std::string number_text(const node& j) const {
    if (j.is_number_float()) {
      if (texts && !texts->empty()) {
        const auto it = texts->find(&j);
        if (it != texts->end()) return it->second;
      }
      return float_text(j.get<double>());
    }
    if (j.is_number_unsigned()) return std::to_string(j.get<std::uint64_t>());
    return std::to_string(j.get<std::int64_t>());
  }

  // A float value as decimal text, or "nan"/"inf"/"-inf".
  std::string float_source(const node& j, const dtype& dt) const {
    if (j.is_number()) return number_text(j);
    if (const auto digits = big_int_digits(j)) return std::string(*digits);
    if (const node* t = tagged(j, "$float"); t && t->is_string()) {
      const auto& s = t->get_ref<const std::string&>();
      if (s == "nan" || s == "inf" || s == "-inf") return s;
      bad("unknown $float value \"" + s + "\"");
    }
    bad("expected a number for " + dt.str() + ", got " + type_name(j));
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

  // One float of type T (float16, float, double, long double) from its text.
  template <class T> void put_float(std::byte* p, bool sw, const dtype& dt, const node& j) {
    const std::string s = float_source(j, dt);
    if constexpr (std::is_same_v<T, float16>) {
      const double v = parse_real<double>(s, std::strtod);
      const float16 h = float16_from_double(v);
      if ((h.bits & 0x7fffu) == 0x7c00u && !std::isinf(v))
        bad("the number " + s + " is out of range for float16");
      store_element(p, h, sw);
    } else if constexpr (std::is_same_v<T, float>) {
      store_element(p, parse_real<float>(s, std::strtof), sw);
    } else if constexpr (std::is_same_v<T, double>) {
      store_element(p, parse_real<double>(s, std::strtod), sw);
    } else {
      // The value bytes only: x87 padding stays zero, so the output is deterministic.
      const long double v = parse_real<long double>(s, std::strtold);
      std::byte tmp[sizeof(long double)] = {};
      std::memcpy(tmp, &v, std::numeric_limits<long double>::digits == 64 ? 10 : sizeof v);
      std::memcpy(p, tmp, sizeof tmp);
      if (sw) std::reverse(p, p + sizeof tmp);
    }
  }

  template <class T> void put_int(std::byte* p, bool sw, const dtype& dt, const node& j) {
    if (const auto digits = big_int_digits(j))
      bad(std::string(*digits) + " is out of range for " + dt.str());
    if (!j.is_number_integer())
      bad("expected an integer for " + dt.str() + ", got " + type_name(j));
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
    store_element(p, v, sw);
  }

  void nested(const dtype& base, const shape_t& shape, std::size_t dim, std::byte* p,
              const node& j) {
    if (dim == shape.size()) return element(base, p, j);
    if (!j.is_array() || j.size() != static_cast<std::size_t>(shape[dim]))
      bad("expected a list of " + std::to_string(shape[dim]) + " for a subarray, got " +
          list_of(j));
    const std::size_t stride =
        base.itemsize() *
        count_of(shape_t(shape.begin() + static_cast<std::ptrdiff_t>(dim) + 1, shape.end()));
    for (std::int64_t i = 0; i < shape[dim]; ++i) {
      path.push_back({nullptr, i});
      nested(base, shape, dim + 1, p + static_cast<std::size_t>(i) * stride,
             j[static_cast<std::size_t>(i)]);
      path.pop_back();
    }
  }

  void element(const dtype& dt, std::byte* p, const node& j) {
    visit_kind(dt, [&](auto tag) { get(tag, dt, p, j); });
  }

  template <class T> void get(std::type_identity<T>, const dtype& dt, std::byte* p, const node& j) {
    const bool sw = needs_swap(dt);
    if constexpr (std::is_same_v<T, bool>) {
      if (!j.is_boolean()) bad(std::string("expected true or false, got ") + type_name(j));
      *p = std::byte{j.get<bool>() ? std::uint8_t{1} : std::uint8_t{0}};
    } else if constexpr (std::is_integral_v<T>) {
      put_int<T>(p, sw, dt, j);
    } else if constexpr (is_complex<T>) {
      using F = typename T::value_type;
      const node* t = tagged(j, "$complex");
      if (!t || !t->is_array() || t->size() != 2)
        bad("expected {\"$complex\": [RE, IM]} for " + dt.str() + ", got " + type_name(j));
      put_float<F>(p, sw, dt, (*t)[0]);
      put_float<F>(p + sizeof(F), sw, dt, (*t)[1]);
    } else {
      put_float<T>(p, sw, dt, j);
    }
  }
  void raw(const dtype& dt, std::byte* p, const node& j) {
    const node* t = tagged(j, "$bytes");
    if (!t || !t->is_string())
      bad("expected {\"$bytes\": BASE64} for " + dt.str() + ", got " + type_name(j));
    std::vector<std::byte> b;
    try {
      b = base64_decode(t->get_ref<const std::string&>());
    } catch (const error& e) {
      bad(e.detail());
    }
    if (b.size() > dt.itemsize())
      bad(std::to_string(b.size()) + " bytes do not fit in " + dt.str());
    if (!b.empty()) std::memcpy(p, b.data(), b.size());
  }
  void get(bytes_tag, const dtype& dt, std::byte* p, const node& j) { raw(dt, p, j); }
  void get(void_tag, const dtype& dt, std::byte* p, const node& j) { raw(dt, p, j); }
  void get(str_tag, const dtype& dt, std::byte* p, const node& j) {
    if (!j.is_string()) bad("expected a string for " + dt.str() + ", got " + type_name(j));
    const bool sw = needs_swap(dt);
    const auto& s = j.get_ref<const std::string&>();
    const std::size_t n = dt.itemsize() / 4;
    std::size_t i = 0, k = 0;
    while (i < s.size()) {
      std::uint32_t cp;
      if (!next_utf8(s, i, cp, true)) bad("the string is not valid UTF-8");
      if (k == n) bad("the string has more than " + std::to_string(n) + " characters");
      store_element(p + 4 * k++, cp, sw);
    }
  }
  void time(const dtype& dt, std::byte* p, const node& j) {
    if (j.is_null())
      return store_element(p, std::numeric_limits<std::int64_t>::min(), needs_swap(dt));
    put_int<std::int64_t>(p, needs_swap(dt), dt, j);
  }
  void get(datetime_tag, const dtype& dt, std::byte* p, const node& j) { time(dt, p, j); }
  void get(timedelta_tag, const dtype& dt, std::byte* p, const node& j) { time(dt, p, j); }
  void get(object_tag, const dtype&, std::byte* p, const node& j) {
    py::set_object(arr, p, value_from_json(j, texts));
  }
  void get(structured_tag, const dtype& dt, std::byte* p, const node& j) {
    const std::size_t named = dt.fields().size();
    if (!j.is_array() || j.size() != named)
      bad("expected a list of " + std::to_string(named) + " field values, got " + list_of(j));
    std::size_t k = 0;
    for (const auto& f : dt.fields()) {
      path.push_back({&f.name, 0});
      element(f.type, p + f.offset, j[k++]);
      path.pop_back();
    }
  }
  void get(subarray_tag, const dtype& dt, std::byte* p, const node& j) {
    nested(dt.base(), dt.shape(), 0, p, j);
  }
};

// Checks that `data` nests exactly as `shape` says, before anything is allocated.
void check_nesting(const node& data, const shape_t& shape) {
  if (shape.empty()) return; // 0-d: the data is the bare element
  struct item {
    const node* j;
    std::size_t dim;
  };
  std::vector<item> stack{{&data, 0}};
  while (!stack.empty()) {
    const item it = stack.back();
    stack.pop_back();
    const auto want = static_cast<std::uint64_t>(shape[it.dim]);
    if (!it.j->is_array() || it.j->size() != want)
      invalid("data: axis " + std::to_string(it.dim) + " needs a list of " + std::to_string(want) +
              ", got " + list_of(*it.j));
    if (it.dim + 1 < shape.size()) // elements themselves are checked when read
      for (const auto& c : *it.j)
        stack.push_back({&c, it.dim + 1});
  }
}

} // namespace

array array_from_json(const dtype& dtype_in, const shape_t& shape_in, bool fortran_order,
                      const node& data, const number_texts* texts) {
  // A subarray dtype at the top level adds its dimensions to the array's, as
  // NumPy does; the nested lists of the data are the same either way.
  dtype dt = dtype_in;
  shape_t shape = shape_in;
  for (std::size_t guard = 0; dt.is_subarray() && guard < max_dtype_depth; ++guard) {
    shape.insert(shape.end(), dt.shape().begin(), dt.shape().end());
    dt = dt.base();
  }
  if (shape.size() > max_ndim)
    fail(errc::bad_shape, "more than " + std::to_string(max_ndim) + " dimensions");
  for (auto d : shape)
    if (d < 0) fail(errc::bad_shape, "negative dimensions are not allowed");
  check_nesting(data, shape);
  array a(dt, shape, fortran_order ? order::f : order::c);
  std::vector<std::int64_t> idx(shape.size(), 0);
  element_reader r{a, texts, &idx, {}};
  if (a.size() == 0) return a;
  std::byte* base = a.mutable_data();
  const auto& strides = a.strides();
  // Walk the indices in C order (an odometer), descending the nested lists.
  for (;;) {
    const node* j = &data;
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

array npy_from_json(const node& doc, const number_texts* texts, bool& fortran_order) {
  if (!doc.is_object()) invalid("a .npy document must be a JSON object");
  for (const auto& kv : doc.items())
    if (kv.key() != "dtype" && kv.key() != "shape" && kv.key() != "fortran_order" &&
        kv.key() != "data")
      invalid("unknown key \"" + kv.key() + "\" in a .npy document");
  for (const char* k : {"dtype", "shape", "data"})
    if (!doc.contains(k)) invalid(std::string("a .npy document needs \"") + k + "\"");
  const dtype dt = dtype_from_json(doc["dtype"]);
  const node& js = doc["shape"];
  if (!js.is_array()) invalid("shape must be a list of non-negative integers");
  shape_t shape;
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

std::vector<npz_member> npz_from_json(const node& members, const number_texts* texts) {
  if (!members.is_object()) invalid("\"members\" must be an object");
  // In document order, which is archive order: arrays become NAME.npy, and
  // {"$bytes": ...} members (not .npy files) are written as NAME exactly.
  std::vector<npz_member> out;
  std::unordered_set<std::string> stored; // member names in the archive
  for (const auto& [name, doc] : members.get_ref<const node::object_t&>()) {
    try {
      const node* b64 = tagged(doc, "$bytes");
      const std::string as = b64 ? name : name + ".npy";
      // "x" (an array, stored as x.npy) and "x.npy" (bytes) cannot both be written.
      if (!stored.insert(as).second) invalid("another member is also stored as '" + as + "'");
      if (b64) {
        if (!b64->is_string()) invalid("\"$bytes\" must be a string");
        out.emplace_back(raw_member{name, base64_decode(b64->get_ref<const std::string&>())});
        continue;
      }
      bool fortran = false;
      out.emplace_back(named_array(name, npy_from_json(doc, texts, fortran)));
    } catch (const error& e) {
      throw error(e.code(), "member \"" + name + "\": " + e.detail(), e.file(), e.member(),
                  e.offset());
    }
  }
  return out;
}

} // namespace json
} // namespace v1
} // namespace npio
