// The pickler: py::value -> pickle bytes NumPy 1.x and 2.x load. Iterative (an
// explicit work stack), no memo (values are trees), framed like CPython for
// protocol >= 4. Arrays go through numpy.core.multiarray._reconstruct, the
// one module path every NumPy from 1.0 to 2.x resolves without a warning.
#include "hooks.hpp"
#include "pickle_internal.hpp"

#include <cstring>
#include <deque>

namespace npio {
inline namespace v1 {
namespace pickle {

namespace {

using py::kind;
using py::value;
using py::detail::access;
namespace pyd = py::detail;

constexpr std::size_t frame_target = 64 * 1024; // CPython's _FRAME_SIZE_TARGET

[[noreturn]] void fail(errc c, const std::string& m) {
  throw error(c, m);
}

const char* unit_name(time_unit u) {
  switch (u) {
  case time_unit::Y:
    return "Y";
  case time_unit::M:
    return "M";
  case time_unit::W:
    return "W";
  case time_unit::D:
    return "D";
  case time_unit::h:
    return "h";
  case time_unit::m:
    return "m";
  case time_unit::s:
    return "s";
  case time_unit::ms:
    return "ms";
  case time_unit::us:
    return "us";
  case time_unit::ns:
    return "ns";
  case time_unit::ps:
    return "ps";
  case time_unit::fs:
    return "fs";
  case time_unit::as:
    return "as";
  default:
    return "generic";
  }
}

// NumPy's dtype flags as arraydescr_reduce writes them (unaligned structs).
int dtype_flags(const dtype& dt) {
  if (dt.is_subarray()) return dtype_flags(dt.base());
  if (dt.is_structured()) {
    int f = 0x10; // NPY_NEEDS_PYAPI
    for (const auto& fl : dt.fields())
      f |= dtype_flags(fl.type) & 0x1b; // NPY_FROM_FIELDS
    return f;
  }
  if (dt.kind() == 'O') return 63;
  if (dt.kind() == 'U') return 8; // NPY_NEEDS_INIT
  return 0;
}

class writer {
public:
  explicit writer(int proto) : proto_(proto) {}
  // Room for n bytes of output (untouched room costs address space only).
  // A failed reservation changes nothing: the buffer grows as needed.
  void reserve(std::size_t n) noexcept {
    try {
      out_.v.reserve(n);
    } catch (const std::exception&) {
    }
  }

  std::vector<std::byte> finish(const value& root) {
    op(0x80);
    out_ += static_cast<char>(proto_);
    start_frame();
    run(root);
    op('.');
    end_frame();
    return std::move(out_.v); // no copy of a payload that may be large
  }

private:
  struct task {
    const value* v = nullptr;         // a value to write
    std::string raw;                  // or raw opcode bytes
    const npio::array* arr = nullptr; // or object elements arr[i..n)
    std::int64_t i = 0, n = 0;
    static task of(const value* x) {
      task t;
      t.v = x;
      return t;
    }
  };

  void op(std::uint8_t c) { out_ += static_cast<char>(c); }
  void le(std::uint64_t v, int n) {
    for (int k = 0; k < n; ++k)
      out_ += static_cast<char>((v >> (8 * k)) & 0xff);
  }

  void start_frame() {
    if (proto_ < 4) return;
    frame_start_ = out_.size();
    out_.append(9, '\0');
  }
  void end_frame() {
    if (frame_start_ == std::string::npos) return;
    const std::size_t len = out_.size() - frame_start_ - 9;
    if (len >= 4) {
      out_[frame_start_] = static_cast<char>(0x95);
      for (int k = 0; k < 8; ++k)
        out_[frame_start_ + 1 + static_cast<std::size_t>(k)] =
            static_cast<char>((len >> (8 * k)) & 0xff);
    } else {
      out_.erase(frame_start_, 9);
    }
    frame_start_ = std::string::npos;
  }
  void maybe_commit() {
    if (frame_start_ != std::string::npos && out_.size() - frame_start_ - 9 >= frame_target) {
      end_frame();
      start_frame();
    }
  }
  // A payload of `len` bytes after an opcode header: large ones go outside frames.
  void payload(std::string_view data) {
    if (proto_ >= 4 && data.size() >= frame_target && frame_start_ != std::string::npos) {
      // move the header just written out of the frame
      std::string hdr = out_.substr(pending_hdr_);
      out_.resize(pending_hdr_);
      end_frame();
      out_.append(hdr);
      out_.append(data);
      start_frame();
      return;
    }
    out_.append(data);
  }

  void write_int(std::int64_t i) {
    if (i >= 0 && i < 256) {
      op('K');
      le(static_cast<std::uint64_t>(i), 1);
    } else if (i >= 0 && i < 65536) {
      op('M');
      le(static_cast<std::uint64_t>(i), 2);
    } else if (i >= INT32_MIN && i <= INT32_MAX) {
      op('J');
      le(static_cast<std::uint32_t>(static_cast<std::int32_t>(i)), 4);
    } else {
      write_long(value(i).int_bytes());
    }
  }
  void write_long(const std::vector<std::uint8_t>& b) {
    if (b.size() < 256) {
      op(0x8a);
      le(b.size(), 1);
    } else {
      if (b.size() > 0x7fffffff) fail(errc::invalid_argument, "int too large to pickle");
      op(0x8b);
      le(b.size(), 4);
    }
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void write_float(double d) {
    op('G');
    const auto u = std::bit_cast<std::uint64_t>(d);
    for (int k = 7; k >= 0; --k)
      out_ += static_cast<char>((u >> (8 * k)) & 0xff);
  }
  void write_str(std::string_view s) {
    pending_hdr_ = out_.size();
    if (proto_ >= 4 && s.size() < 256) {
      op(0x8c);
      le(s.size(), 1);
    } else if (s.size() <= 0xffffffffu) {
      op('X');
      le(s.size(), 4);
    } else if (proto_ >= 4) {
      op(0x8d);
      le(s.size(), 8);
    } else {
      fail(errc::invalid_argument, "str larger than 4 GiB needs protocol 4");
    }
    payload(s);
  }
  void write_bytes(std::string_view s) {
    pending_hdr_ = out_.size();
    if (s.size() < 256) {
      op('C');
      le(s.size(), 1);
    } else if (s.size() <= 0xffffffffu) {
      op('B');
      le(s.size(), 4);
    } else if (proto_ >= 4) {
      op(0x8e);
      le(s.size(), 8);
    } else {
      fail(errc::invalid_argument, "bytes larger than 4 GiB need protocol 4");
    }
    payload(s);
  }
  void write_global(std::string_view module, std::string_view name) {
    if (proto_ >= 4) {
      write_str(module);
      write_str(name);
      op(0x93);
    } else {
      op('c');
      out_.append(module);
      out_ += '\n';
      out_.append(name);
      out_ += '\n';
    }
  }
  void write_tuple_end(std::size_t n) { // after n items (with a MARK before them when n > 3)
    if (n == 0)
      op(')');
    else if (n <= 3)
      op(static_cast<std::uint8_t>(0x85 + n - 1));
    else
      op('t');
  }

  // numpy.dtype(...) with its BUILD state; recursion is bounded by max_dtype_depth.
  void write_dtype(const dtype& dt) {
    write_global("numpy", "dtype");
    const char k = dt.kind();
    char ctor[32];
    if (dt.is_structured() || dt.is_subarray())
      std::snprintf(ctor, sizeof ctor, "V%zu", dt.itemsize());
    else if (k == 'U')
      std::snprintf(ctor, sizeof ctor, "U%zu", dt.itemsize() / 4);
    else if (k == 'O' || k == 'M' || k == 'm')
      std::snprintf(ctor, sizeof ctor, "%c8", k);
    else
      std::snprintf(ctor, sizeof ctor, "%c%zu", k, dt.itemsize());
    write_str(ctor);
    op(0x89);
    op(0x88);
    op(0x87);
    op('R');
    const bool dtm = dt.is_datetime() && !dt.is_subarray();
    op('(');
    write_int(dtm ? 4 : 3);
    const char e = (dt.is_structured() || dt.is_subarray()) ? '|' : static_cast<char>(dt.order());
    write_str(std::string(1, e));
    if (dt.is_subarray()) {
      write_dtype(dt.base());
      op('(');
      for (auto d : dt.shape())
        write_int(d);
      op('t');
      op(0x86);
    } else {
      op('N');
    }
    if (dt.is_structured()) {
      op('(');
      for (const auto& f : dt.fields())
        write_str(f.name);
      op('t');
      op('}');
      op('(');
      for (const auto& f : dt.fields()) {
        for (int pass = 0; pass < (f.title ? 2 : 1); ++pass) {
          write_str(pass == 0 ? f.name : *f.title);
          write_dtype(f.type);
          write_int(static_cast<std::int64_t>(f.offset));
          if (f.title) {
            write_str(*f.title);
            op(0x87);
          } else {
            op(0x86);
          }
        }
      }
      op('u');
    } else {
      op('N');
      op('N');
    }
    const bool flexible =
        dt.is_structured() || dt.is_subarray() || k == 'S' || k == 'U' || k == 'V';
    if (flexible) {
      write_int(static_cast<std::int64_t>(dt.itemsize()));
      write_int(dt.is_structured()
                    ? 1
                    : static_cast<std::int64_t>(dt.is_subarray() ? dt.base().alignment()
                                                                 : dt.alignment()));
    } else {
      write_int(-1);
      write_int(-1);
    }
    write_int(dtype_flags(dt));
    if (dtm) {
      op('}');
      op('(');
      write_bytes(unit_name(dt.unit()));
      write_int(dt.unit_count());
      write_int(1);
      write_int(1);
      op('t');
      op(0x86);
    }
    op('t');
    op('b');
  }

  void run(const value& root) {
    std::vector<task> st;
    std::deque<value> temps; // values made while writing (stable addresses)
    st.push_back(task::of(&root));
    auto push_raw = [&st](std::string s) { st.push_back(task{nullptr, std::move(s)}); };
    // Pushes children so that they are written in order, then `close`.
    auto push_items = [&](const std::vector<value>& items, std::string close) {
      push_raw(std::move(close));
      for (std::size_t i = items.size(); i-- > 0;)
        st.push_back(task::of(&items[i]));
    };
    while (!st.empty()) {
      task t = std::move(st.back());
      st.pop_back();
      maybe_commit();
      if (t.arr) {
        const auto& a = *t.arr;
        if (t.i + 1 < t.n) st.push_back(task{nullptr, {}, t.arr, t.i + 1, t.n});
        // element t.i in C order
        std::int64_t rem = t.i, off = 0;
        for (std::size_t d = a.ndim(); d-- > 0;) {
          off += (rem % a.shape()[d]) * a.strides()[d];
          rem /= a.shape()[d];
        }
        const std::byte* p = a.data() + off;
        if (a.dtype().is_object()) {
          st.push_back(task::of(&py::object_at(a, p)));
        } else {
          temps.push_back(py::element_value(a, a.dtype(), p));
          st.push_back(task::of(&temps.back()));
        }
        continue;
      }
      if (!t.v) {
        out_.append(t.raw);
        continue;
      }
      const value& v = *t.v;
      switch (v.type()) {
      case kind::none:
        op('N');
        break;
      case kind::boolean:
        op(v.as<bool>() ? 0x88 : 0x89);
        break;
      case kind::integer:
        if (v.is_big_int())
          write_long(v.int_bytes());
        else
          write_int(*v.get_if<std::int64_t>());
        break;
      case kind::floating:
        write_float(*v.get_if<double>());
        break;
      case kind::complex: {
        const auto c = v.as_complex();
        write_global("builtins", "complex");
        write_float(c.real());
        write_float(c.imag());
        op(0x86);
        op('R');
        break;
      }
      case kind::str:
        write_str(v.as<std::string_view>());
        break;
      case kind::bytes:
        write_bytes(v.as<std::string_view>());
        break;
      case kind::bytearray: {
        const auto s = v.as<std::string_view>();
        if (proto_ >= 5) {
          pending_hdr_ = out_.size();
          op(0x96);
          le(s.size(), 8);
          payload(s);
        } else {
          write_global("builtins", "bytearray");
          write_bytes(s);
          op(0x85);
          op('R');
        }
        break;
      }
      case kind::list: {
        op(']');
        const auto& it = v.items();
        if (it.size() == 1) {
          push_items(it, "a");
        } else if (!it.empty()) {
          op('(');
          push_items(it, "e");
        }
        break;
      }
      case kind::tuple: {
        const auto& it = v.items();
        if (it.size() > 3) op('(');
        std::string close;
        close += static_cast<char>(it.empty() ? ')' : it.size() <= 3 ? 0x85 + it.size() - 1 : 't');
        push_items(it, close);
        break;
      }
      case kind::dict: {
        op('}');
        const auto& it = v.dict_items();
        if (it.empty()) break;
        op('(');
        push_raw("u");
        for (std::size_t i = it.size(); i-- > 0;) {
          st.push_back(task::of(&it[i].second));
          st.push_back(task::of(&it[i].first));
        }
        break;
      }
      case kind::set:
      case kind::frozenset: {
        const bool fz = v.type() == kind::frozenset;
        const auto& it = v.items();
        if (proto_ >= 4) {
          if (!fz) op(0x8f);
          if (fz || !it.empty()) {
            op('(');
            push_items(it, fz ? "\x91" : "\x90");
          }
        } else {
          write_global("builtins", fz ? "frozenset" : "set");
          op(']');
          if (!it.empty()) {
            op('(');
            push_items(it, "e\x85R");
          } else {
            op(0x85);
            op('R');
          }
        }
        break;
      }
      case kind::ndarray: {
        const auto& a = v.array();
        const auto& dt = a.dtype();
        write_global("numpy.core.multiarray", "_reconstruct");
        write_global("numpy", "ndarray");
        write_int(0);
        op(0x85);
        write_bytes("b");
        op(0x87);
        op('R');
        op('(');
        write_int(1);
        op('(');
        for (auto d : a.shape())
          write_int(d);
        op('t');
        write_dtype(dt);
        if (dt.has_object()) {
          op(0x89);
          op(']');
          const std::int64_t n = a.size();
          if (n > 0) {
            op('(');
            push_raw("etb");
            st.push_back(task{nullptr, {}, &a, 0, n});
          } else {
            out_.append("tb");
          }
        } else {
          const bool f = a.is_f_contiguous() && !a.is_c_contiguous();
          op(f ? 0x88 : 0x89);
          const auto data = a.tobytes(f ? order::f : order::c);
          write_bytes(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
          op('t');
          op('b');
        }
        break;
      }
      case kind::scalar:
        write_global("numpy.core.multiarray", "scalar");
        write_dtype(v.dtype());
        write_bytes(v.scalar_bytes());
        op(0x86);
        op('R');
        break;
      case kind::dtype:
        write_dtype(v.dtype());
        break;
      case kind::datetime:
      case kind::date:
      case kind::time: {
        const auto d = v.as<py::datetime_t>();
        std::string s;
        auto b = [&s](int x) { s += static_cast<char>(x & 0xff); };
        if (v.type() != kind::time) {
          b(d.year >> 8), b(d.year),
              b(d.month | (d.fold && v.type() == kind::datetime && proto_ > 3 ? 0x80 : 0)),
              b(d.day);
        }
        if (v.type() != kind::date) {
          b(d.hour | (d.fold && v.type() == kind::time && proto_ > 3 ? 0x80 : 0)), b(d.minute),
              b(d.second);
          b(d.microsecond >> 16), b(d.microsecond >> 8), b(d.microsecond);
        }
        write_global("datetime", v.type() == kind::datetime ? "datetime"
                                 : v.type() == kind::date   ? "date"
                                                            : "time");
        write_bytes(s);
        const value* tz = v.type() == kind::date ? nullptr : &v.tzinfo();
        if (tz && !tz->is_none()) {
          push_raw("\x86R");
          st.push_back(task::of(tz));
        } else {
          op(0x85);
          op('R');
        }
        break;
      }
      case kind::timedelta: {
        const auto td = v.as<py::timedelta_t>();
        write_global("datetime", "timedelta");
        write_int(td.days);
        write_int(td.seconds);
        write_int(td.microseconds);
        op(0x87);
        op('R');
        break;
      }
      case kind::decimal:
        write_global("decimal", "Decimal");
        write_str(v.as<std::string_view>());
        op(0x85);
        op('R');
        break;
      case kind::global:
        write_global(v.module(), v.name());
        break;
      case kind::object: {
        const auto& cls = v.object_class();
        if (cls == "datetime.timezone") {
          write_global("datetime", "timezone");
          push_items(v.object_args().items(), "tR");
          // MARK before the args
          op('(');
          break;
        }
        fail(errc::invalid_argument, "inert objects (" + cls + ") are never written back");
      }
      }
    }
  }

  // An output buffer (std::string's append trips GCC 12's -Wrestrict at -O3).
  struct buf {
    std::vector<std::byte> v;
    void operator+=(char c) { v.push_back(static_cast<std::byte>(c)); }
    void operator+=(std::string_view s) { append(s); }
    void append(std::string_view s) { append(s.data(), s.size()); }
    void append(const char* p, std::size_t n) {
      const std::size_t at = v.size();
      v.resize(at + n);
      if (n) std::memcpy(v.data() + at, p, n);
    }
    void append(std::size_t n, char c) {
      for (std::size_t i = 0; i < n; ++i)
        v.push_back(static_cast<std::byte>(c));
    }
    std::size_t size() const { return v.size(); }
    char& operator[](std::size_t i) { return reinterpret_cast<char&>(v[i]); }
    void erase(std::size_t at, std::size_t n) {
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(at),
              v.begin() + static_cast<std::ptrdiff_t>(at + n));
    }
    void resize(std::size_t n) { v.resize(n); }
    std::string substr(std::size_t at) const { return std::string(data() + at, v.size() - at); }
    const char* data() const { return reinterpret_cast<const char*>(v.data()); }
  };
  int proto_;
  buf out_;
  std::size_t frame_start_ = std::string::npos;
  std::size_t pending_hdr_ = 0;
};

} // namespace

std::vector<std::byte> dumps(const py::value& v, int protocol) {
  if (protocol < 3 || protocol > 5)
    fail(errc::invalid_argument,
         "pickle protocol " + std::to_string(protocol) + " is not written (use 3, 4 or 5)");
  writer w(protocol);
  return w.finish(v);
}

} // namespace pickle

namespace detail {

std::vector<std::byte> write_object_payload(const array& a) {
  // Protocol 3, as NumPy 1.17-1.26 write it: NumPy 1.x and 2.x and Python >= 3.0 all read it.
  pickle::writer w(3);
  // A guess at the size (64 bytes an element) saves regrowing the buffer:
  // copies and page faults on buffers thrown away. Pages of room left unused
  // are never touched.
  w.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(
      static_cast<std::uint64_t>(a.size()) * 64 + 4096, std::uint64_t(1) << 30)));
  return w.finish(py::value(a));
}

} // namespace detail
} // namespace v1
} // namespace npio
