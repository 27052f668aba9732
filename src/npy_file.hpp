// A whole .npy, object arrays included: the .npy layer (src/io.cpp) reads and
// writes raw data, the pickle layer the objects. Used by np.load's dispatcher
// (src/load.cpp) and by archive members (src/npz.cpp).
#pragma once

#include "npy_io.hpp"

#include <npio/io.hpp>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

/// np.load of a .npy read through `src`, whose first bytes (the magic at
/// least) are in `prefix`. Errors: as load.
loaded load_npy(source& src, std::vector<std::byte>& prefix, const load_options& o);

} // namespace detail
} // namespace v1
} // namespace npio
