// Python's repr of py::value (iterative over containers) and the float,
// string and bytes formatting it uses.
#include "literal.hpp"
#include "py_internal.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <npio/text.hpp>
#include <npio/visit.hpp>

namespace npio {
inline namespace v1 {
namespace py {

namespace {

// ---- float and string formatting --------------------------------------------------

// Python's repr of a float without the ".0" a whole number gets: the parts
// of a complex (1j, (1+2j), (-0-1.5j)). The digits are npio::float_repr's.
template <class F> std::string bare_repr(F f) {
  std::string s = npio::float_repr(f);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
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
  auto part = [](double x) { return bare_repr(x); };
  if (re == 0 && !std::signbit(re)) return part(im) + "j";
  std::string s = "(" + part(re);
  const std::string ims = part(im);
  if (ims[0] != '-') s += '+';
  return s + ims + "j)";
}
} // namespace

std::string float_repr(double f) {
  return npio::float_repr(f);
}
std::string float_repr(float f) {
  return npio::float_repr(f);
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

// A float at its own precision (float16, float32, double, long double).
template <class F> std::string own_repr(F f, bool force_point) {
  return force_point ? npio::float_repr(f) : bare_repr(f);
}

// np.float32(1.5), np.int8(3), np.str_('a'), np.void(b'...'): a NumPy scalar.
void scalar_repr(std::string& out, const value& v) {
  const auto& dt = v.dtype();
  const auto* raw = reinterpret_cast<const std::byte*>(v.scalar_bytes().data());
  const std::string bits = std::to_string(dt.itemsize() * 8);
  auto element = [&] {
    npio::array dummy;
    return element_value(dummy, dt, raw).repr();
  };
  out += "np.";
  visit_kind(dt, [&](auto tag) {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      out += "bool(" + element();
    } else if constexpr (std::is_same_v<Tag, bytes_tag>) {
      out += "bytes_(" + element();
    } else if constexpr (std::is_same_v<Tag, str_tag>) {
      out += "str_(" + element();
    } else if constexpr (std::is_same_v<Tag, datetime_tag>) {
      out += "datetime64(" + element();
    } else if constexpr (std::is_same_v<Tag, timedelta_tag>) {
      out += "timedelta64(" + element();
    } else if constexpr (std::is_same_v<Tag, structured_tag> || std::is_same_v<Tag, void_tag> ||
                         std::is_same_v<Tag, subarray_tag> || std::is_same_v<Tag, object_tag>) {
      out += "void(";
      if (dt.kind() == 'V' && (dt.is_structured() || dt.has_object()))
        bytes_repr(out, v.scalar_bytes());
      else
        out += element();
    } else {
      using T = typename Tag::type;
      const bool sw = needs_swap(dt);
      if constexpr (std::is_integral_v<T>) {
        out += (std::is_signed_v<T> ? "int" : "uint") + bits + "(" + element();
      } else if constexpr (requires { typename T::value_type; }) { // complex
        const T c = load_element<T>(raw, sw);
        out += "complex" + bits + "(";
        const std::string re = own_repr(c.real(), false), im = own_repr(c.imag(), false);
        if (re == "0")
          out += im + "j";
        else
          out += "(" + re + (im[0] == '-' ? "" : "+") + im + "j)";
      } else {
        out += "float" + bits + "(" + own_repr(load_element<T>(raw, sw), true);
      }
    }
  });
  out += ")";
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
  case kind::scalar:
    scalar_repr(out, v);
    break;
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

} // namespace py
} // namespace v1
} // namespace npio
