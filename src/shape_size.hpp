// The byte size of an array's data from its shape, checked as NumPy checks
// it; shared by the header parser, array's constructors and the writers
// (npy_writer, open_memmap w+), so that nothing is written that load refuses.
#pragma once

#include <algorithm>
#include <cstdint>
#include <npio/array.hpp>
#include <npio/error.hpp>
#include <string>

namespace npio {
inline namespace v1 {
namespace detail {

enum class size_check { ok, too_many, too_large };

// Sets `nbytes` to the elements of `shape` (dimensions >= 0) times `itemsize`.
// As NumPy does, a zero dimension does not excuse the others: the product of
// the nonzero ones (too_many) and that times the itemsize (too_large) must
// fit, since the strides are made from them, within npio's cap of 2**62.
inline size_check shape_nbytes(const shape_t& shape, std::uint64_t itemsize,
                               std::uint64_t& nbytes) {
  constexpr std::uint64_t cap = std::uint64_t(1) << 62;
  std::uint64_t count = 1;
  bool empty = false;
  for (const auto dim : shape) {
    if (dim == 0) empty = true;
    if (__builtin_mul_overflow(count, std::max<std::uint64_t>(static_cast<std::uint64_t>(dim), 1),
                               &count) ||
        count > cap)
      return size_check::too_many;
  }
  if (__builtin_mul_overflow(count, itemsize, &nbytes) || nbytes > cap)
    return size_check::too_large;
  if (empty) nbytes = 0;
  return size_check::ok;
}

// shape_nbytes as an error: more than max_ndim dimensions or a negative one is
// bad_shape, a size beyond the cap (a zero dimension hides nothing) is
// size_overflow.
inline std::uint64_t checked_nbytes(const shape_t& shape, std::uint64_t itemsize) {
  if (shape.size() > max_ndim)
    throw error(errc::bad_shape, "more than " + std::to_string(max_ndim) + " dimensions");
  for (auto d : shape)
    if (d < 0) throw error(errc::bad_shape, "negative dimensions are not allowed");
  std::uint64_t n = 0;
  if (shape_nbytes(shape, itemsize, n) != size_check::ok)
    throw error(errc::size_overflow, "array is too large");
  return n;
}

} // namespace detail
} // namespace v1
} // namespace npio
