// The entry points of the pickle and archive layers that the layers above
// them call: np.load's dispatcher (src/load.cpp) and a whole .npy with object
// data (src/npy_file.cpp). The plain .npy layer (src/io.cpp, mmap_posix.cpp,
// load_into.cpp) never includes this file.
#pragma once

#include "file.hpp"
#include "npy_framing.hpp" // effective_max_header, for the layers that include only this

#include <filesystem>
#include <npio/io.hpp>
#include <span>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

// Object arrays (src/pickle_numpy.cpp). `payload` is everything after the
// header; NumPy returns whatever the pickle holds, usually an object array.
loaded read_object_npy(std::span<const std::byte> payload, const header& h,
                       const load_options& options);
// The pickle np.save writes after an object array's header.
std::vector<std::byte> write_object_payload(const array& a);
// np.load of a file that is neither .npy nor .npz.
loaded read_raw_pickle(std::span<const std::byte> bytes, const load_options& options);

// Archives (src/npz.cpp): the file already open as `fd` (read by offset from
// now on), or bytes in memory.
loaded open_npz(fd_handle fd, const std::filesystem::path& path, const load_options& options);
loaded open_npz(std::vector<std::byte> bytes, const load_options& options);

} // namespace detail
} // namespace v1
} // namespace npio
