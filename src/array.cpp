// The array model: buffers, views, strided copies, byte swapping and casts.
#include "datetime_text.hpp"
#include "parse_number.hpp"
#include "shape_size.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <npio/array.hpp>
#include <npio/visit.hpp>
#include <ostream>
#include <sys/mman.h>
#include <utility>

namespace npio {
inline namespace v1 {

__extension__ typedef __int128 i128;

namespace detail {
[[noreturn]] void throw_error(errc code, const std::string& d) {
  throw error(code, d);
}

[[noreturn]] void throw_type_mismatch(const dtype& have, const dtype& want) {
  throw error(errc::type_mismatch,
              "array has dtype " + have.str() + ", not the requested " + want.str());
}

void byteswap(std::byte* p, std::size_t n) noexcept {
  std::reverse(p, p + n);
}

// Swaps every multi-byte scalar inside one element of type `dt`.
void swap_element(std::byte* p, const dtype& dt) {
  visit_kind(dt, [&](auto tag) {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, structured_tag>) {
      for (const auto& f : dt.fields())
        swap_element(p + f.offset, f.type);
    } else if constexpr (std::is_same_v<Tag, subarray_tag>) {
      const dtype& b = dt.base();
      const std::size_t n = b.itemsize() ? dt.itemsize() / b.itemsize() : 0;
      for (std::size_t i = 0; i < n; ++i)
        swap_element(p + i * b.itemsize(), b);
    } else if (dt.order() == byte_order::none) {
      return;
    } else if constexpr (std::is_same_v<Tag, str_tag>) {
      for (std::size_t i = 0; i + 4 <= dt.itemsize(); i += 4)
        byteswap(p + i, 4);
    } else if constexpr (requires { typename Tag::type::value_type; }) { // complex
      byteswap(p, dt.itemsize() / 2);
      byteswap(p + dt.itemsize() / 2, dt.itemsize() / 2);
    } else {
      byteswap(p, dt.itemsize());
    }
  });
}
} // namespace detail

// ---- buffer ----------------------------------------------------------------------

namespace {
// Large fresh buffers come straight from mmap: zeroed pages for free, and
// transparent huge pages where the kernel allows (as NumPy's allocator does).
constexpr std::size_t mmap_threshold = std::size_t(4) << 20;

struct heap_block {
  void* p;
  std::size_t n;
  bool mapped;
  heap_block(void* p_, std::size_t n_, bool m) : p(p_), n(n_), mapped(m) {}
  heap_block(const heap_block&) = delete;
  heap_block& operator=(const heap_block&) = delete;
  ~heap_block() {
    if (mapped)
      ::munmap(p, n);
    else
      std::free(p);
  }
};
} // namespace

std::shared_ptr<buffer> buffer::allocate(std::size_t nbytes, bool zero) {
  const std::size_t n = nbytes ? nbytes : 1;
  void* p = nullptr;
  bool mapped = false;
  if (n >= mmap_threshold) {
    p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) p = nullptr;
#ifdef MADV_HUGEPAGE
    if (p) ::madvise(p, n, MADV_HUGEPAGE);
#endif
    mapped = p != nullptr;
  } else {
    if (::posix_memalign(&p, 64, (n + 63) / 64 * 64) != 0) p = nullptr;
    if (p && zero) std::memset(p, 0, n);
  }
  if (!p) throw error(errc::limit_exceeded, "cannot allocate " + std::to_string(nbytes) + " bytes");
  auto owner = std::make_shared<heap_block>(p, n, mapped);
  return std::make_shared<buffer>(static_cast<std::byte*>(p), nbytes, true, std::move(owner));
}

std::shared_ptr<buffer> buffer::wrap(void* data, std::size_t nbytes, bool writeable) {
  return std::make_shared<buffer>(static_cast<std::byte*>(data), nbytes, writeable, nullptr);
}

std::shared_ptr<buffer> buffer::adopt(void* data, std::size_t nbytes,
                                      std::shared_ptr<const void> owner, bool writeable) {
  return std::make_shared<buffer>(static_cast<std::byte*>(data), nbytes, writeable,
                                  std::move(owner));
}

// ---- construction ------------------------------------------------------------------

shape_t contiguous_strides(const shape_t& shape, std::size_t itemsize, order o) {
  shape_t st(shape.size());
  std::int64_t s = static_cast<std::int64_t>(itemsize);
  if (o == order::c) {
    for (std::size_t i = shape.size(); i-- > 0;) {
      st[i] = s;
      s *= std::max<std::int64_t>(shape[i], 1);
    }
  } else {
    for (std::size_t i = 0; i < shape.size(); ++i) {
      st[i] = s;
      s *= std::max<std::int64_t>(shape[i], 1);
    }
  }
  return st;
}

using detail::checked_nbytes;

array::array() : shape_{0}, strides_{8}, buf_(buffer::allocate(0)) {}

array::array(npio::dtype dt, shape_t shape, order o) : dtype_(std::move(dt)) {
  if (dtype_.is_subarray()) {
    // As NumPy does, a subarray dtype's dimensions join the array's.
    for (auto d : dtype_.shape())
      shape.push_back(d);
    dtype_ = npio::dtype(dtype_.base());
  }
  const auto n = checked_nbytes(shape, dtype_.itemsize());
  buf_ = buffer::allocate(static_cast<std::size_t>(n), true);
  strides_ = contiguous_strides(shape, dtype_.itemsize(), o);
  shape_ = std::move(shape);
}

array::array(npio::dtype dt, shape_t shape, std::shared_ptr<buffer> buf, std::int64_t offset,
             std::optional<shape_t> strides, order o)
    : dtype_(std::move(dt)), shape_(std::move(shape)), buf_(std::move(buf)), offset_(offset) {
  if (!buf_) throw error(errc::invalid_argument, "array needs a buffer");
  checked_nbytes(shape_, dtype_.itemsize());
  strides_ = strides ? std::move(*strides) : contiguous_strides(shape_, dtype_.itemsize(), o);
  if (strides_.size() != shape_.size())
    throw error(errc::invalid_argument, "strides and shape differ in length");
  // Every element must lie inside the buffer.
  i128 lo = offset_, hi = offset_;
  bool empty = false;
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] == 0) empty = true;
    const i128 span = i128(shape_[i] - 1) * strides_[i];
    if (shape_[i] > 0) (span > 0 ? hi : lo) += span;
  }
  hi += static_cast<i128>(dtype_.itemsize());
  if (offset_ < 0 || (!empty && (lo < 0 || hi > static_cast<i128>(buf_->size()))) ||
      (empty && offset_ > static_cast<std::int64_t>(buf_->size())))
    throw error(errc::out_of_range, "array would extend beyond its buffer (" +
                                        std::to_string(buf_->size()) + " bytes)");
}

std::int64_t array::size() const noexcept {
  std::int64_t n = 1;
  for (auto d : shape_)
    n *= d;
  return n;
}

std::size_t array::nbytes() const noexcept {
  return static_cast<std::size_t>(size()) * dtype_.itemsize();
}

bool array::is_c_contiguous() const noexcept {
  if (size() == 0) return true;
  std::int64_t s = static_cast<std::int64_t>(dtype_.itemsize());
  for (std::size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != s) return false;
    s *= shape_[i];
  }
  return true;
}

bool array::is_f_contiguous() const noexcept {
  if (size() == 0) return true;
  std::int64_t s = static_cast<std::int64_t>(dtype_.itemsize());
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] != 1 && strides_[i] != s) return false;
    s *= shape_[i];
  }
  return true;
}

bool array::is_aligned() const noexcept {
  const auto a = static_cast<std::int64_t>(std::max<std::size_t>(dtype_.alignment(), 1));
  if (reinterpret_cast<std::uintptr_t>(data()) % static_cast<std::uintptr_t>(a) != 0) return false;
  for (std::size_t i = 0; i < shape_.size(); ++i)
    if (shape_[i] > 1 && strides_[i] % a != 0) return false;
  return true;
}

std::ostream& operator<<(std::ostream& os, const array& a) {
  return os << a.repr();
}

std::byte* array::mutable_data() {
  if (!writeable()) throw error(errc::not_writeable, "array is read-only");
  return buf_->data() + offset_;
}

std::byte* array::index_ptr(std::span<const std::int64_t> idx) const {
  if (idx.size() != shape_.size())
    throw error(errc::out_of_range, "expected " + std::to_string(shape_.size()) + " indices, got " +
                                        std::to_string(idx.size()));
  std::int64_t off = offset_;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    std::int64_t k = idx[i];
    if (k < 0) k += shape_[i];
    if (k < 0 || k >= shape_[i])
      throw error(errc::out_of_range, "index " + std::to_string(idx[i]) +
                                          " is out of bounds for axis " + std::to_string(i) +
                                          " with size " + std::to_string(shape_[i]));
    off += k * strides_[i];
  }
  return buf_->data() + off;
}

const std::byte* array::element_ptr(std::span<const std::int64_t> idx) const {
  return index_ptr(idx);
}

// ---- views ---------------------------------------------------------------------------

array array::operator[](std::int64_t i) const {
  if (shape_.empty()) throw error(errc::out_of_range, "too many indices for a 0-d array");
  std::int64_t k = i < 0 ? i + shape_[0] : i;
  if (k < 0 || k >= shape_[0])
    throw error(errc::out_of_range, "index " + std::to_string(i) +
                                        " is out of bounds for axis 0 with size " +
                                        std::to_string(shape_[0]));
  array r = *this;
  r.offset_ += k * strides_[0];
  r.shape_.erase(r.shape_.begin());
  r.strides_.erase(r.strides_.begin());
  return r;
}

array array::slice(std::size_t axis, std::int64_t start, std::int64_t stop,
                   std::int64_t step) const {
  if (axis >= shape_.size()) throw error(errc::out_of_range, "axis out of range");
  if (step == 0) throw error(errc::invalid_argument, "slice step cannot be zero");
  const std::int64_t n = shape_[axis];
  auto clamp = [&](std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < 0) v += n;
    return std::clamp(v, lo, hi);
  };
  std::int64_t len = 0;
  if (step > 0) {
    start = clamp(start, 0, n);
    stop = clamp(stop, 0, n);
    len = stop > start ? (stop - start + step - 1) / step : 0;
  } else {
    start = clamp(start, -1, n - 1);
    stop = clamp(stop, -1, n - 1);
    len = start > stop ? (start - stop - step - 1) / -step : 0;
  }
  array r = *this;
  if (len > 0) r.offset_ += start * strides_[axis];
  r.shape_[axis] = len;
  r.strides_[axis] = strides_[axis] * step;
  return r;
}

array array::transpose() const {
  array r = *this;
  std::reverse(r.shape_.begin(), r.shape_.end());
  std::reverse(r.strides_.begin(), r.strides_.end());
  return r;
}

array array::reshape(shape_t shape) const {
  std::int64_t known = 1;
  std::optional<std::size_t> infer;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer) throw error(errc::bad_shape, "can only specify one unknown dimension");
      infer = i;
    } else if (shape[i] < 0) {
      throw error(errc::bad_shape, "negative dimensions are not allowed");
    } else {
      known *= shape[i];
    }
  }
  if (infer) shape[*infer] = known ? size() / known : 0;
  checked_nbytes(shape, dtype_.itemsize());
  std::int64_t n = 1;
  for (auto d : shape)
    n *= d;
  if (n != size())
    throw error(errc::bad_shape, "cannot reshape array of size " + std::to_string(size()) +
                                     " into the requested shape");
  if (!is_c_contiguous()) return copy(order::c).reshape(std::move(shape));
  array r = *this;
  r.strides_ = contiguous_strides(shape, dtype_.itemsize(), order::c);
  r.shape_ = std::move(shape);
  return r;
}

array array::field(std::string_view name) const {
  for (const auto& f : dtype_.fields()) {
    if (f.name != name && !(f.title && *f.title == name)) continue;
    array r = *this;
    r.offset_ += static_cast<std::int64_t>(f.offset);
    r.dtype_ = f.type;
    // Subarray fields become trailing dimensions, all the way down: NumPy
    // views a (('<f8', (5,)), (2,)) field as shape (..., 2, 5) of '<f8'.
    while (r.dtype_.is_subarray()) {
      const npio::dtype sub = r.dtype_;
      r.dtype_ = npio::dtype(sub.base());
      const auto st = contiguous_strides(sub.shape(), sub.base().itemsize(), order::c);
      r.shape_.insert(r.shape_.end(), sub.shape().begin(), sub.shape().end());
      r.strides_.insert(r.strides_.end(), st.begin(), st.end());
    }
    return r;
  }
  throw error(errc::out_of_range, "no field of name " + std::string(name));
}

// ---- copies ----------------------------------------------------------------------------

namespace {

// Visits every element of `a` in C order, calling f(src_ptr) with runs along
// the last axis batched when contiguous.
template <class F> void for_each_element(const array& a, F&& f) {
  const std::int64_t total = a.size();
  if (total == 0) return;
  const std::size_t nd = a.ndim();
  const std::byte* base = a.data();
  if (nd == 0) {
    f(base, 1);
    return;
  }
  const auto& shape = a.shape();
  const auto& st = a.strides();
  const std::int64_t inner = shape[nd - 1];
  const bool run = st[nd - 1] == static_cast<std::int64_t>(a.itemsize());
  shape_t idx(nd, 0);
  for (;;) {
    std::int64_t off = 0;
    for (std::size_t i = 0; i + 1 < nd; ++i)
      off += idx[i] * st[i];
    const std::byte* p = base + off;
    if (run) {
      f(p, inner);
    } else {
      for (std::int64_t k = 0; k < inner; ++k)
        f(p + k * st[nd - 1], 1);
    }
    // advance the outer index
    std::size_t d = nd - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

} // namespace

void array::for_each_chunk(order o, const std::function<void(std::span<const std::byte>)>& sink,
                           std::size_t chunk_bytes) const {
  const std::size_t total = nbytes();
  if (total == 0) return;
  const bool direct = o == order::c ? is_c_contiguous() : is_f_contiguous();
  if (direct) {
    for (std::size_t at = 0; at < total; at += chunk_bytes)
      sink({data() + at, std::min(chunk_bytes, total - at)});
    return;
  }
  const array v = o == order::c ? *this : transpose();
  const std::size_t isz = itemsize();
  chunk_bytes = std::max(chunk_bytes / isz, std::size_t(1)) * isz;
  std::vector<std::byte> chunk(std::min(chunk_bytes, total));
  std::size_t fill = 0;
  for_each_element(v, [&](const std::byte* p, std::int64_t n) {
    std::size_t bytes = static_cast<std::size_t>(n) * isz;
    while (bytes) {
      const std::size_t take = std::min(bytes, chunk.size() - fill);
      std::memcpy(chunk.data() + fill, p, take);
      fill += take, p += take, bytes -= take;
      if (fill == chunk.size()) {
        sink({chunk.data(), fill});
        fill = 0;
      }
    }
  });
  if (fill) sink({chunk.data(), fill});
}

std::vector<std::byte> array::tobytes(order o) const {
  std::vector<std::byte> out;
  out.reserve(nbytes());
  for_each_chunk(o,
                 [&](std::span<const std::byte> s) { out.insert(out.end(), s.begin(), s.end()); });
  return out;
}

array array::copy(order o) const {
  array r(dtype_, shape_, o);
  if (buf_ && buf_->objects()) r.buf_->set_objects(buf_->objects());
  std::byte* dst = r.buf_->data();
  // Writing r's bytes in order o is exactly tobytes(o) of the source.
  for_each_chunk(o, [&](std::span<const std::byte> s) {
    std::memcpy(dst, s.data(), s.size());
    dst += s.size();
  });
  return r;
}

array array::to_native() const {
  if (dtype_.is_native()) return *this;
  array r = copy(order::c);
  r.dtype_ = dtype_.to_native();
  std::byte* p = r.buf_->data();
  const std::size_t isz = itemsize();
  for (std::int64_t i = 0, n = size(); i < n; ++i)
    detail::swap_element(p + i * isz, dtype_);
  return r;
}

bool array::equal(const array& other) const {
  if (!(dtype_ == other.dtype_) || shape_ != other.shape_) return false;
  return tobytes() == other.tobytes();
}

// ---- casts ---------------------------------------------------------------------------

namespace {

struct scalar {
  char k; // 'b','i','u','f','c'
  std::int64_t i = 0;
  std::uint64_t u = 0;
  long double re = 0, im = 0;
  bool from_double = false; // a float64/complex128 source: NumPy rounds it to half directly
};

// float64 -> float16 with one rounding (round to nearest even), as NumPy's
// npy_double_to_half; going through float would round twice.
float16 half_from_double(double d) {
  std::uint64_t x;
  std::memcpy(&x, &d, 8);
  const auto sign = static_cast<std::uint16_t>((x >> 48) & 0x8000u);
  const std::uint64_t absx = x & 0x7FFFFFFFFFFFFFFFull;
  std::uint64_t h;
  if (absx >= 0x7FF0000000000000ull) { // inf or nan
    h = 0x7C00u | (absx > 0x7FF0000000000000ull ? (0x200u | ((absx >> 42) & 0x3FFu)) : 0u);
  } else if (absx >= 0x40EFFE0000000000ull) { // 65520 and above round to inf
    h = 0x7C00u;
  } else if (absx < 0x3F10000000000000ull) { // below 2**-14: subnormal or zero
    const std::uint64_t e = absx >> 52;
    const std::uint64_t shift = 1051u - e; // half subnormals count 2**-24
    if (e == 0 || shift > 53) {
      h = 0;
    } else {
      const std::uint64_t mant = (absx & 0xFFFFFFFFFFFFFull) | 0x10000000000000ull;
      h = mant >> shift;
      const std::uint64_t rem = mant & ((std::uint64_t(1) << shift) - 1u);
      const std::uint64_t half = std::uint64_t(1) << (shift - 1);
      if (rem > half || (rem == half && (h & 1u))) ++h;
    }
  } else {
    h = (absx - 0x3F00000000000000ull) >> 42;
    const std::uint64_t rem = absx & 0x3FFFFFFFFFFull;
    if (rem > 0x20000000000ull || (rem == 0x20000000000ull && (h & 1u))) ++h;
  }
  float16 r;
  r.bits = static_cast<std::uint16_t>(sign | h);
  return r;
}

scalar load_scalar(const std::byte* p, const dtype& dt) {
  scalar s{dt.kind()};
  const bool swap = needs_swap(dt);
  visit_kind(dt, [&](auto tag) {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      s.u = p[0] != std::byte{0};
      s.k = 'u';
    } else if constexpr (std::is_same_v<Tag, datetime_tag> || std::is_same_v<Tag, timedelta_tag>) {
      s.i = load_element<std::int64_t>(p, swap);
      s.k = 'i';
    } else if constexpr (requires { typename Tag::type; }) {
      using T = typename Tag::type;
      const T v = load_element<T>(p, swap);
      if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        s.i = v;
      } else if constexpr (std::is_integral_v<T>) {
        s.u = v;
      } else if constexpr (std::is_same_v<T, float16>) {
        s.re = static_cast<float>(v);
      } else if constexpr (requires { typename T::value_type; }) { // complex
        s.re = v.real(), s.im = v.imag();
        s.from_double = std::is_same_v<T, std::complex<double>>;
      } else {
        s.re = v;
        s.from_double = std::is_same_v<T, double>;
      }
    }
  });
  return s;
}

// Float to integer without undefined behaviour: out-of-range and NaN give the
// x86 "integer indefinite" value, as NumPy does on this platform.
std::int64_t to_i64(long double v) {
  if (!(v >= -9223372036854775808.0L && v < 9223372036854775808.0L))
    return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}

void store_scalar(std::byte* p, const dtype& dt, const scalar& s) {
  const bool is_float = s.k == 'f' || s.k == 'c';
  const std::int64_t iv = s.k == 'i'   ? s.i
                          : s.k == 'u' ? static_cast<std::int64_t>(s.u)
                                       : to_i64(s.re);
  const std::uint64_t uv = s.k == 'u'   ? s.u
                           : s.k == 'i' ? static_cast<std::uint64_t>(s.i)
                                        : static_cast<std::uint64_t>(to_i64(s.re));
  const long double fv = is_float     ? s.re
                         : s.k == 'i' ? static_cast<long double>(s.i)
                                      : static_cast<long double>(s.u);
  const bool swap = needs_swap(dt);
  visit_kind(dt, [&](auto tag) {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      p[0] = std::byte{static_cast<unsigned char>(is_float ? (s.re != 0 || s.im != 0) : (uv != 0))};
    } else if constexpr (std::is_same_v<Tag, datetime_tag> || std::is_same_v<Tag, timedelta_tag>) {
      store_element(p, iv, swap);
    } else if constexpr (requires { typename Tag::type; }) {
      using T = typename Tag::type;
      if constexpr (std::is_integral_v<T>) {
        store_element(p, static_cast<T>(uv), swap); // two's complement: the low bytes
      } else if constexpr (std::is_same_v<T, float16>) {
        store_element(p,
                      s.from_double ? half_from_double(static_cast<double>(fv))
                                    : float16(static_cast<float>(fv)),
                      swap);
      } else if constexpr (requires { typename T::value_type; }) { // complex
        using F = typename T::value_type;
        const long double im = s.k == 'c' ? s.im : 0;
        store_element(p, T(static_cast<F>(fv), static_cast<F>(im)), swap);
      } else {
        store_element(p, static_cast<T>(fv), swap);
      }
    }
  });
}

bool numeric(const dtype& d) {
  return !d.is_structured() && !d.is_subarray() &&
         std::string_view("biufcMm").find(d.kind()) != std::string_view::npos;
}

} // namespace

namespace detail {
array astype_text(const array& a, const dtype& dt);
array astype_number_text(const array& a, dtype dt);
array astype_datetime(const array& a, const dtype& dt);
array astype_datetime_text(const array& a, dtype dt);
time_unit promote_text_unit(time_unit a, time_unit b);
} // namespace detail

namespace {

// "element K ('TEXT')" for errors: the first 64 characters, control
// characters shown as '?'.
std::string quoted_element(std::int64_t k, const std::string& text) {
  std::string shown;
  for (char c : text.substr(0, 64))
    shown += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return "element " + std::to_string(k) + " ('" + shown + (text.size() > 64 ? "...')" : "')");
}

// One S or U element read as NumPy 1.24 reads text as a number of dtype `to`
// (Python's int(), float() or complex(); bool as int() != 0). Errors:
// invalid_argument naming element k and its text, where NumPy raises
// ValueError or OverflowError.
scalar text_scalar(const std::string& text, std::int64_t k, const dtype& to) {
  const auto fail = [&](const char* why) {
    return error(errc::invalid_argument, quoted_element(k, text) + why + " dtype " + to.str());
  };
  scalar s{to.kind()};
  if (to.kind() == 'f' && to.itemsize() > 8) {
    long double v = 0;
    if (!detail::parse_np_longdouble(text, v))
      throw fail(" is not a number NumPy's long double reader (strtold) reads, for");
    s.re = v;
    return s;
  }
  if (to.kind() == 'f' || to.kind() == 'c') {
    double re = 0, im = 0;
    const bool ok = to.kind() == 'f' ? detail::parse_py_float(text, re)
                                     : detail::parse_py_complex(text, re, im);
    if (!ok) throw fail(" is not a number Python's float()/complex() reads, for");
    s.re = re, s.im = im, s.from_double = true;
    return s;
  }
  detail::py_int v;
  if (!detail::parse_py_int(text, v)) throw fail(" is not an integer Python's int() reads, for");
  const std::uint64_t min_mag = std::uint64_t(1) << 63; // |INT64_MIN|
  const bool fits = !v.huge && (v.negative ? v.magnitude <= min_mag
                                           : (to.kind() == 'u' || v.magnitude < min_mag));
  const std::uint64_t bits = v.negative ? 0 - v.magnitude : v.magnitude;
  if (to.kind() == 'b') {
    s.k = 'u', s.u = v.huge || v.magnitude != 0;
  } else if (!fits) {
    throw fail(" overflows a C long (NumPy's OverflowError), for");
  } else if (to.kind() == 'i') {
    s.i = static_cast<std::int64_t>(bits);
  } else {
    s.u = bits; // negative values wrap, as NumPy
  }
  return s;
}

} // namespace

// Structured to structured (can_cast has checked the field counts): field i
// of the result is field i of this array cast as astype casts it (unsafe),
// NumPy 1.24's rule, a structured field to a plain one or back included; a
// plain field into a subarray field fills every element.
array array::astype_structured(const npio::dtype& dt) const {
  array r(dt, shape_);
  if (size() == 0) return r;
  const auto& from = dtype_.fields();
  const auto& to = dt.fields();
  for (std::size_t i = 0; i < from.size(); ++i) {
    const npio::dtype& a = from[i].type;
    const npio::dtype& b = to[i].type;
    const bool spread = !a.is_subarray() && b.is_subarray() && !b.base().is_subarray();
    if ((a.is_subarray() || b.is_subarray()) && !spread && a.shape() != b.shape())
      throw error(errc::type_mismatch, "casting field '" + from[i].name + "' (" + a.str() +
                                           ") to '" + to[i].name + "' (" + b.str() +
                                           ") is not implemented (subarray shapes differ)");
    const array src = field(from[i].name);
    array dst = r.field(to[i].name);
    const array v = src.astype(dst.dtype()); // a new array: C order, dst's type
    const std::size_t isz = dst.itemsize();
    const std::int64_t per = spread ? dst.size() / std::max<std::int64_t>(v.size(), 1) : 1;
    const std::int64_t total = dst.size();
    shape_t idx(dst.ndim(), 0);
    std::byte* base = r.buf_->data() + (dst.data() - r.data());
    for (std::int64_t k = 0; k < total; ++k) {
      std::int64_t off = 0;
      for (std::size_t d = 0; d < dst.ndim(); ++d)
        off += idx[d] * dst.strides()[d];
      std::memcpy(base + off, v.data() + static_cast<std::size_t>(k / per) * isz, isz);
      for (std::size_t d = dst.ndim(); d-- > 0;) {
        if (++idx[d] < dst.shape()[d]) break;
        idx[d] = 0;
      }
    }
  }
  return r;
}

namespace {

// The items of a (nested) subarray dtype: its innermost base and how many.
std::pair<npio::dtype, std::int64_t> subarray_items(npio::dtype t) {
  std::int64_t count = 1;
  while (t.is_subarray()) {
    for (const std::int64_t d : t.shape())
      count *= d;
    t = npio::dtype(t.base());
  }
  return {t, count};
}

// A structured array of one field to a plain dtype (can_cast has checked the
// count): that field cast, NumPy 1.24's rule; of a subarray field, each
// element's first item, as NumPy takes it. A structured field recurses.
array from_one_field(const array& a, const npio::dtype& dt) {
  const npio::field& f = a.dtype().fields().front();
  const auto [base, count] = subarray_items(f.type);
  const array v = a.field(f.name).astype(dt); // C order, count items an element
  if (count == 1) return v;
  array r(dt, a.shape());
  const std::size_t isz = dt.itemsize();
  std::byte* out = r.mutable_data();
  for (std::int64_t k = 0, n = r.size(); k < n; ++k)
    std::memcpy(out + static_cast<std::size_t>(k) * isz,
                v.data() + static_cast<std::size_t>(k * count) * isz, isz);
  return r;
}

// A plain array to a structured dtype: every field holds each element cast to
// its type (every item of a subarray field; a structured field recurses), as
// NumPy assigns a scalar to a record.
array to_fields(const array& a, const npio::dtype& dt) {
  array r(dt, a.shape());
  std::byte* out = r.mutable_data();
  const std::int64_t n = r.size();
  for (const npio::field& f : dt.fields()) {
    const auto [base, count] = subarray_items(f.type);
    const array v = a.astype(base); // C order
    const std::size_t isz = base.itemsize();
    for (std::int64_t k = 0; k < n; ++k) {
      std::byte* rec = out + static_cast<std::size_t>(k) * dt.itemsize() + f.offset;
      for (std::int64_t j = 0; j < count; ++j)
        std::memcpy(rec + static_cast<std::size_t>(j) * isz,
                    v.data() + static_cast<std::size_t>(k) * isz, isz);
    }
  }
  return r;
}

// S/U text to datetime64 or timedelta64, as NumPy 1.24 reads each element
// (datetime_text.hpp). To datetime64 without a unit ('M8'), the finest unit
// any element gives (NaT alone: none). Errors: invalid_argument naming the
// element, where NumPy raises ValueError.
template <class ElementText, class EachText>
array text_to_datetime(const array& a, const npio::dtype& dt, ElementText element_text,
                       EachText each_text) {
  const bool is_dt = dt.kind() == 'M';
  const char* what = is_dt ? "a datetime64" : "a timedelta64";
  const auto refused = [&](std::int64_t k, const std::string& t, const std::string& why) {
    return error(errc::invalid_argument, quoted_element(k, t) + " is not " + what + " NumPy reads" +
                                             (why.empty() ? std::string() : ": " + why));
  };
  const auto read = [&](const std::byte* e, std::int64_t k, detail::parsed_datetime& p) {
    const std::string t = element_text(e, k, what);
    if (const std::string why = detail::parse_datetime(t, p); !why.empty())
      throw refused(k, t, why);
  };
  npio::dtype to = dt;
  if (is_dt && dt.unit() == time_unit::generic) {
    time_unit best = time_unit::generic;
    each_text([&](const std::byte* e, std::int64_t k) {
      detail::parsed_datetime p;
      read(e, k, p);
      if (!p.nat) best = detail::promote_text_unit(best, p.best);
    });
    if (best != time_unit::generic) to = npio::dtype::datetime('M', best, 1, dt.order());
  }
  array r(to, a.shape());
  std::byte* out = r.mutable_data();
  const bool swap = needs_swap(to);
  each_text([&](const std::byte* e, std::int64_t k) {
    std::int64_t v = 0;
    if (is_dt) {
      detail::parsed_datetime p;
      read(e, k, p);
      v = detail::datetime_value(p, to);
    } else {
      const std::string t = element_text(e, k, what);
      if (!detail::parse_timedelta(t, v)) throw refused(k, t, "");
    }
    store_element(out + static_cast<std::size_t>(k) * 8, v, swap);
  });
  return r;
}

} // namespace

array array::astype(const npio::dtype& dt, casting rule) const {
  if (!can_cast(dtype_, dt, rule))
    throw error(errc::type_mismatch,
                "cannot cast array from dtype " + dtype_.str() + " to " + dt.str() +
                    " according to the rule '" + casting_name(rule) + "'" +
                    (rule == casting::unsafe ? std::string()
                                             : "; pass npio::casting::unsafe to convert anyway"));
  if (dt == dtype_) return copy();
  // field by field: the byte-order path below would swap every field when
  // only some change order
  if (dtype_.is_structured() && dt.is_structured()) return astype_structured(dt);
  if (dtype_.is_structured() && dtype_.fields().size() == 1 && !dt.is_subarray())
    return from_one_field(*this, dt);
  if (dt.is_structured() && !dtype_.is_subarray()) return to_fields(*this, dt);
  if (dt.to_native() == dtype_.to_native()) {
    // Only the byte order differs: swap, whatever the kind.
    array r = to_native().copy();
    if (!dt.is_native()) {
      std::byte* p = r.buf_->data();
      for (std::int64_t i = 0, n = size(); i < n; ++i)
        detail::swap_element(p + i * itemsize(), r.dtype_);
    }
    r.dtype_ = dt;
    return r;
  }
  const auto text = [](const npio::dtype& d) {
    return !d.is_structured() && !d.is_subarray() && (d.kind() == 'S' || d.kind() == 'U');
  };
  if (text(dtype_) && text(dt)) return detail::astype_text(*this, dt);
  // Each S or U element's text, k its index (for errors): ASCII only.
  const auto element_text = [&](const std::byte* e, std::int64_t k, const char* reading) {
    if (dtype_.kind() == 'S') return get_string(e);
    std::string t;
    for (const char32_t c : get_u32string(e)) {
      if (c >= 0x80)
        throw error(errc::invalid_argument, "element " + std::to_string(k) +
                                                " holds text that is not ASCII; reading it as " +
                                                reading + " is not implemented");
      t += static_cast<char>(c);
    }
    return t;
  };
  const auto each_text = [&](auto f) {
    const std::size_t isz = itemsize();
    std::int64_t k = 0;
    for_each_element(*this, [&](const std::byte* p, std::int64_t n) {
      for (std::int64_t j = 0; j < n; ++j, ++k)
        f(p + static_cast<std::size_t>(j) * isz, k);
    });
  };
  if (text(dtype_) && numeric(dt) && !dt.is_datetime()) {
    // S/U to b/i/u/f/c: Python's int(), float(), complex() of each element;
    // long double as NumPy's strtold (text_scalar), complex256 through
    // complex() in double precision, as NumPy 1.24 does
    array r(dt, shape_);
    std::byte* out = r.buf_->data();
    each_text([&](const std::byte* e, std::int64_t k) {
      const std::string t = element_text(e, k, "a number (NumPy takes Unicode digits and spaces)");
      store_scalar(out + static_cast<std::size_t>(k) * dt.itemsize(), dt, text_scalar(t, k, dt));
    });
    return r;
  }
  if (text(dtype_) && dt.is_datetime()) return text_to_datetime(*this, dt, element_text, each_text);
  if (text(dt) && numeric(dtype_) && dtype_.is_datetime())
    return detail::astype_datetime_text(*this, dt);
  if (text(dt) && numeric(dtype_) && !dtype_.is_datetime())
    return detail::astype_number_text(*this, dt);
  const bool dt_ok = dtype_.is_datetime() == dt.is_datetime() ||
                     (dtype_.is_datetime() && dt.kind() == 'i') ||
                     (dt.is_datetime() && dtype_.kind() == 'i');
  if (!numeric(dt) || !numeric(dtype_) || !dt_ok)
    throw error(errc::type_mismatch,
                "cannot cast array from dtype " + dtype_.str() + " to " + dt.str());
  // Unit changes within datetime64 or timedelta64; between the two NumPy 1.24
  // copies the count as it is, whatever the units (the loop below).
  if (dtype_.is_datetime() && dtype_.kind() == dt.kind() &&
      (dtype_.unit() != dt.unit() || dtype_.unit_count() != dt.unit_count()))
    return detail::astype_datetime(*this, dt);
  array r(dt, shape_);
  std::byte* out = r.buf_->data();
  const std::size_t isz = itemsize();
  for_each_element(*this, [&](const std::byte* p, std::int64_t n) {
    for (std::int64_t k = 0; k < n; ++k, out += dt.itemsize())
      store_scalar(out, dt, load_scalar(p + static_cast<std::size_t>(k) * isz, dtype_));
  });
  return r;
}

} // namespace v1
} // namespace npio
