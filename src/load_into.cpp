// load_into: read a .npy file's data straight into a caller's array with
// pread() into the destination: no intermediate buffer, no fresh pages.
#include "file.hpp"
#include "npy_framing.hpp"

#include <algorithm>
#include <array>
#include <fcntl.h>
#include <npio/load_into.hpp>
#include <string>
#include <vector>

namespace npio {
inline namespace v1 {

namespace {

std::string shape_str(const shape_t& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

// Errors carry no file name here; load_into adds it.
void read_into(const std::filesystem::path& path, array& dst, const load_options& options) {
  const auto fd = detail::open_file(path, O_RDONLY);
  const std::uint64_t size = detail::file_size(fd.get(), path);
  std::array<std::byte, 4096> first;
  std::size_t in_first = 0;
  const header h = detail::read_file_header(fd.get(), path, size,
                                            detail::effective_max_header(options), first, in_first);

  if (h.dtype.has_object())
    throw error(errc::type_mismatch, "load_into cannot read object arrays (pickled data)");
  if (!(h.dtype == dst.dtype()))
    throw error(errc::type_mismatch,
                "file has dtype " + h.dtype.str() + ", destination has " + dst.dtype().str());
  if (h.shape != dst.shape())
    throw error(errc::bad_shape, "file has shape " + shape_str(h.shape) + ", destination has " +
                                     shape_str(dst.shape()));
  const bool fortran = h.fortran_order && dst.ndim() > 1;
  if (fortran ? !dst.is_f_contiguous() : !dst.is_c_contiguous())
    throw error(errc::invalid_argument, std::string("destination is not ") +
                                            (fortran ? "Fortran" : "C") +
                                            "-contiguous, as the file's data is");
  if (h.data_size > options.max_data_bytes)
    throw error(errc::limit_exceeded,
                "array data of " + std::to_string(h.data_size) +
                    " bytes is larger than max_data_bytes",
                {}, {}, h.data_offset);
  auto short_read = [&](std::uint64_t got) {
    throw error(errc::truncated,
                "file seems not fully written: expected " + std::to_string(h.data_size) +
                    " bytes of array data, found " + std::to_string(got),
                {}, {}, h.data_offset);
  };
  const std::uint64_t present = size > h.data_offset ? size - h.data_offset : 0;
  if (present < h.data_size) short_read(present);
  if (h.data_size == 0) return;
  std::byte* out = dst.mutable_data(); // not_writeable for read-only memory
  const auto n = static_cast<std::size_t>(h.data_size);
  const std::size_t got = detail::pread_full(fd.get(), out, n, h.data_offset, path);
  if (got != n) short_read(got); // the file shrank while we read it
}

} // namespace

void load_into(const std::filesystem::path& path, array& dst, const load_options& options) {
  try {
    read_into(path, dst, options);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

result<void> try_load_into(const std::filesystem::path& path, array& dst,
                           const load_options& options) noexcept {
  return capture([&] { load_into(path, dst, options); });
}

} // namespace v1
} // namespace npio
