// The byte size of an array's data from its shape, checked as NumPy checks
// it; shared by the header parser and array's constructors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <npio/array.hpp>

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

} // namespace detail
} // namespace v1
} // namespace npio
