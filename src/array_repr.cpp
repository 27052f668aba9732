// array::repr(): NumPy's array_repr (numpy/core/arrayprint.py, NumPy 1.24
// defaults: linewidth 75, threshold 1000, edgeitems 3, precision 8,
// floatmode 'maxprec'), element formats, line wrapping and summarizing.
#include "datetime_text.hpp"
#include "literal.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <npio/array.hpp>
#include <npio/py/value.hpp>
#include <npio/text.hpp>
#include <npio/visit.hpp>
#include <ostream>

namespace npio {
inline namespace v1 {

namespace {

constexpr std::size_t line_width = 75;
constexpr std::int64_t threshold = 1000;
constexpr std::int64_t edge_items = 3;
constexpr int precision = 8;

// A float of any width as the C++ type its shortest text must round-trip in.
enum class fwidth { f16, f32, f64, f128 };
struct fval {
  long double v;
  fwidth w;
};
// A float of visit_kind type F as the width its shortest text must round-trip in.
template <class F> fval to_fval(F f) {
  if constexpr (std::is_same_v<F, float16>)
    return {static_cast<float>(f), fwidth::f16};
  else if constexpr (std::is_same_v<F, float>)
    return {f, fwidth::f32};
  else if constexpr (std::is_same_v<F, double>)
    return {f, fwidth::f64};
  else
    return {f, fwidth::f128};
}

// The int64 count of a datetime64 or timedelta64 element.
std::int64_t count_at(const std::byte* p, const dtype& dt) {
  return load_element<std::int64_t>(p, needs_swap(dt));
}

template <class T, class... A> std::string chars(T x, A... a) {
  char buf[128];
  const auto r = std::to_chars(buf, buf + sizeof buf, x, a...);
  return {buf, r.ptr};
}

// Shortest scientific text that reads back as the same value of its width
// ("1.5e+00"); for halves, npio::float_sci (text.hpp): the shortest that rounds
// back to the same half, closest to it, as NumPy's Dragon4 (0.01563, not 0.015625).
std::string shortest_sci(const fval& f) {
  switch (f.w) {
  case fwidth::f16:
    return float_sci(float16(static_cast<float>(f.v)));
  case fwidth::f32:
    return chars(static_cast<float>(f.v), std::chars_format::scientific);
  case fwidth::f64:
    return chars(static_cast<double>(f.v), std::chars_format::scientific);
  default:
    return chars(f.v, std::chars_format::scientific);
  }
}

std::string fixed(const fval& f, int prec) {
  if (f.w == fwidth::f128) return chars(f.v, std::chars_format::fixed, prec);
  return chars(static_cast<double>(f.v), std::chars_format::fixed, prec);
}
std::string sci(const fval& f, int prec) {
  if (f.w == fwidth::f128) return chars(f.v, std::chars_format::scientific, prec);
  return chars(static_cast<double>(f.v), std::chars_format::scientific, prec);
}

void trim_zeros(std::string& s) { // keeps the '.'
  while (!s.empty() && s.back() == '0')
    s.pop_back();
}

// dragon4_positional(x, precision=8, unique=True, trim='.'), with the sign
// '+' for positives when `plus`. Finite x only.
std::string positional(const fval& f, bool plus) {
  const std::string s = shortest_sci(f);
  const bool neg = s[0] == '-';
  const std::size_t epos = s.find('e');
  std::string digits;
  for (std::size_t i = neg; i < epos; ++i)
    if (s[i] != '.') digits += s[i];
  const int e = std::stoi(s.substr(epos + 1));
  const int n = static_cast<int>(digits.size());
  std::string out;
  if (n - 1 - e > precision) {
    out = fixed(f, precision);
    trim_zeros(out);
    if (out.find('.') == std::string::npos) out += '.';
  } else {
    std::string ip, fp;
    if (e >= 0) {
      ip = digits.substr(0, std::min(n, e + 1));
      if (n < e + 1) ip.append(static_cast<std::size_t>(e + 1 - n), '0');
      if (n > e + 1) fp = digits.substr(static_cast<std::size_t>(e + 1));
    } else {
      ip = "0";
      fp = std::string(static_cast<std::size_t>(-e - 1), '0') + digits;
    }
    while (!fp.empty() && fp.back() == '0')
      fp.pop_back();
    out = (neg ? "-" : "") + ip + "." + fp;
  }
  if (plus && out[0] != '-') out = "+" + out;
  return out;
}

// dragon4_scientific(x, precision=8, unique=True, trim='.'): "1.5e+00", "1.e+08".
std::string scientific(const fval& f, bool plus) {
  std::string s = shortest_sci(f);
  std::size_t epos = s.find('e');
  const std::size_t dot = s.find('.');
  const std::size_t fr = dot == std::string::npos || dot > epos ? 0 : epos - dot - 1;
  if (fr > static_cast<std::size_t>(precision)) {
    s = sci(f, precision);
    epos = s.find('e');
    std::string m = s.substr(0, epos);
    trim_zeros(m);
    s = m + s.substr(epos);
  } else if (dot == std::string::npos) {
    s.insert(epos, ".");
  }
  if (plus && s[0] != '-') s = "+" + s;
  return s;
}

// numpy's FloatingFormat for one set of values.
struct float_format {
  bool exp = false, plus = false;
  std::size_t pad_left = 0, pad_right = 0, exp_size = 0;
  int prec = precision;

  float_format(const std::vector<fval>& vals, bool plus_sign) : plus(plus_sign) {
    std::vector<fval> finite;
    for (const auto& v : vals)
      if (std::isfinite(v.v)) finite.push_back(v);
    long double mx = 0, mn = std::numeric_limits<long double>::infinity();
    bool any = false;
    for (const auto& v : finite) {
      const long double a = std::fabs(v.v);
      if (a == 0) continue;
      any = true;
      mx = std::max(mx, a), mn = std::min(mn, a);
    }
    if (any && (mx >= 1e8L || mn < 0.0001L || mx / mn > 1000.0L)) exp = true;
    if (!finite.empty()) {
      if (exp) {
        std::size_t frac = 0, ip = 0, es = 0;
        for (const auto& v : finite) {
          const std::string s = scientific(v, plus);
          const std::size_t d = s.find('.'), e = s.find('e');
          ip = std::max(ip, d);
          frac = std::max(frac, e - d - 1);
          es = std::max(es, s.size() - e - 2);
        }
        exp_size = es;
        prec = static_cast<int>(frac);
        pad_left = ip;
        pad_right = exp_size + 2 + frac;
      } else {
        for (const auto& v : finite) {
          const std::string s = positional(v, plus);
          const std::size_t d = s.find('.');
          pad_left = std::max(pad_left, d);
          pad_right = std::max(pad_right, s.size() - d - 1);
        }
      }
    }
    if (finite.size() != vals.size()) {
      bool neginf = plus;
      for (const auto& v : vals)
        neginf = neginf || (std::isinf(v.v) && v.v < 0);
      const std::size_t offset = pad_right + 1;
      const std::size_t inflen = 3 + (neginf ? 1 : 0);
      if (3 > offset) pad_left = std::max(pad_left, 3 - offset);
      if (inflen > offset) pad_left = std::max(pad_left, inflen - offset);
    }
  }

  std::string operator()(const fval& f) const {
    if (!std::isfinite(f.v)) {
      std::string r =
          std::isnan(f.v) ? (plus ? "+nan" : "nan") : (f.v < 0 ? "-inf" : (plus ? "+inf" : "inf"));
      const std::size_t w = pad_left + pad_right + 1;
      return std::string(w > r.size() ? w - r.size() : 0, ' ') + r;
    }
    std::string s;
    if (exp) {
      s = scientific(f, plus);
      const std::size_t d = s.find('.'), e = s.find('e');
      std::string m = s.substr(0, e), ex = s.substr(e + 2);
      const char esign = s[e + 1];
      const std::size_t fr = e - d - 1;
      if (fr < static_cast<std::size_t>(prec)) m.append(static_cast<std::size_t>(prec) - fr, '0');
      if (ex.size() < exp_size) ex.insert(0, exp_size - ex.size(), '0');
      if (d < pad_left) m.insert(0, pad_left - d, ' ');
      return m + "e" + esign + ex;
    }
    s = positional(f, plus);
    const std::size_t d = s.find('.');
    const std::size_t fr = s.size() - d - 1;
    if (d < pad_left) s.insert(0, pad_left - d, ' ');
    if (fr < pad_right) s.append(pad_right - fr, ' ');
    return s;
  }
};

using formatter = std::function<std::string(const std::byte*)>;

std::string bytes_repr(const std::byte* p, std::size_t n) {
  while (n && p[n - 1] == std::byte{0})
    --n;
  return py::value::bytes(std::string_view(reinterpret_cast<const char*>(p), n)).repr();
}

formatter make_formatter(const dtype& dt, const std::vector<const std::byte*>& ptrs,
                         const array& a);

// Integers (T) and timedelta64 counts (T = int64, nat: NaT prints 'NaT').
template <class T>
formatter int_like(const dtype& dt, const std::vector<const std::byte*>& ptrs, bool nat) {
  std::size_t w = 0;
  auto text = [swap = needs_swap(dt), nat](const std::byte* p) {
    const T v = load_element<T>(p, swap);
    if (nat && v == static_cast<T>(std::numeric_limits<std::int64_t>::min())) // T is int64
      return std::string("'NaT'");
    return std::to_string(v);
  };
  for (auto* p : ptrs)
    w = std::max(w, text(p).size()); // "'NaT'" counts 5, as NumPy's _TimelikeFormat
  return [w, text](const std::byte* p) {
    std::string s = text(p);
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };
}

// numpy's DatetimeFormat: quoted ISO text, right-aligned to the width of the
// largest and smallest values, NaT as 'NaT'.
formatter datetime_like(const dtype& dt, const std::vector<const std::byte*>& ptrs) {
  constexpr std::int64_t nat = std::numeric_limits<std::int64_t>::min();
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = nat;
  bool any_nat = false, any = false;
  for (auto* p : ptrs) {
    const std::int64_t v = count_at(p, dt);
    if (v == nat) {
      any_nat = true;
      continue;
    }
    any = true;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  std::size_t w =
      any ? std::max(detail::datetime_iso(lo, dt).size(), detail::datetime_iso(hi, dt).size()) + 2
          : 0;
  if (any_nat) w = std::max<std::size_t>(w, 5);
  return [w, dt](const std::byte* p) {
    const std::int64_t v = count_at(p, dt);
    const std::string s = v == nat ? "'NaT'" : "'" + detail::datetime_iso(v, dt) + "'";
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };
}

formatter make_formatter(const dtype& dt, const std::vector<const std::byte*>& ptrs,
                         const array& a) {
  return visit_kind(dt, [&](auto tag) -> formatter {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, structured_tag>) {
      std::vector<formatter> fs;
      std::vector<std::size_t> offs;
      for (const auto& f : dt.fields()) {
        std::vector<const std::byte*> sub;
        sub.reserve(ptrs.size());
        for (auto* p : ptrs)
          sub.push_back(p + f.offset);
        fs.push_back(make_formatter(f.type, sub, a));
        offs.push_back(f.offset);
      }
      return [fs, offs](const std::byte* p) {
        std::string s = "(";
        for (std::size_t i = 0; i < fs.size(); ++i)
          s += (i ? ", " : "") + fs[i](p + offs[i]);
        return s + (fs.size() == 1 ? ",)" : ")");
      };
    } else if constexpr (std::is_same_v<Tag, subarray_tag>) {
      // NumPy's SubArrayFormat nests lists; npio prints the elements' repr as a list.
      return [dt](const std::byte* p) {
        npio::array sub(dt.base(), dt.shape(),
                        buffer::wrap(const_cast<std::byte*>(p), dt.itemsize(), false));
        std::string r = sub.repr(); // "array([...]...)"
        const std::size_t open = r.find('['), close = r.rfind(']');
        return open == std::string::npos ? r : r.substr(open, close - open + 1);
      };
    } else if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      return [zero_d = a.ndim() == 0](const std::byte* p) -> std::string {
        return *p != std::byte{0} ? (zero_d ? "True" : " True") : "False";
      };
    } else if constexpr (std::is_same_v<Tag, timedelta_tag>) {
      return int_like<std::int64_t>(dt, ptrs, true);
    } else if constexpr (std::is_same_v<Tag, datetime_tag>) {
      if (dt.unit() == time_unit::generic) return int_like<std::int64_t>(dt, ptrs, true);
      return datetime_like(dt, ptrs);
    } else if constexpr (std::is_same_v<Tag, bytes_tag>) {
      return [n = dt.itemsize()](const std::byte* p) { return bytes_repr(p, n); };
    } else if constexpr (std::is_same_v<Tag, str_tag>) {
      return [dt](const std::byte* p) {
        npio::array one(dt, {}, buffer::wrap(const_cast<std::byte*>(p), dt.itemsize(), false));
        try {
          return detail::repr_str(one.item<std::string>());
        } catch (const error&) {
          return std::string("'<invalid code point>'");
        }
      };
    } else if constexpr (std::is_same_v<Tag, object_tag>) {
      return [&a](const std::byte* p) { // numpy's _object_format: lists say so
        const py::value& v = py::object_at(a, p);
        return v.is_list() ? "list(" + v.repr() + ")" : v.repr();
      };
    } else if constexpr (std::is_same_v<Tag, void_tag>) {
      return [n = dt.itemsize()](const std::byte* p) {
        std::string s = "b'";
        static const char* hex = "0123456789ABCDEF";
        for (std::size_t i = 0; i < n; ++i) {
          const auto c = static_cast<unsigned>(p[i]);
          s += "\\x";
          s += hex[c >> 4];
          s += hex[c & 15];
        }
        return s + "'";
      };
    } else {
      using T = typename Tag::type;
      const bool swap = needs_swap(dt);
      if constexpr (std::is_integral_v<T>) {
        return int_like<T>(dt, ptrs, false);
      } else if constexpr (requires { typename T::value_type; }) { // complex
        std::vector<fval> re, im;
        for (auto* p : ptrs) {
          const T v = load_element<T>(p, swap);
          re.push_back(to_fval(v.real())), im.push_back(to_fval(v.imag()));
        }
        float_format fr(re, false), fi(im, true);
        return [fr, fi, swap](const std::byte* p) {
          const T v = load_element<T>(p, swap);
          std::string r = fr(to_fval(v.real())), i = fi(to_fval(v.imag()));
          std::size_t sp = i.size();
          while (sp && i[sp - 1] == ' ')
            --sp;
          return r + i.substr(0, sp) + "j" + i.substr(sp);
        };
      } else { // float16, float, double, long double
        std::vector<fval> v;
        for (auto* p : ptrs)
          v.push_back(to_fval(load_element<T>(p, swap)));
        float_format ff(v, false);
        return [ff, swap](const std::byte* p) { return ff(to_fval(load_element<T>(p, swap))); };
      }
    }
  });
}

struct printer {
  const array& a;
  bool summary;
  std::string sep = ", ";
  formatter fmt;

  std::vector<std::int64_t> shown(std::int64_t n) const {
    std::vector<std::int64_t> r;
    if (summary && n > 2 * edge_items) {
      for (std::int64_t i = 0; i < edge_items; ++i)
        r.push_back(i);
      for (std::int64_t i = n - edge_items; i < n; ++i)
        r.push_back(i);
    } else {
      for (std::int64_t i = 0; i < n; ++i)
        r.push_back(i);
    }
    return r;
  }

  void collect(std::size_t axis, const std::byte* p, std::vector<const std::byte*>& out) const {
    if (axis == a.ndim()) {
      out.push_back(p);
      return;
    }
    for (auto i : shown(a.shape()[axis]))
      collect(axis + 1, p + i * a.strides()[axis], out);
  }

  static void extend(std::string& s, std::string& line, const std::string& word, std::size_t width,
                     const std::string& prefix) {
    bool wrap = line.size() + word.size() > width;
    if (line.size() <= prefix.size()) wrap = false;
    if (wrap) {
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      s += line + "\n";
      line = prefix;
    }
    line += word;
  }

  // numpy's _extendLine_pretty: multi-line words (nested rows) go on their own lines.
  static void extend_pretty(std::string& s, std::string& line, const std::string& word,
                            std::size_t width, const std::string& prefix) {
    if (word.find('\n') == std::string::npos) return extend(s, line, word, width, prefix);
    std::vector<std::string> words;
    for (std::size_t at = 0;;) {
      const std::size_t nl = word.find('\n', at);
      words.push_back(word.substr(at, nl == std::string::npos ? nl : nl - at));
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    std::size_t max_word = 0;
    for (const auto& w : words)
      max_word = std::max(max_word, w.size());
    if (line.size() + max_word > width && line.size() > prefix.size()) {
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      s += line + "\n";
      line = prefix;
    }
    const std::string indent(line.size(), ' ');
    line += words[0];
    for (std::size_t i = 1; i < words.size(); ++i) {
      s += line + "\n";
      line = indent + words[i];
    }
  }

  std::string rec(std::size_t axis, const std::byte* p, const std::string& hang,
                  std::size_t width) const {
    if (axis == a.ndim()) return fmt(p);
    const std::string next_hang = hang + " ";
    const std::size_t next_width = width - 1;
    const std::int64_t n = a.shape()[axis];
    const std::int64_t st = a.strides()[axis];
    const bool show_summary = summary && 2 * edge_items < n;
    const std::int64_t lead = show_summary ? edge_items : 0;
    const std::int64_t trail = show_summary ? edge_items : n;
    const std::size_t axes_left = a.ndim() - axis;
    std::string s;
    if (axes_left == 1) {
      const std::size_t elem_width = width - 1;
      std::string line = hang;
      for (std::int64_t i = 0; i < lead; ++i) {
        extend_pretty(s, line, rec(axis + 1, p + i * st, next_hang, next_width), elem_width, hang);
        line += sep;
      }
      if (show_summary) {
        extend(s, line, "...", elem_width, hang);
        line += sep;
      }
      for (std::int64_t i = trail; i > 1; --i) {
        extend_pretty(s, line, rec(axis + 1, p + (n - i) * st, next_hang, next_width), elem_width,
                      hang);
        line += sep;
      }
      extend_pretty(s, line, rec(axis + 1, p + (n - 1) * st, next_hang, next_width), elem_width,
                    hang);
      s += line;
    } else {
      const std::string line_sep = "," + std::string(axes_left - 1, '\n');
      for (std::int64_t i = 0; i < lead; ++i)
        s += hang + rec(axis + 1, p + i * st, next_hang, next_width) + line_sep;
      if (show_summary) s += hang + "..." + line_sep;
      for (std::int64_t i = trail; i > 1; --i)
        s += hang + rec(axis + 1, p + (n - i) * st, next_hang, next_width) + line_sep;
      s += hang + rec(axis + 1, p + (n - 1) * st, next_hang, next_width);
    }
    return "[" + s.substr(hang.size()) + "]";
  }
};

// numpy's dtype_is_implied: float64, int64 (int_), complex128, bool; NumPy
// 1.24 ignores the byte order here (NumPy 2 shows dtype='>f8').
bool implied(const dtype& dt) {
  if (dt.is_structured() || dt.is_subarray()) return false;
  const char k = dt.kind();
  return (k == 'f' && dt.itemsize() == 8) || (k == 'i' && dt.itemsize() == 8) ||
         (k == 'c' && dt.itemsize() == 16) || k == 'b';
}

std::string type_name(const dtype& dt) {
  const std::string bits = std::to_string(8 * dt.itemsize());
  return visit_kind(dt, [&](auto tag) -> std::string {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      return "bool";
    } else if constexpr (requires { typename Tag::type; }) {
      using T = typename Tag::type;
      if constexpr (std::is_integral_v<T>)
        return (std::is_signed_v<T> ? "int" : "uint") + bits;
      else if constexpr (requires { typename T::value_type; })
        return "complex" + bits;
      else
        return "float" + bits;
    } else if constexpr (std::is_same_v<Tag, object_tag>) {
      return "object";
    } else { // M, m: 'datetime64[ns]'
      const std::string s = dt.str();
      const std::size_t br = s.find('[');
      return "'" + std::string(dt.kind() == 'M' ? "datetime64" : "timedelta64") +
             (br == std::string::npos ? "" : s.substr(br)) + "'";
    }
  });
}

// numpy's dtype_short_repr.
std::string dtype_short_repr(const dtype& dt) {
  if (dt.is_structured()) return dt.descr();
  const char k = dt.kind();
  if (k == 'S' || k == 'U' || k == 'V' || dt.is_subarray()) return "'" + dt.str() + "'";
  return type_name(dt);
}

} // namespace

std::string array::repr() const {
  const std::string prefix = "array(";
  const bool skip_dtype = implied(dtype_) && size() > 0;
  const std::string suffix = skip_dtype ? ")" : ",";
  std::string body;
  if (size() == 0) {
    body = ndim() == 1 ? "[]" : "[], shape=" + detail::repr_shape(shape_);
  } else {
    printer pr{*this, size() > threshold, ", ", {}};
    std::vector<const std::byte*> ptrs;
    pr.collect(0, data(), ptrs);
    pr.fmt = make_formatter(dtype_, ptrs, *this);
    body = pr.rec(0, data(), std::string(1 + prefix.size(), ' '), line_width - suffix.size());
  }
  std::string out = prefix + body + suffix;
  if (skip_dtype) return out;
  const std::string dt = "dtype=" + dtype_short_repr(dtype_) + ")";
  const std::size_t nl = out.rfind('\n');
  const std::size_t last = out.size() - (nl == std::string::npos ? 0 : nl + 1);
  return out + (last + dt.size() + 1 > line_width ? "\n" + std::string(prefix.size(), ' ') : " ") +
         dt;
}

} // namespace v1
} // namespace npio
