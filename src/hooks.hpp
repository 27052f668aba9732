// Private seams between the .npy core and the pickle and npz layers, so that
// load() can hand object data and archives to them.
#pragma once

#include <filesystem>
#include <limits>
#include <npio/io.hpp>
#include <span>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

// np.load lifts max_header_size for callers who trust the file (allow_pickle).
inline std::size_t effective_max_header(const load_options& o) {
  return o.allow_pickle ? std::numeric_limits<std::size_t>::max() / 8 : o.max_header_size;
}

// Object arrays (src/pickle_numpy.cpp). `payload` is everything after the
// header; NumPy returns whatever the pickle holds, usually an object array.
loaded read_object_npy(std::span<const std::byte> payload, const header& h,
                       const load_options& options);
// The pickle np.save writes after an object array's header.
std::vector<std::byte> write_object_payload(const array& a);
// np.load of a file that is neither .npy nor .npz.
loaded read_raw_pickle(std::span<const std::byte> bytes, const load_options& options);

// Archives (src/npz.cpp). `name` is used in messages.
loaded open_npz(const std::filesystem::path& path, const load_options& options);
loaded open_npz(std::vector<std::byte> bytes, const load_options& options);

} // namespace detail
} // namespace v1
} // namespace npio
