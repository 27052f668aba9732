/// \file array.hpp
/// The n-dimensional array: a dtype, a shape, byte strides and a byte offset
/// over a shared buffer (owned heap memory, a caller's memory, or a file mapping).
#pragma once

#include <array>
#include <cstring>
#include <functional>
#include <iosfwd>
#include <npio/dtype.hpp>
#include <npio/error.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace npio {
inline namespace v1 {

namespace py {
class value;
}

/// Memory order for new arrays and copies.
enum class order { c, f };

/// The fields of a C++ struct T as a structured dtype's: specialize it with a
/// `static constexpr auto fields` tuple of npio::field(...) (see record.hpp),
/// and to_vector<T>(), at<T>(i) and array::from(std::vector<T>) read and
/// write T.
template <class T> struct record;
class array;
namespace detail {
template <class T>
concept has_record = requires {
  record<T>::fields;
};
template <class T> std::vector<T> read_records(const array& a);
template <class T>
array write_records(std::span<const T> values, std::optional<shape_t> shape, order o);
} // namespace detail

/// NumPy's casting rules (the `casting` argument of np.can_cast and astype).
enum class casting {
  no,        ///< identical dtypes, byte order included
  equiv,     ///< only the byte order may differ
  safe,      ///< every value is preserved (int32 -> float64, '<i4' -> '>i8', S3 -> U5)
  same_kind, ///< safe, or within a kind (float64 -> float32, int64 -> int8)
  unsafe,    ///< any conversion npio implements
};
/// "no", "equiv", "safe", "same_kind", "unsafe".
const char* casting_name(casting c) noexcept;
/// np.can_cast(from, to, casting) with NumPy 1.24's table for the scalar kinds
/// (b, i, u, f, c, S, U, V, M, m, O; tests/data/generate_can_cast.py checks
/// it). Structured and subarray dtypes cast only to themselves ('no'/'equiv')
/// or under 'unsafe'.
bool can_cast(const dtype& from, const dtype& to, casting rule = casting::safe);

/// The memory behind one or more arrays. Shared by views; the memory lives as
/// long as any array (or a caller's shared_ptr) refers to it.
class buffer {
public:
  /// Fresh 64-byte-aligned heap memory, zero-filled unless `zero` is false.
  /// Errors: limit_exceeded when the allocation fails.
  static std::shared_ptr<buffer> allocate(std::size_t nbytes, bool zero = true);
  /// A caller's memory, not owned: it must outlive every array over it.
  static std::shared_ptr<buffer> wrap(void* data, std::size_t nbytes, bool writeable = true);
  /// Memory kept alive by `owner` (a mapping, a vector, ...).
  static std::shared_ptr<buffer> adopt(void* data, std::size_t nbytes,
                                       std::shared_ptr<const void> owner, bool writeable);

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool writeable() const noexcept { return writeable_; }

  /// Python objects of object arrays: each 8-byte 'O' slot in data() holds a
  /// native uint64 index into this table (see docs/design.md). Null until set.
  const std::shared_ptr<std::vector<py::value>>& objects() const noexcept { return objects_; }
  void set_objects(std::shared_ptr<std::vector<py::value>> objs) { objects_ = std::move(objs); }

  buffer(std::byte* data, std::size_t size, bool writeable, std::shared_ptr<const void> owner)
      : data_(data), size_(size), writeable_(writeable), owner_(std::move(owner)) {}

private:
  std::byte* data_;
  std::size_t size_;
  bool writeable_;
  std::shared_ptr<const void> owner_;
  std::shared_ptr<std::vector<py::value>> objects_;
};

/// A zero-copy multi-dimensional view of native, aligned elements (mdspan-style).
/// Strides are in elements. Valid while the array's buffer lives.
template <class T, std::size_t Rank> class mdspan {
public:
  mdspan(T* data, std::array<std::int64_t, Rank> extents, std::array<std::int64_t, Rank> strides)
      : data_(data), extents_(extents), strides_(strides) {}
  template <class... I> T& operator()(I... idx) const {
    static_assert(sizeof...(I) == Rank,
                  "mdspan: pass exactly one index per dimension (as many as the Rank of mdview)");
    std::int64_t at = 0;
    std::size_t k = 0;
    ((at += static_cast<std::int64_t>(idx) * strides_[k++]), ...);
    return data_[at];
  }
  std::int64_t extent(std::size_t i) const { return extents_[i]; }
  std::int64_t stride(std::size_t i) const { return strides_[i]; }
  static constexpr std::size_t rank() noexcept { return Rank; }
  T* data_handle() const noexcept { return data_; }

private:
  T* data_;
  std::array<std::int64_t, Rank> extents_;
  std::array<std::int64_t, Rank> strides_;
};

/// An n-dimensional array, like numpy.ndarray. Copying an array copies the
/// view, not the data (use copy()). Element access is checked.
class array {
public:
  /// An empty float64 array of shape (0,).
  array();
  /// A new zero-filled array that owns its memory, in C or Fortran order.
  /// Errors: bad_shape, size_overflow, limit_exceeded.
  array(npio::dtype dt, shape_t shape, order o = order::c);
  /// Like np.ndarray(shape, dtype, buffer, offset, strides, order): a view of
  /// `buf`. Without strides, contiguous in order `o`.
  /// Errors: out_of_range when any element would lie outside the buffer.
  array(npio::dtype dt, shape_t shape, std::shared_ptr<buffer> buf, std::int64_t offset = 0,
        std::optional<shape_t> strides = std::nullopt, order o = order::c);

  /// A new array holding a copy of `values`, shaped `shape` (default 1-d):
  /// `array::from(v, {2, 3})`. Errors: bad_shape when the counts differ.
  template <class T>
  static array from(std::span<const T> values, std::optional<shape_t> shape = std::nullopt,
                    order o = order::c);
  template <class T>
  static array from(const std::vector<T>& v, std::optional<shape_t> shape = std::nullopt,
                    order o = order::c) {
    return from(std::span<const T>(v), std::move(shape), o);
  }
  template <class T>
  static array from(std::span<const T> values, shape_t shape, order o = order::c) {
    return from(values, std::optional<shape_t>(std::move(shape)), o);
  }
  template <class T> static array from(const std::vector<T>& v, shape_t shape, order o = order::c) {
    return from(std::span<const T>(v), std::optional<shape_t>(std::move(shape)), o);
  }
  /// A view of a caller's contiguous memory (not copied, not owned).
  template <class T> static array wrap(T* data, shape_t shape, order o = order::c);

  const npio::dtype& dtype() const noexcept { return dtype_; }
  const shape_t& shape() const noexcept { return shape_; }
  /// Byte strides, one per dimension (may be negative or zero).
  const shape_t& strides() const noexcept { return strides_; }
  /// Byte offset of element (0, ..., 0) from the start of the buffer.
  std::int64_t offset() const noexcept { return offset_; }
  std::size_t ndim() const noexcept { return shape_.size(); }
  /// Number of elements (1 for 0-d).
  std::int64_t size() const noexcept;
  std::size_t itemsize() const noexcept { return dtype_.itemsize(); }
  /// size() * itemsize().
  std::size_t nbytes() const noexcept;
  const std::shared_ptr<buffer>& base() const noexcept { return buf_; }

  bool is_c_contiguous() const noexcept;
  bool is_f_contiguous() const noexcept;
  bool is_aligned() const noexcept;
  bool writeable() const noexcept { return buf_ && buf_->writeable(); }

  /// Pointer to element (0, ..., 0).
  const std::byte* data() const noexcept { return buf_ ? buf_->data() + offset_ : nullptr; }
  /// Writable pointer. Errors: not_writeable.
  std::byte* mutable_data();

  /// Address of an element by indices (checked; negative indices count from the end).
  const std::byte* element_ptr(std::span<const std::int64_t> idx) const;

  /// Zero-copy read-only span of a C-contiguous, aligned, native array of T
  /// (`view<T>()` and `view<const T>()` are the same). Works on read-only
  /// arrays (a mapping opened `r`); to write, use mutable_view().
  /// Errors: type_mismatch, misaligned (not native/aligned/contiguous).
  template <class T> std::span<const std::remove_const_t<T>> view() const;
  /// Zero-copy writable span, as view(). Errors: as view(), not_writeable.
  template <class T> std::span<T> mutable_view();
  /// Zero-copy read-only mdspan of an aligned native array of T, any strides.
  /// Errors: type_mismatch, misaligned, invalid_argument (rank differs).
  template <class T, std::size_t Rank> mdspan<const std::remove_const_t<T>, Rank> mdview() const;
  /// Zero-copy writable mdspan, as mdview(). Errors: as mdview(), not_writeable.
  template <class T, std::size_t Rank> mdspan<T, Rank> mutable_mdview();

  /// Element at the indices, by value, swapped to native order if needed and
  /// safe on misaligned data. T is the element's C++ type (no conversion:
  /// use to_vector() or astype() for that), or std::string (an S element's
  /// bytes, a U element as UTF-8) or std::u32string (a U element), with
  /// trailing NULs removed as NumPy does.
  /// Errors: type_mismatch, out_of_range, invalid_argument (a U element that
  /// is not valid Unicode, as std::string).
  template <class T, class... I> T at(I... idx) const;
  /// Stores an element. For S and U elements `value` may be a string
  /// (std::string / string_view / const char* as UTF-8, or std::u32string);
  /// shorter text is padded with NULs, longer text is refused (NumPy would
  /// cut it). Errors: type_mismatch, out_of_range, not_writeable,
  /// invalid_argument (text too long, or not UTF-8).
  template <class T, class... I> void set(const T& value, I... idx);
  /// The only element of a size-1 array. Errors: type_mismatch, out_of_range.
  template <class T> T item() const;

  /// All elements in C order, converted to T under `rule` (NumPy's casting:
  /// int32 -> double is safe; big-endian data is swapped). T may also be
  /// std::string (S or U arrays) or std::u32string (U arrays). datetime64 and
  /// timedelta64 give their int64 counts as std::int64_t.
  /// Errors: type_mismatch (no such cast under `rule`), invalid_argument (as at()).
  template <class T> std::vector<T> to_vector(casting rule = casting::safe) const;

  /// a[i]: the sub-array at index i of the first axis (a view).
  array operator[](std::int64_t i) const;
  /// A strided view along one axis, like a[..., start:stop:step, ...].
  array slice(std::size_t axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1) const;
  /// Reversed axes (a view), like a.T.
  array transpose() const;
  /// Same elements in a new shape: a view when C-contiguous, otherwise a copy.
  array reshape(shape_t shape) const;
  /// One field of a structured array (a view with the field's dtype).
  array field(std::string_view name) const;

  /// A contiguous copy in the given order that owns its memory.
  array copy(order o = order::c) const;
  /// Elements converted to another dtype (numeric kinds, byte orders, bool,
  /// datetimes of the same unit, S <-> U (ASCII, as NumPy), S/U to a wider
  /// or narrower S/U; V by byte copy when only the byte order differs),
  /// allowed when can_cast(dtype(), dt, rule); NumPy's default rule is unsafe.
  /// Errors: type_mismatch when the rule forbids the cast or no conversion
  /// exists; invalid_argument (S <-> U of text that is not ASCII).
  array astype(const npio::dtype& dt, casting rule = casting::unsafe) const;
  /// astype(dtype::of<T>(), rule).
  template <class T> array astype(casting rule = casting::unsafe) const {
    return astype(npio::dtype::of<T>(), rule);
  }
  /// The array in native byte order (a copy only when swapping is needed).
  array to_native() const;
  /// The raw bytes of the elements in C (or Fortran) order, as ndarray.tobytes.
  std::vector<std::byte> tobytes(order o = order::c) const;
  /// Calls `sink` with consecutive chunks of tobytes(o), without one big copy.
  void for_each_chunk(order o, const std::function<void(std::span<const std::byte>)>& sink,
                      std::size_t chunk_bytes = std::size_t(1) << 20) const;

  /// Same dtype, shape and element bytes (in logical order).
  bool equal(const array& other) const;

  /// NumPy's repr(): "array([1., 2., 3.])", "array([[1, 2],\n       [3, 4]], dtype=int32)",
  /// summarized with "..." past 1000 elements (docs/design.md lists where it differs).
  std::string repr() const;

private:
  template <class T> void check_type(bool need_native) const;
  array astype_structured(const npio::dtype& dt) const;
  std::string get_string(const std::byte* p) const;
  std::u32string get_u32string(const std::byte* p) const;
  void put_string(std::byte* p, std::string_view s);
  void put_u32string(std::byte* p, std::u32string_view s);
  template <class T> std::vector<T> strings() const;
  template <class T> static T load_elem(const std::byte* p, bool swap) noexcept;
  template <class T> static void store_elem(std::byte* p, T v, bool swap) noexcept;
  std::byte* index_ptr(std::span<const std::int64_t> idx) const;

  npio::dtype dtype_;
  shape_t shape_;
  shape_t strides_;
  std::shared_ptr<buffer> buf_;
  std::int64_t offset_ = 0;
};

/// Prints a.repr().
std::ostream& operator<<(std::ostream& os, const array& a);

/// C-order (or Fortran-order) byte strides for a contiguous array.
shape_t contiguous_strides(const shape_t& shape, std::size_t itemsize, order o = order::c);

namespace detail {
[[noreturn]] void throw_type_mismatch(const dtype& have, const dtype& want);
[[noreturn]] void throw_error(errc code, const std::string& detail);
void byteswap(std::byte* p, std::size_t n) noexcept;
} // namespace detail

// ---- template implementations -------------------------------------------

namespace detail {
template <class T>
inline constexpr bool is_text_v =
    std::is_same_v<T, std::string> || std::is_same_v<T, std::u32string>;
template <class T>
inline constexpr bool is_utf8_arg_v =
    std::is_convertible_v<const T&, std::string_view> && !std::is_same_v<T, std::nullptr_t>;
} // namespace detail

template <class T> void array::check_type(bool need_native) const {
  static_assert(!std::is_const_v<T>, "at<T>/set<T>/item<T>: name the element type without const");
  static_assert(!detail::has_record<T>,
                "T is a record (npio::record<T>): read it with at<T>(i) or to_vector<T>(), "
                "write with array::from(std::vector<T>); records have no zero-copy view");
  static_assert(!detail::is_text_v<T>,
                "view<std::string>/mdview<std::string> cannot exist: S and U elements are not "
                "std::string objects; use at<std::string>(i) or to_vector<std::string>()");
  static_assert(detail::element_type<T> || std::is_same_v<T, std::int64_t>,
                "T must be an element type: bool, std::int8_t..std::uint64_t, npio::float16, "
                "float, double, long double or std::complex of a float type; for S and U arrays "
                "use std::string or std::u32string with at()/to_vector(), for other types "
                "convert with astype() or to_vector<T>()");
  const auto want = npio::dtype::of<T>();
  const char k = dtype_.kind();
  const bool kind_ok =
      k == want.kind() || (std::is_same_v<T, std::int64_t> && (k == 'M' || k == 'm'));
  if (!kind_ok || dtype_.itemsize() != sizeof(T) || dtype_.is_subarray())
    detail::throw_type_mismatch(dtype_, want);
  if (need_native && !dtype_.is_native())
    detail::throw_error(errc::misaligned, "array is not in native byte order (" + dtype_.str() +
                                              "); use to_native()");
}

template <class T> T array::load_elem(const std::byte* p, bool swap) noexcept {
  alignas(T) std::byte tmp[sizeof(T)];
  std::memcpy(tmp, p, sizeof(T));
  if (swap) {
    if constexpr (detail::dtype_traits<T>::kind == 'c') {
      detail::byteswap(tmp, sizeof(T) / 2);
      detail::byteswap(tmp + sizeof(T) / 2, sizeof(T) / 2);
    } else {
      detail::byteswap(tmp, sizeof(T));
    }
  }
  T v;
  std::memcpy(&v, tmp, sizeof(T));
  return v;
}

template <class T> void array::store_elem(std::byte* p, T v, bool swap) noexcept {
  alignas(T) std::byte tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  if (swap) {
    if constexpr (detail::dtype_traits<T>::kind == 'c') {
      detail::byteswap(tmp, sizeof(T) / 2);
      detail::byteswap(tmp + sizeof(T) / 2, sizeof(T) / 2);
    } else {
      detail::byteswap(tmp, sizeof(T));
    }
  }
  std::memcpy(p, tmp, sizeof(T));
}

template <class T, class... I> T array::at(I... idx) const {
  static_assert((std::is_integral_v<I> && ...), "at(): indices must be integers");
  const std::array<std::int64_t, sizeof...(I)> ix{static_cast<std::int64_t>(idx)...};
  if constexpr (std::is_same_v<T, std::string>) {
    return get_string(index_ptr(ix));
  } else if constexpr (std::is_same_v<T, std::u32string>) {
    return get_u32string(index_ptr(ix));
  } else if constexpr (detail::has_record<T>) {
    const array one(dtype_, {}, buf_, index_ptr(ix) - buf_->data());
    return detail::read_records<T>(one).front();
  } else {
    check_type<T>(false);
    return load_elem<T>(index_ptr(ix), !dtype_.is_native());
  }
}

template <class T, class... I> void array::set(const T& value, I... idx) {
  static_assert((std::is_integral_v<I> && ...), "set(): indices must be integers");
  const std::array<std::int64_t, sizeof...(I)> ix{static_cast<std::int64_t>(idx)...};
  if constexpr (std::is_same_v<T, std::u32string> || std::is_same_v<T, std::u32string_view>) {
    put_u32string(index_ptr(ix), value);
  } else if constexpr (detail::is_utf8_arg_v<T>) {
    put_string(index_ptr(ix), std::string_view(value));
  } else {
    check_type<T>(false);
    if (!writeable()) detail::throw_error(errc::not_writeable, "array is read-only");
    store_elem<T>(index_ptr(ix), value, !dtype_.is_native());
  }
}

template <class T> T array::item() const {
  if (size() != 1)
    detail::throw_error(errc::out_of_range,
                        "item() needs an array of size 1, not " + std::to_string(size()));
  const shape_t zeros(ndim(), 0);
  if constexpr (std::is_same_v<T, std::string>) {
    return get_string(index_ptr(zeros));
  } else if constexpr (std::is_same_v<T, std::u32string>) {
    return get_u32string(index_ptr(zeros));
  } else {
    check_type<T>(false);
    return load_elem<T>(index_ptr(zeros), !dtype_.is_native());
  }
}

template <class T> std::span<const std::remove_const_t<T>> array::view() const {
  using U = std::remove_const_t<T>;
  check_type<U>(true);
  if (!is_c_contiguous() || !is_aligned())
    detail::throw_error(errc::misaligned,
                        "view() needs a C-contiguous, aligned array; use copy() first");
  return {reinterpret_cast<const U*>(data()), static_cast<std::size_t>(size())};
}

template <class T> std::span<T> array::mutable_view() {
  static_assert(!std::is_const_v<T>,
                "mutable_view<const T>() makes no sense: use view<T>() for read-only access");
  auto s = view<T>();
  return {reinterpret_cast<T*>(mutable_data()), s.size()};
}

template <class T, std::size_t Rank>
mdspan<const std::remove_const_t<T>, Rank> array::mdview() const {
  using U = std::remove_const_t<T>;
  check_type<U>(true);
  if (ndim() != Rank)
    detail::throw_error(errc::invalid_argument, "mdview rank " + std::to_string(Rank) + " for a " +
                                                    std::to_string(ndim()) + "-d array");
  if (!is_aligned()) detail::throw_error(errc::misaligned, "array data is misaligned");
  std::array<std::int64_t, Rank> ext{}, st{};
  for (std::size_t i = 0; i < Rank; ++i) {
    if (strides_[i] % static_cast<std::int64_t>(sizeof(U)) != 0)
      detail::throw_error(errc::misaligned, "stride is not a multiple of the item size");
    ext[i] = shape_[i];
    st[i] = strides_[i] / static_cast<std::int64_t>(sizeof(U));
  }
  return {reinterpret_cast<const U*>(data()), ext, st};
}

template <class T, std::size_t Rank> mdspan<T, Rank> array::mutable_mdview() {
  static_assert(!std::is_const_v<T>, "mutable_mdview<const T, R>() makes no sense: use "
                                     "mdview<T, R>() for read-only access");
  auto v = mdview<T, Rank>();
  std::array<std::int64_t, Rank> ext{}, st{};
  for (std::size_t i = 0; i < Rank; ++i)
    ext[i] = v.extent(i), st[i] = v.stride(i);
  return {reinterpret_cast<T*>(mutable_data()), ext, st};
}

template <class T> std::vector<T> array::to_vector(casting rule) const {
  if constexpr (detail::has_record<T>) {
    (void)rule;
    return detail::read_records<T>(*this);
  } else if constexpr (detail::is_text_v<T>) {
    (void)rule;
    return strings<T>();
  } else {
    static_assert(detail::element_type<T>,
                  "to_vector<T>: T must be bool, an integer or float type, npio::float16, "
                  "std::complex<float/double/long double>, std::string or std::u32string");
    const auto want = npio::dtype::of<T>();
    const bool counts = std::is_same_v<T, std::int64_t> && dtype_.is_datetime() &&
                        !dtype_.is_subarray() && !dtype_.is_structured();
    array src = *this;
    if (counts)
      src = to_native();
    else if (!(dtype_ == want))
      src = astype(want, rule);
    std::vector<T> out(static_cast<std::size_t>(src.size()));
    if (out.empty()) return out;
    if constexpr (std::is_same_v<T, bool>) { // std::vector<bool> has no data()
      const auto bytes = src.tobytes();
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = bytes[i] != std::byte{0};
    } else if (src.is_c_contiguous()) {
      std::memcpy(out.data(), src.data(), out.size() * sizeof(T));
    } else {
      const auto bytes = src.tobytes();
      std::memcpy(out.data(), bytes.data(), bytes.size());
    }
    return out;
  }
}

template <class T>
array array::from(std::span<const T> values, std::optional<shape_t> shape, order o) {
  if constexpr (detail::has_record<T>) {
    return detail::write_records<T>(values, std::move(shape), o);
  } else {
    static_assert(detail::element_type<T>,
                  "array::from: T must be an element type (bool, integers, floats, "
                  "npio::float16, std::complex) or a struct bound with npio::record<T> "
                  "(npio/record.hpp); for strings make an S or U array and set() each element");
    shape_t s = shape ? std::move(*shape) : shape_t{static_cast<std::int64_t>(values.size())};
    array a(npio::dtype::of<T>(), s, o);
    if (static_cast<std::size_t>(a.size()) != values.size())
      detail::throw_error(errc::bad_shape, "shape does not match the number of values");
    if (o == order::c || a.ndim() <= 1) {
      if (!values.empty()) std::memcpy(a.mutable_data(), values.data(), values.size_bytes());
    } else {
      // values are in C order; the array is Fortran-ordered: place them by index.
      array src = wrap(const_cast<T*>(values.data()), s);
      a = src.copy(order::f);
    }
    return a;
  }
}

template <class T> array array::wrap(T* data, shape_t shape, order o) {
  using U = std::remove_const_t<T>;
  std::size_t n = sizeof(U);
  for (auto d : shape)
    n *= static_cast<std::size_t>(d < 0 ? 0 : d);
  auto buf = buffer::wrap(const_cast<U*>(data), n, !std::is_const_v<T>);
  return array(npio::dtype::of<U>(), std::move(shape), std::move(buf), 0, std::nullopt, o);
}

} // namespace v1
} // namespace npio
