// Python values <-> the tagged JSON of shared spec/json.md ("Python values"),
// for object arrays and raw pickle files. Both directions are iterative: a
// pickle (or a JSON document) controls the nesting depth. Typed arrays and
// NumPy scalars inside a value go through json_array.cpp.
//
// Big ints: nlohmann::json has no arbitrary-precision integers, so an int that
// fits neither int64 nor uint64 is a big-int node (a binary node of subtype 1
// holding the decimal digits), which write() prints as a bare number and
// parse() makes from one.
#include "json_internal.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <npio/pickle.hpp>
#include <optional>

namespace npio {
inline namespace v1 {
namespace json {

using namespace internal;

namespace {

using py::value;

std::string b64(std::string_view s) {
  return base64_encode(std::as_bytes(std::span(s.data(), s.size())));
}

std::string bytes_of(const node& x) {
  if (!x.is_string()) invalid("a bytes tag needs a base64 string");
  const auto b = base64_decode(x.get_ref<const std::string&>());
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// ---- numbers --------------------------------------------------------------------------

node float_json(double d) {
  if (std::isnan(d)) return node{{"$float", "nan"}};
  if (std::isinf(d)) return node{{"$float", d < 0 ? "-inf" : "inf"}};
  return node(d);
}
node int_json(const value& v) {
  if (!v.is_big_int()) return node(v.as<std::int64_t>());
  const std::string digits = v.int_str();
  if (digits[0] != '-') {
    std::uint64_t u = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), u);
    if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) return node(u);
  }
  return big_int(digits);
}

double json_double(const node& j, const char* what) {
  if (j.is_number()) return j.get<double>();
  if (j.is_object() && j.size() == 1 && j.contains("$float")) {
    const auto s = j["$float"].get<std::string>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
  }
  invalid(std::string(what) + " must be a number, not " + j.dump());
}

value json_int(const node& j) {
  if (j.is_number_integer())
    return j.is_number_unsigned() ? value(j.get<std::uint64_t>()) : value(j.get<std::int64_t>());
  if (const auto digits = big_int_digits(j)) return value::integer(*digits);
  const double d = j.get<double>();
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", d);
  return value::integer(buf);
}

// ---- value -> JSON (iterative) -----------------------------------------------------------

bool plain_dict(const value& v) {
  for (const auto& [k, x] : v.dict_items()) {
    (void)x;
    if (!k.is_str()) return false;
    const auto s = k.as<std::string_view>();
    if (!s.empty() && s[0] == '$') return false;
  }
  return true;
}

std::string two(int x, int w = 2) {
  char b[16];
  std::snprintf(b, sizeof b, "%0*d", w, x);
  return b;
}

node value_json(const value& root, const write_options& options) {
  node result;
  struct task {
    const value* v;
    node* dst;
  };
  std::vector<task> work{{&root, &result}};
  std::vector<value> keep; // tolist() of object arrays being written
  keep.reserve(16);
  std::vector<std::unique_ptr<value>> owned;
  // Sizes `dst` as an array of n nulls and queues the items into it.
  auto seq = [&work](const std::vector<value>& items, node& dst) {
    dst = node::array();
    auto& arr = dst.get_ref<node::array_t&>();
    arr.resize(items.size());
    for (std::size_t i = items.size(); i-- > 0;)
      work.push_back({&items[i], &arr[i]});
  };
  while (!work.empty()) {
    auto [vp, dst] = work.back();
    work.pop_back();
    const value& v = *vp;
    switch (v.type()) {
    case py::kind::none:
      *dst = nullptr;
      break;
    case py::kind::boolean:
      *dst = v.as<bool>();
      break;
    case py::kind::integer:
      *dst = int_json(v);
      break;
    case py::kind::floating:
      *dst = float_json(v.as<double>());
      break;
    case py::kind::complex: {
      const auto c = v.as_complex();
      *dst = node{{"$complex", node::array({float_json(c.real()), float_json(c.imag())})}};
      break;
    }
    case py::kind::str:
      *dst = v.as<std::string>();
      break;
    case py::kind::bytes:
      *dst = node{{"$bytes", b64(v.as<std::string_view>())}};
      break;
    case py::kind::bytearray:
      *dst = node{{"$bytearray", b64(v.as<std::string_view>())}};
      break;
    case py::kind::list:
      seq(v.items(), *dst);
      break;
    case py::kind::tuple:
    case py::kind::set:
    case py::kind::frozenset: {
      const char* tag = v.is_tuple() ? "$tuple" : v.is_set() ? "$set" : "$frozenset";
      *dst = node::object();
      seq(v.items(), (*dst)[tag]);
      break;
    }
    case py::kind::dict: {
      const auto& items = v.dict_items();
      if (plain_dict(v)) {
        *dst = node::object();
        for (const auto& [k, x] : items)
          (*dst)[k.as<std::string>()] = nullptr;
        auto& obj = dst->get_ref<node::object_t&>();
        for (std::size_t i = items.size(); i-- > 0;)
          work.push_back(
              {&items[i].second, &(obj.begin() + static_cast<std::ptrdiff_t>(i))->second});
      } else {
        *dst = node::object();
        node& arr = (*dst)["$dict"] = node::array();
        auto& a = arr.get_ref<node::array_t&>();
        a.resize(items.size(), node::array({nullptr, nullptr}));
        for (std::size_t i = items.size(); i-- > 0;) {
          work.push_back({&items[i].second, &a[i][1]});
          work.push_back({&items[i].first, &a[i][0]});
        }
      }
      break;
    }
    case py::kind::ndarray: {
      const auto& a = v.array();
      node doc = node::object();
      doc["dtype"] = dtype_to_json(a.dtype());
      doc["shape"] = a.shape();
      doc["data"] = nullptr;
      *dst = node{{"$ndarray", std::move(doc)}};
      node& data = (*dst)["$ndarray"]["data"];
      if (a.dtype().is_object()) {
        owned.push_back(std::make_unique<value>(py::tolist(a)));
        if (owned.back()->is_list())
          seq(owned.back()->items(), data);
        else
          work.push_back({owned.back().get(), &data});
      } else {
        // typed elements at their own precision, by the array writer
        text_out t;
        write_data(t, a, options);
        data = raw_text(t.str());
      }
      break;
    }
    case py::kind::scalar: {
      node doc = node::object();
      doc["dtype"] = dtype_to_json(v.dtype());
      doc["value"] = raw_text(element_text(
          v.dtype(), reinterpret_cast<const std::byte*>(v.scalar_bytes().data()), options));
      *dst = node{{"$scalar", std::move(doc)}};
      break;
    }
    case py::kind::datetime:
    case py::kind::date:
    case py::kind::time: {
      if (!v.is_date() && !v.tzinfo().is_none())
        throw error(errc::unsupported,
                    "timezone-aware " + std::string(v.kind_name()) + " values have no JSON form");
      const auto d = v.as<py::datetime_t>();
      const std::string date = two(d.year, 4) + "-" + two(d.month) + "-" + two(d.day);
      const std::string time =
          two(d.hour) + ":" + two(d.minute) + ":" + two(d.second) + "." + two(d.microsecond, 6);
      if (v.is_datetime())
        *dst = node{{"$datetime", date + "T" + time}};
      else if (v.is_date())
        *dst = node{{"$date", date}};
      else
        *dst = node{{"$time", time}};
      break;
    }
    case py::kind::timedelta: {
      const auto t = v.as<py::timedelta_t>();
      *dst = node{{"$timedelta", node::array({t.days, t.seconds, t.microseconds})}};
      break;
    }
    case py::kind::decimal:
      *dst = node{{"$decimal", v.as<std::string>()}};
      break;
    case py::kind::global: {
      // the spec keeps $global for bare references to built-in types; a
      // reference to any other class is an object only --inert may show
      static constexpr std::string_view types[] = {
          "range", "int",  "float", "complex",   "str",  "bytes",  "bytearray", "list",
          "tuple", "dict", "set",   "frozenset", "bool", "object", "slice"};
      const std::string q = v.module() + "." + v.name();
      if (v.module() == "builtins" &&
          std::find(std::begin(types), std::end(types), v.name()) != std::end(types)) {
        *dst = node{{"$global", q}};
      } else if (options.inert) {
        node o = node::object();
        o["class"] = q;
        o["args"] = node::array();
        o["state"] = nullptr;
        *dst = node{{"$object", std::move(o)}};
      } else {
        throw error(errc::unsupported,
                    "a reference to " + q + " has no JSON form (--inert shows it as $object)");
      }
      break;
    }
    case py::kind::object: {
      if (!options.inert)
        throw error(errc::unsupported, v.object_class() +
                                           " values have no JSON form (--inert shows them "
                                           "as $object)");
      node o = node::object();
      o["class"] = v.object_class();
      o["args"] = nullptr;
      o["state"] = nullptr;
      *dst = node{{"$object", std::move(o)}};
      node& inner = (*dst)["$object"];
      const value& args = v.object_args();
      if (args.is_sequence())
        seq(args.items(), inner["args"]);
      else
        work.push_back({&args, &inner["args"]});
      work.push_back({&v.object_state(), &inner["state"]});
      break;
    }
    case py::kind::dtype:
      throw error(errc::unsupported, "numpy.dtype values have no JSON form");
    }
  }
  return result;
}

// ---- JSON -> value (iterative, post-order) -----------------------------------------------

std::string_view single_tag(const node& j) {
  if (j.is_object() && j.size() == 1) {
    const auto& k = j.begin().key();
    if (!k.empty() && k[0] == '$') return k;
  }
  return {};
}

value from_json(const node& root, const number_texts* texts);

int parse_int(std::string_view s, std::size_t at, std::size_t n) {
  int v = 0;
  auto r = std::from_chars(s.data() + at, s.data() + at + n, v);
  if (r.ptr != s.data() + at + n) invalid("bad date/time text '" + std::string(s) + "'");
  return v;
}

void parse_time(std::string_view s, py::datetime_t& d) {
  // HH:MM:SS[.ffffff]
  if (s.size() < 8 || s[2] != ':' || s[5] != ':') invalid("bad time text '" + std::string(s) + "'");
  d.hour = parse_int(s, 0, 2), d.minute = parse_int(s, 3, 2), d.second = parse_int(s, 6, 2);
  if (s.size() > 8) {
    if (s[8] != '.' || s.size() != 15) invalid("bad time text '" + std::string(s) + "'");
    d.microsecond = parse_int(s, 9, 6);
  }
}

value leaf_from_json(const node& j, std::string_view tag, const number_texts* texts) {
  const node& x = j.begin().value();
  if (tag == "$float") return value(json_double(j, "$float"));
  if (tag == "$complex") {
    if (!x.is_array() || x.size() != 2) invalid("$complex needs [RE, IM]");
    return value(
        std::complex<double>(json_double(x[0], "$complex"), json_double(x[1], "$complex")));
  }
  if (tag == "$bytes") return value::bytes(bytes_of(x));
  if (tag == "$bytearray") return value::bytearray(bytes_of(x));
  if (tag == "$decimal") return value::decimal(x.get<std::string>());
  if (tag == "$global") {
    const auto s = x.get<std::string>();
    const auto dot = s.rfind('.');
    if (dot == std::string::npos) invalid("$global needs module.name");
    return value::global(s.substr(0, dot), s.substr(dot + 1));
  }
  if (tag == "$timedelta") {
    if (!x.is_array() || x.size() != 3) invalid("$timedelta needs [DAYS, SECONDS, MICROSECONDS]");
    return value::timedelta(x[0].get<std::int64_t>(), x[1].get<std::int64_t>(),
                            x[2].get<std::int64_t>());
  }
  if (tag == "$date" || tag == "$datetime" || tag == "$time") {
    const auto s = x.get<std::string>();
    py::datetime_t d;
    if (tag != "$time") {
      if (s.size() < 10 || s[4] != '-' || s[7] != '-') invalid("bad date text '" + s + "'");
      d.year = parse_int(s, 0, 4), d.month = parse_int(s, 5, 2), d.day = parse_int(s, 8, 2);
      if (tag == "$date") {
        if (s.size() != 10) invalid("bad date text '" + s + "'");
        return value::date(d.year, d.month, d.day);
      }
      if (s.size() < 11 || s[10] != 'T') invalid("bad datetime text '" + s + "'");
      parse_time(std::string_view(s).substr(11), d);
      return value::datetime(d);
    }
    parse_time(s, d);
    return value::time(d.hour, d.minute, d.second, d.microsecond);
  }
  if (tag == "$scalar") {
    if (!x.is_object() || !x.contains("dtype") || !x.contains("value"))
      invalid("$scalar needs dtype and value");
    const auto dt = dtype_from_json(x["dtype"]);
    const array a = array_from_json(dt, {}, false, x["value"], texts);
    return value::scalar(dt,
                         std::string_view(reinterpret_cast<const char*>(a.data()), dt.itemsize()));
  }
  if (tag == "$object")
    throw error(errc::invalid_argument, "inert objects ($object) are never written back");
  invalid("unknown tag " + std::string(tag));
}

value from_json(const node& root, const number_texts* texts) {
  struct frame {
    const node* j;
    int mode; // 0 list, 1 tuple, 2 set, 3 frozenset, 4 dict (object), 5 $dict pairs, 6 object
              // ndarray
    std::size_t next = 0;
    std::vector<value> items;
    shape_t shape;                   // mode 6
    std::vector<const node*> leaves; // mode 6: the elements in C order
    frame(const node* jj, int m) : j(jj), mode(m) {}
  };
  std::vector<frame> st;
  std::optional<value> done;
  auto give = [&](value v) {
    if (st.empty())
      done = std::move(v);
    else
      st.back().items.push_back(std::move(v));
  };
  // Converts a leaf at once, or opens a frame for a container.
  auto open = [&](const node& j) {
    if (j.is_null()) return give(value());
    if (j.is_boolean()) return give(value(j.get<bool>()));
    if (j.is_number_float()) return give(value(j.get<double>()));
    if (j.is_number() || j.is_binary()) return give(json_int(j));
    if (j.is_string()) return give(value(j.get<std::string>()));
    if (j.is_array()) return (void)st.emplace_back(&j, 0);
    const auto tag = single_tag(j);
    if (tag.empty()) return (void)st.emplace_back(&j, 4);
    const node& inner = j.begin().value();
    if (tag == "$tuple" || tag == "$set" || tag == "$frozenset" || tag == "$dict") {
      if (!inner.is_array()) invalid(std::string(tag) + " needs a list");
      return (void)st.emplace_back(&inner, tag == "$tuple"       ? 1
                                           : tag == "$set"       ? 2
                                           : tag == "$frozenset" ? 3
                                                                 : 5);
    }
    if (tag == "$ndarray") {
      if (!inner.is_object() || !inner.contains("dtype") || !inner.contains("shape") ||
          !inner.contains("data"))
        invalid("$ndarray needs dtype, shape and data");
      const auto dt = dtype_from_json(inner["dtype"]);
      const auto shape = inner["shape"].get<shape_t>();
      if (!dt.is_object())
        return give(value(array_from_json(dt, shape, false, inner["data"], texts)));
      frame f(&inner["data"], 6);
      f.shape = shape;
      std::vector<const node*> flat{f.j};
      for (auto ext : shape) {
        std::vector<const node*> next;
        for (const node* x : flat) {
          if (!x->is_array() || static_cast<std::int64_t>(x->size()) != ext)
            invalid("$ndarray data does not match its shape");
          for (const auto& y : *x)
            next.push_back(&y);
        }
        flat = std::move(next);
      }
      f.leaves = std::move(flat);
      return st.push_back(std::move(f));
    }
    return give(leaf_from_json(j, tag, texts));
  };
  open(root);
  while (!st.empty()) {
    frame& f = st.back();
    const node* child = nullptr;
    if (f.mode == 6) {
      if (f.next < f.leaves.size()) child = f.leaves[f.next++];
    } else if (f.mode == 4) {
      const auto& obj = f.j->get_ref<const node::object_t&>();
      if (f.next < obj.size()) {
        const auto& kv = *(obj.begin() + static_cast<std::ptrdiff_t>(f.next++));
        f.items.emplace_back(kv.first);
        child = &kv.second;
      }
    } else if (f.mode == 5) {
      const std::size_t pair = f.next / 2;
      if (pair < f.j->size()) {
        const node& pr = (*f.j)[pair];
        if (!pr.is_array() || pr.size() != 2) invalid("$dict entries must be [KEY, VALUE]");
        child = &pr[f.next % 2];
        ++f.next;
      }
    } else if (f.next < f.j->size()) {
      child = &(*f.j)[f.next++];
    }
    if (child) {
      open(*child);
      continue;
    }
    frame fin = std::move(st.back());
    st.pop_back();
    switch (fin.mode) {
    case 0:
      give(value::list(std::move(fin.items)));
      break;
    case 1:
      give(value::tuple(std::move(fin.items)));
      break;
    case 2:
      give(value::set(std::move(fin.items)));
      break;
    case 3:
      give(value::frozenset(std::move(fin.items)));
      break;
    case 6:
      give(value(py::make_object_array(fin.shape, std::move(fin.items))));
      break;
    default: {
      py::dict_entries e;
      for (std::size_t i = 0; i + 1 < fin.items.size(); i += 2)
        e.emplace_back(std::move(fin.items[i]), std::move(fin.items[i + 1]));
      give(value::dict(std::move(e)));
    }
    }
  }
  return std::move(*done);
}
} // namespace

node value_to_json(const py::value& v, const write_options& options) {
  return value_json(v, options);
}

py::value value_from_json(const node& j, const number_texts* texts) {
  return from_json(j, texts);
}

} // namespace json
} // namespace v1
} // namespace npio
