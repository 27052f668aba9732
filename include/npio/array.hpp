/// \file array.hpp
/// The n-dimensional array: a dtype, a shape, byte strides and a byte offset
/// over a shared buffer (owned heap memory, a caller's memory, or a file mapping).
#pragma once

#include <array>
#include <cstring>
#include <functional>
#include <npio/dtype.hpp>
#include <npio/error.hpp>
#include <span>
#include <vector>

namespace npio {
inline namespace v1 {

namespace py {
class value;
}

/// Memory order for new arrays and copies.
enum class order { c, f };

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
    static_assert(sizeof...(I) == Rank, "wrong number of indices");
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

  /// A new array holding a copy of `values`, shaped `shape` (default 1-d).
  template <class T>
  static array from(std::span<const T> values, std::optional<shape_t> shape = std::nullopt,
                    order o = order::c);
  template <class T>
  static array from(const std::vector<T>& v, std::optional<shape_t> shape = std::nullopt,
                    order o = order::c) {
    return from(std::span<const T>(v), std::move(shape), o);
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

  /// Zero-copy span of a C-contiguous, aligned, native array of T.
  /// Errors: type_mismatch, misaligned (not native/aligned/contiguous), not_writeable.
  template <class T> std::span<T> view();
  template <class T> std::span<const T> view() const;
  /// Zero-copy mdspan of an aligned native array of T, any strides.
  template <class T, std::size_t Rank> mdspan<T, Rank> mdview();
  template <class T, std::size_t Rank> mdspan<const T, Rank> mdview() const;

  /// Element at the indices, by value, swapped to native order if needed and
  /// safe on misaligned data. Errors: type_mismatch, out_of_range.
  template <class T, class... I> T at(I... idx) const;
  /// Stores an element. Errors: type_mismatch, out_of_range, not_writeable.
  template <class T, class... I> void set(T value, I... idx);
  /// The only element of a size-1 array. Errors: type_mismatch, out_of_range.
  template <class T> T item() const;

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
  /// datetimes of the same unit; S/U/V by byte copy when the dtype matches).
  /// Errors: type_mismatch when no conversion exists.
  array astype(const npio::dtype& dt) const;
  /// The array in native byte order (a copy only when swapping is needed).
  array to_native() const;
  /// The raw bytes of the elements in C (or Fortran) order, as ndarray.tobytes.
  std::vector<std::byte> tobytes(order o = order::c) const;
  /// Calls `sink` with consecutive chunks of tobytes(o), without one big copy.
  void for_each_chunk(order o, const std::function<void(std::span<const std::byte>)>& sink,
                      std::size_t chunk_bytes = std::size_t(1) << 20) const;

  /// Same dtype, shape and element bytes (in logical order).
  bool equal(const array& other) const;

private:
  template <class T> void check_type(bool need_native) const;
  template <class T> static T load_elem(const std::byte* p, bool swap) noexcept;
  template <class T> static void store_elem(std::byte* p, T v, bool swap) noexcept;
  std::byte* index_ptr(std::span<const std::int64_t> idx) const;

  npio::dtype dtype_;
  shape_t shape_;
  shape_t strides_;
  std::shared_ptr<buffer> buf_;
  std::int64_t offset_ = 0;
};

/// C-order (or Fortran-order) byte strides for a contiguous array.
shape_t contiguous_strides(const shape_t& shape, std::size_t itemsize, order o = order::c);

namespace detail {
[[noreturn]] void throw_type_mismatch(const dtype& have, const dtype& want);
[[noreturn]] void throw_error(errc code, const std::string& detail);
void byteswap(std::byte* p, std::size_t n) noexcept;
} // namespace detail

// ---- template implementations -------------------------------------------

template <class T> void array::check_type(bool need_native) const {
  static_assert(detail::element_type<T> || std::is_same_v<T, std::int64_t>);
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
  check_type<T>(false);
  const std::array<std::int64_t, sizeof...(I)> ix{static_cast<std::int64_t>(idx)...};
  return load_elem<T>(index_ptr(ix), !dtype_.is_native());
}

template <class T, class... I> void array::set(T value, I... idx) {
  check_type<T>(false);
  const std::array<std::int64_t, sizeof...(I)> ix{static_cast<std::int64_t>(idx)...};
  if (!writeable()) detail::throw_error(errc::not_writeable, "array is read-only");
  store_elem<T>(index_ptr(ix), value, !dtype_.is_native());
}

template <class T> T array::item() const {
  check_type<T>(false);
  if (size() != 1)
    detail::throw_error(errc::out_of_range,
                        "item() needs an array of size 1, not " + std::to_string(size()));
  const shape_t zeros(ndim(), 0);
  return load_elem<T>(index_ptr(zeros), !dtype_.is_native());
}

template <class T> std::span<const T> array::view() const {
  check_type<std::remove_const_t<T>>(true);
  if (!is_c_contiguous() || !is_aligned())
    detail::throw_error(errc::misaligned,
                        "view() needs a C-contiguous, aligned array; use copy() first");
  return {reinterpret_cast<const T*>(data()), static_cast<std::size_t>(size())};
}

template <class T> std::span<T> array::view() {
  auto s = std::as_const(*this).view<T>();
  return {reinterpret_cast<T*>(mutable_data()), s.size()};
}

template <class T, std::size_t Rank> mdspan<const T, Rank> array::mdview() const {
  check_type<T>(true);
  if (ndim() != Rank)
    detail::throw_error(errc::invalid_argument, "mdview rank " + std::to_string(Rank) + " for a " +
                                                    std::to_string(ndim()) + "-d array");
  if (!is_aligned()) detail::throw_error(errc::misaligned, "array data is misaligned");
  std::array<std::int64_t, Rank> ext{}, st{};
  for (std::size_t i = 0; i < Rank; ++i) {
    if (strides_[i] % static_cast<std::int64_t>(sizeof(T)) != 0)
      detail::throw_error(errc::misaligned, "stride is not a multiple of the item size");
    ext[i] = shape_[i];
    st[i] = strides_[i] / static_cast<std::int64_t>(sizeof(T));
  }
  return {reinterpret_cast<const T*>(data()), ext, st};
}

template <class T, std::size_t Rank> mdspan<T, Rank> array::mdview() {
  auto v = std::as_const(*this).mdview<T, Rank>();
  std::array<std::int64_t, Rank> ext{}, st{};
  for (std::size_t i = 0; i < Rank; ++i)
    ext[i] = v.extent(i), st[i] = v.stride(i);
  return {reinterpret_cast<T*>(mutable_data()), ext, st};
}

template <class T>
array array::from(std::span<const T> values, std::optional<shape_t> shape, order o) {
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
