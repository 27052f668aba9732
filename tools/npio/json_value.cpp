// Python values <-> the tagged JSON of shared spec/json.md ("Python values"),
// for object arrays and raw pickle files. Both directions are iterative: a
// pickle (or a JSON document) controls the nesting depth.
//
// Big ints: nlohmann::json has no arbitrary-precision integers, so an int that
// fits neither int64 nor uint64 is a big-int node (json_array.hpp: a binary
// node of subtype 1 holding the decimal digits), which write_json prints as a
// bare number and parse_json makes from one.
#include "json_value.hpp"

#include "json_array.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <npio/npio.hpp>
#include <npio/pickle.hpp>
#include <npio/py/value.hpp>
#include <optional>

namespace npio_cli {

namespace {

using npio::errc;
using npio::py::value;
namespace py = npio::py;

bool inert_objects = false; // `npio json --inert`

[[noreturn]] void invalid(const std::string& msg) {
  throw npio::error(errc::invalid_argument, msg);
}

} // namespace

void set_inert_objects(bool on) {
  inert_objects = on;
}

namespace {

// ---- base64 -------------------------------------------------------------------------

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64_encode(std::string_view s) {
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(s[i]) << 16) |
                       (static_cast<unsigned char>(s[i + 1]) << 8) |
                       static_cast<unsigned char>(s[i + 2]);
    out += b64[v >> 18], out += b64[(v >> 12) & 63], out += b64[(v >> 6) & 63], out += b64[v & 63];
  }
  if (i + 1 == s.size()) {
    const unsigned v = static_cast<unsigned char>(s[i]) << 16;
    out += b64[v >> 18], out += b64[(v >> 12) & 63], out += "==";
  } else if (i + 2 == s.size()) {
    const unsigned v =
        (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += b64[v >> 18], out += b64[(v >> 12) & 63], out += b64[(v >> 6) & 63], out += '=';
  }
  return out;
}

std::string b64_decode(std::string_view s) {
  if (s.size() % 4) invalid("invalid base64 text (length " + std::to_string(s.size()) + ")");
  auto dig = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int d[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        d[k] = 0, ++pad;
      } else {
        d[k] = dig(c);
        if (d[k] < 0 || pad) invalid("invalid base64 text");
      }
    }
    const unsigned v = static_cast<unsigned>(d[0] << 18 | d[1] << 12 | d[2] << 6 | d[3]);
    out += static_cast<char>(v >> 16);
    if (pad < 2) out += static_cast<char>((v >> 8) & 255);
    if (pad < 1) out += static_cast<char>(v & 255);
  }
  return out;
}

// ---- numbers --------------------------------------------------------------------------

json float_json(double d) {
  if (std::isnan(d)) return json{{"$float", "nan"}};
  if (std::isinf(d)) return json{{"$float", d < 0 ? "-inf" : "inf"}};
  return json(d);
}
// A float32 or float16 value as the double whose shortest text is the float's.
json narrow_float_json(float f) {
  if (!std::isfinite(f)) return float_json(f);
  return json(std::strtod(py::float_repr(f).c_str(), nullptr));
}

json int_json(const value& v) {
  if (!v.is_big_int()) return json(v.as<std::int64_t>());
  const std::string digits = v.int_str();
  if (digits[0] != '-') {
    std::uint64_t u = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), u);
    if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) return json(u);
  }
  return big_int_json(digits);
}

double json_double(const json& j, const char* what) {
  if (j.is_number()) return j.get<double>();
  if (j.is_object() && j.size() == 1 && j.contains("$float")) {
    const auto s = j["$float"].get<std::string>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
  }
  invalid(std::string(what) + " must be a number, not " + j.dump());
}

value json_int(const json& j) {
  if (j.is_number_integer())
    return j.is_number_unsigned() ? value(j.get<std::uint64_t>()) : value(j.get<std::int64_t>());
  if (const auto digits = big_int_digits(j)) return value::integer(*digits);
  const double d = j.get<double>();
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", d);
  return value::integer(buf);
}

// ---- dtypes as descr JSON --------------------------------------------------------------

// One descr parser for both paths (json_array.cpp's reads every escape repr()
// writes: `\u2028`, `\x85`).
json dtype_json(const npio::dtype& dt) {
  return dtype_to_json(dt);
}

// The descr JSON back as the Python literal dtype::from_descr reads.
void descr_text(const json& j, std::string& out) {
  if (j.is_string()) {
    out += '\'';
    for (char c : j.get<std::string>()) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  } else if (j.is_number_integer()) {
    out += std::to_string(j.get<std::int64_t>());
  } else if (j.is_array()) {
    // a field (name, type[, shape]) is a tuple; a list of fields a list; a shape a tuple
    const bool top_list = !j.empty() && j[0].is_array();
    out += top_list ? '[' : '(';
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      descr_text(j[i], out);
    }
    if (!top_list && j.size() == 1) out += ',';
    out += top_list ? ']' : ')';
  } else {
    invalid("bad dtype in JSON: " + j.dump());
  }
}

npio::dtype json_dtype(const json& j) {
  std::string text;
  descr_text(j, text);
  return npio::dtype::from_descr(text);
}

// ---- typed elements --------------------------------------------------------------------

template <class T> T load(const std::byte* p, bool swap) {
  std::byte tmp[sizeof(T)];
  std::memcpy(tmp, p, sizeof(T));
  if (swap) std::reverse(tmp, tmp + sizeof(T));
  T v;
  std::memcpy(&v, tmp, sizeof(T));
  return v;
}
template <class T> void store(std::byte* p, T v, bool swap) {
  std::byte tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  if (swap) std::reverse(tmp, tmp + sizeof(T));
  std::memcpy(p, tmp, sizeof(T));
}

bool swapped(const npio::dtype& dt) {
  return dt.itemsize() > 1 && dt.order() != npio::byte_order::none && !dt.is_native();
}

// One float element at its own precision: float16 and float32 as the double
// read from their shortest text (which prints back as that text), long double
// as its own shortest text.
json float_elem_json(const npio::dtype& dt, const std::byte* p, std::size_t n) {
  const bool sw = swapped(dt);
  if (n == 2) {
    const std::string t = format_half(load<std::uint16_t>(p, sw));
    if (t.front() == '{') return float_json(half_to_double(load<std::uint16_t>(p, sw)));
    return json(std::strtod(t.c_str(), nullptr));
  }
  if (n == 4) return narrow_float_json(load<float>(p, sw));
  if (n == 8) return float_json(load<double>(p, sw));
  if (n == sizeof(long double)) {
    const long double x = load<long double>(p, sw);
    if (!std::isfinite(x)) return float_json(static_cast<double>(x));
    return raw_text_json(format_float(x));
  }
  throw npio::error(errc::unsupported, "floats of " + std::to_string(n) + " bytes");
}

json value_json(const value& v);

// One element of a typed array (not an object slot).
json element_json(const npio::array& a, const npio::dtype& dt, const std::byte* p) {
  if (dt.is_subarray()) {
    json out = json::array();
    const auto& shape = dt.shape();
    std::size_t count = 1;
    for (auto d : shape)
      count *= static_cast<std::size_t>(d);
    std::vector<json> flat;
    for (std::size_t i = 0; i < count; ++i)
      flat.push_back(element_json(a, dt.base(), p + i * dt.base().itemsize()));
    // fold the flat C-order list into nested lists
    for (std::size_t d = shape.size(); d-- > 1;) {
      std::vector<json> next;
      const auto ext = static_cast<std::size_t>(shape[d]);
      for (std::size_t i = 0; i < flat.size(); i += ext) {
        json row = json::array();
        for (std::size_t k = 0; k < ext; ++k)
          row.push_back(std::move(flat[i + k]));
        next.push_back(std::move(row));
      }
      flat = std::move(next);
    }
    for (auto& x : flat)
      out.push_back(std::move(x));
    return out;
  }
  if (dt.is_structured()) {
    json out = json::array();
    for (const auto& f : dt.fields())
      out.push_back(element_json(a, f.type, p + f.offset));
    return out;
  }
  const std::size_t n = dt.itemsize();
  switch (dt.kind()) {
  case 'f':
    return float_elem_json(dt, p, n);
  case 'c': {
    const auto half = n / 2;
    const auto sub = npio::dtype::make(
        'f', half, dt.order() == npio::byte_order::none ? std::nullopt : std::optional(dt.order()));
    json parts = json::array();
    for (int k = 0; k < 2; ++k)
      parts.push_back(float_elem_json(sub, p + k * half, half));
    return json{{"$complex", parts}};
  }
  case 'M':
  case 'm': {
    const auto x = load<std::int64_t>(p, swapped(dt));
    if (x == std::numeric_limits<std::int64_t>::min()) return json(nullptr);
    return json(x);
  }
  case 'V':
    return json{{"$bytes", b64_encode(std::string_view(reinterpret_cast<const char*>(p), n))}};
  default:
    return value_json(py::element_value(a, dt, p));
  }
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

json value_json(const value& root) {
  json result;
  struct task {
    const value* v;
    json* dst;
  };
  std::vector<task> work{{&root, &result}};
  std::vector<value> keep; // tolist() of object arrays being written
  keep.reserve(16);
  std::vector<std::unique_ptr<value>> owned;
  // Sizes `dst` as an array of n nulls and queues the items into it.
  auto seq = [&work](const std::vector<value>& items, json& dst) {
    dst = json::array();
    auto& arr = dst.get_ref<json::array_t&>();
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
      *dst = json{{"$complex", json::array({float_json(c.real()), float_json(c.imag())})}};
      break;
    }
    case py::kind::str:
      *dst = v.as<std::string>();
      break;
    case py::kind::bytes:
      *dst = json{{"$bytes", b64_encode(v.as<std::string_view>())}};
      break;
    case py::kind::bytearray:
      *dst = json{{"$bytearray", b64_encode(v.as<std::string_view>())}};
      break;
    case py::kind::list:
      seq(v.items(), *dst);
      break;
    case py::kind::tuple:
    case py::kind::set:
    case py::kind::frozenset: {
      const char* tag = v.is_tuple() ? "$tuple" : v.is_set() ? "$set" : "$frozenset";
      *dst = json::object();
      seq(v.items(), (*dst)[tag]);
      break;
    }
    case py::kind::dict: {
      const auto& items = v.dict_items();
      if (plain_dict(v)) {
        *dst = json::object();
        for (const auto& [k, x] : items)
          (*dst)[k.as<std::string>()] = nullptr;
        auto& obj = dst->get_ref<json::object_t&>();
        for (std::size_t i = items.size(); i-- > 0;)
          work.push_back(
              {&items[i].second, &(obj.begin() + static_cast<std::ptrdiff_t>(i))->second});
      } else {
        *dst = json::object();
        json& arr = (*dst)["$dict"] = json::array();
        auto& a = arr.get_ref<json::array_t&>();
        a.resize(items.size(), json::array({nullptr, nullptr}));
        for (std::size_t i = items.size(); i-- > 0;) {
          work.push_back({&items[i].second, &a[i][1]});
          work.push_back({&items[i].first, &a[i][0]});
        }
      }
      break;
    }
    case py::kind::ndarray: {
      const auto& a = v.array();
      json doc = json::object();
      doc["dtype"] = dtype_json(a.dtype());
      doc["shape"] = a.shape();
      doc["data"] = nullptr;
      *dst = json{{"$ndarray", std::move(doc)}};
      json& data = (*dst)["$ndarray"]["data"];
      if (a.dtype().is_object()) {
        owned.push_back(std::make_unique<value>(py::tolist(a)));
        if (owned.back()->is_list())
          seq(owned.back()->items(), data);
        else
          work.push_back({owned.back().get(), &data});
      } else {
        // nested lists of typed elements (bounded depth: ndim <= 64)
        std::vector<std::int64_t> idx(a.ndim(), 0);
        std::function<json(std::size_t, const std::byte*)> rec = [&](std::size_t d,
                                                                     const std::byte* p) -> json {
          if (d == a.ndim()) return element_json(a, a.dtype(), p);
          json arr = json::array();
          for (std::int64_t k = 0; k < a.shape()[d]; ++k)
            arr.push_back(rec(d + 1, p + k * a.strides()[d]));
          return arr;
        };
        data = rec(0, a.data());
      }
      break;
    }
    case py::kind::scalar: {
      npio::array none;
      json doc = json::object();
      doc["dtype"] = dtype_json(v.dtype());
      doc["value"] = element_json(none, v.dtype(),
                                  reinterpret_cast<const std::byte*>(v.scalar_bytes().data()));
      *dst = json{{"$scalar", std::move(doc)}};
      break;
    }
    case py::kind::datetime:
    case py::kind::date:
    case py::kind::time: {
      if (!v.is_date() && !v.tzinfo().is_none())
        throw npio::error(errc::unsupported, "timezone-aware " + std::string(v.kind_name()) +
                                                 " values have no JSON form");
      const auto d = v.as<py::datetime_t>();
      const std::string date = two(d.year, 4) + "-" + two(d.month) + "-" + two(d.day);
      const std::string time =
          two(d.hour) + ":" + two(d.minute) + ":" + two(d.second) + "." + two(d.microsecond, 6);
      if (v.is_datetime())
        *dst = json{{"$datetime", date + "T" + time}};
      else if (v.is_date())
        *dst = json{{"$date", date}};
      else
        *dst = json{{"$time", time}};
      break;
    }
    case py::kind::timedelta: {
      const auto t = v.as<py::timedelta_t>();
      *dst = json{{"$timedelta", json::array({t.days, t.seconds, t.microseconds})}};
      break;
    }
    case py::kind::decimal:
      *dst = json{{"$decimal", v.as<std::string>()}};
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
        *dst = json{{"$global", q}};
      } else if (inert_objects) {
        json o = json::object();
        o["class"] = q;
        o["args"] = json::array();
        o["state"] = nullptr;
        *dst = json{{"$object", std::move(o)}};
      } else {
        throw npio::error(errc::unsupported, "a reference to " + q +
                                                 " has no JSON form (--inert shows it as $object)");
      }
      break;
    }
    case py::kind::object: {
      if (!inert_objects)
        throw npio::error(errc::unsupported, v.object_class() +
                                                 " values have no JSON form (--inert shows them "
                                                 "as $object)");
      json o = json::object();
      o["class"] = v.object_class();
      o["args"] = nullptr;
      o["state"] = nullptr;
      *dst = json{{"$object", std::move(o)}};
      json& inner = (*dst)["$object"];
      const value& args = v.object_args();
      if (args.is_sequence())
        seq(args.items(), inner["args"]);
      else
        work.push_back({&args, &inner["args"]});
      work.push_back({&v.object_state(), &inner["state"]});
      break;
    }
    case py::kind::dtype:
      throw npio::error(errc::unsupported, "numpy.dtype values have no JSON form");
    }
  }
  return result;
}

// ---- JSON -> value (iterative, post-order) -----------------------------------------------

bool tagged(const json& j, const char* tag) {
  return j.is_object() && j.size() == 1 && j.begin().key() == tag;
}

std::string_view single_tag(const json& j) {
  if (j.is_object() && j.size() == 1) {
    const auto& k = j.begin().key();
    if (!k.empty() && k[0] == '$') return k;
  }
  return {};
}

npio::array typed_array_from_json(const npio::dtype& dt, const npio::shape_t& shape,
                                  const json& data);

// Writes one typed element from JSON.
void element_from_json(npio::array& a, const npio::dtype& dt, std::byte* p, const json& j);

value from_json(const json& root);

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

value leaf_from_json(const json& j, std::string_view tag) {
  const json& x = j.begin().value();
  if (tag == "$float") return value(json_double(j, "$float"));
  if (tag == "$complex") {
    if (!x.is_array() || x.size() != 2) invalid("$complex needs [RE, IM]");
    return value(
        std::complex<double>(json_double(x[0], "$complex"), json_double(x[1], "$complex")));
  }
  if (tag == "$bytes") return value::bytes(b64_decode(x.get<std::string>()));
  if (tag == "$bytearray") return value::bytearray(b64_decode(x.get<std::string>()));
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
    const auto dt = json_dtype(x["dtype"]);
    npio::array a(dt, {});
    element_from_json(a, dt, a.mutable_data(), x["value"]);
    return value::scalar(dt,
                         std::string_view(reinterpret_cast<const char*>(a.data()), dt.itemsize()));
  }
  if (tag == "$object")
    throw npio::error(errc::invalid_argument, "inert objects ($object) are never written back");
  invalid("unknown tag " + std::string(tag));
}

value from_json(const json& root) {
  struct frame {
    const json* j;
    int mode; // 0 list, 1 tuple, 2 set, 3 frozenset, 4 dict (object), 5 $dict pairs, 6 object
              // ndarray
    std::size_t next = 0;
    std::vector<value> items;
    npio::shape_t shape;             // mode 6
    std::vector<const json*> leaves; // mode 6: the elements in C order
    frame(const json* jj, int m) : j(jj), mode(m) {}
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
  auto open = [&](const json& j) {
    if (j.is_null()) return give(value());
    if (j.is_boolean()) return give(value(j.get<bool>()));
    if (j.is_number_float()) return give(value(j.get<double>()));
    if (j.is_number() || j.is_binary()) return give(json_int(j));
    if (j.is_string()) return give(value(j.get<std::string>()));
    if (j.is_array()) return (void)st.emplace_back(&j, 0);
    const auto tag = single_tag(j);
    if (tag.empty()) return (void)st.emplace_back(&j, 4);
    const json& inner = j.begin().value();
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
      const auto dt = json_dtype(inner["dtype"]);
      const auto shape = inner["shape"].get<npio::shape_t>();
      if (!dt.is_object()) return give(value(typed_array_from_json(dt, shape, inner["data"])));
      frame f(&inner["data"], 6);
      f.shape = shape;
      std::vector<const json*> flat{f.j};
      for (auto ext : shape) {
        std::vector<const json*> next;
        for (const json* x : flat) {
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
    return give(leaf_from_json(j, tag));
  };
  open(root);
  while (!st.empty()) {
    frame& f = st.back();
    const json* child = nullptr;
    if (f.mode == 6) {
      if (f.next < f.leaves.size()) child = f.leaves[f.next++];
    } else if (f.mode == 4) {
      const auto& obj = f.j->get_ref<const json::object_t&>();
      if (f.next < obj.size()) {
        const auto& kv = *(obj.begin() + static_cast<std::ptrdiff_t>(f.next++));
        f.items.emplace_back(kv.first);
        child = &kv.second;
      }
    } else if (f.mode == 5) {
      const std::size_t pair = f.next / 2;
      if (pair < f.j->size()) {
        const json& pr = (*f.j)[pair];
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

// ---- typed arrays from JSON -------------------------------------------------------------

void element_from_json(npio::array& a, const npio::dtype& dt, std::byte* p, const json& j) {
  const bool sw = swapped(dt);
  if (dt.is_subarray()) {
    std::vector<const json*> flat{&j};
    for (auto ext : dt.shape()) {
      std::vector<const json*> next;
      for (const json* x : flat) {
        if (!x->is_array() || static_cast<std::int64_t>(x->size()) != ext)
          invalid("subarray data does not match its shape");
        for (const auto& y : *x)
          next.push_back(&y);
      }
      flat = std::move(next);
    }
    for (std::size_t i = 0; i < flat.size(); ++i)
      element_from_json(a, dt.base(), p + i * dt.base().itemsize(), *flat[i]);
    return;
  }
  if (dt.is_structured()) {
    if (!j.is_array()) invalid("a structured element must be a list of field values");
    std::size_t i = 0;
    for (const auto& f : dt.fields()) {
      if (i >= j.size()) invalid("structured element has too few fields");
      element_from_json(a, f.type, p + f.offset, j[i++]);
    }
    return;
  }
  const std::size_t n = dt.itemsize();
  switch (dt.kind()) {
  case 'O':
    py::set_object(a, p, from_json(j));
    return;
  case 'b':
    *p = std::byte{j.get<bool>() ? std::uint8_t{1} : std::uint8_t{0}};
    return;
  case 'i':
  case 'u': {
    const auto v = json_int(j).int_bytes();
    std::vector<std::uint8_t> full(n, (!v.empty() && (v.back() & 0x80)) ? 0xff : 0);
    std::copy_n(v.begin(), std::min(v.size(), n), full.begin());
    if (sw == (std::endian::native == std::endian::little)) std::reverse(full.begin(), full.end());
    std::memcpy(p, full.data(), n);
    return;
  }
  case 'f': {
    const double d = json_double(j, "float element");
    if (n == 2)
      store(p, npio::float16(static_cast<float>(d)).bits, sw);
    else if (n == 4)
      store(p, static_cast<float>(d), sw);
    else if (n == 8)
      store(p, d, sw);
    else
      store(p, static_cast<long double>(d), sw);
    return;
  }
  case 'c': {
    if (!tagged(j, "$complex") || j["$complex"].size() != 2)
      invalid("a complex element must be {\"$complex\": [RE, IM]}");
    const double re = json_double(j["$complex"][0], "complex"),
                 im = json_double(j["$complex"][1], "complex");
    const auto h = n / 2;
    if (h == 4)
      store(p, static_cast<float>(re), sw), store(p + 4, static_cast<float>(im), sw);
    else if (h == 8)
      store(p, re, sw), store(p + 8, im, sw);
    else
      store(p, static_cast<long double>(re), sw), store(p + h, static_cast<long double>(im), sw);
    return;
  }
  case 'S':
  case 'V': {
    if (!tagged(j, "$bytes")) invalid("a bytes element must be {\"$bytes\": BASE64}");
    const auto b = b64_decode(j["$bytes"].get<std::string>());
    if (b.size() > n) invalid("bytes element longer than the dtype's " + std::to_string(n));
    std::memset(p, 0, n);
    std::memcpy(p, b.data(), b.size());
    return;
  }
  case 'U': {
    const auto s = j.get<std::string>();
    std::memset(p, 0, n);
    std::size_t k = 0;
    for (std::size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      const std::size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
      for (std::size_t q = 1; q < len && i + q < s.size(); ++q)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + q]) & 0x3fu);
      if (k + 4 > n)
        invalid("str element longer than the dtype's " + std::to_string(n / 4) + " characters");
      store(p + k, static_cast<std::uint32_t>(cp), sw);
      k += 4;
      i += len;
    }
    return;
  }
  case 'M':
  case 'm':
    store(p, j.is_null() ? std::numeric_limits<std::int64_t>::min() : j.get<std::int64_t>(), sw);
    return;
  default:
    invalid("cannot read elements of " + dt.str() + " from JSON");
  }
}

npio::array typed_array_from_json(const npio::dtype& dt, const npio::shape_t& shape,
                                  const json& data) {
  npio::array a(dt, shape);
  std::vector<const json*> flat{&data};
  for (auto ext : shape) {
    std::vector<const json*> next;
    for (const json* x : flat) {
      if (!x->is_array() || static_cast<std::int64_t>(x->size()) != ext)
        invalid("$ndarray data does not match its shape");
      for (const auto& y : *x)
        next.push_back(&y);
    }
    flat = std::move(next);
  }
  std::byte* p = a.mutable_data();
  for (std::size_t i = 0; i < flat.size(); ++i)
    element_from_json(a, dt, p + i * dt.itemsize(), *flat[i]);
  return a;
}

} // namespace

json object_element_to_json(const npio::array& a, const std::byte* elem) {
  return value_json(py::object_at(a, elem));
}

void object_element_from_json(const json& j, npio::array& a, std::byte* elem) {
  py::set_object(a, elem, from_json(j));
}

json loaded_value_to_json(npio::loaded& l) {
  return json{{"pickle", value_json(l.value())}};
}

void write_pickle_file(const std::filesystem::path& out, const json& v) {
  const auto bytes = npio::pickle::dumps(from_json(v), 4);
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f) throw npio::error(errc::io_error, "cannot open " + out.string() + " for writing");
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw npio::error(errc::io_error, "cannot write " + out.string());
}

} // namespace npio_cli
