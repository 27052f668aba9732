// load_into: read a .npy file's data straight into a caller's array with
// pread() into the destination: no intermediate buffer, no fresh pages.
#include "file.hpp"

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

  // One small read covers the header of nearly every file; the preamble's
  // length field says how much more a long header needs.
  std::array<std::byte, 4096> small;
  std::vector<std::byte> big;
  std::span<const std::byte> head(
      small.data(), detail::pread_full(fd.get(), small.data(), small.size(), 0, path));
  if (head.size() >= 12 && head.size() < size) {
    const auto major = std::to_integer<unsigned>(head[6]);
    const std::size_t lenfield = major == 1 ? 2 : 4;
    std::uint64_t hlen = 0;
    for (std::size_t i = 0; i < lenfield; ++i)
      hlen |= std::to_integer<std::uint64_t>(head[8 + i]) << (8 * i);
    const std::uint64_t need = std::min<std::uint64_t>(8 + lenfield + hlen, size);
    // Lengths over the limit are not read: read_header reports them from the preamble.
    if (major >= 1 && major <= 3 && need > head.size() && hlen <= options.max_header_size) {
      big.resize(static_cast<std::size_t>(need));
      big.resize(detail::pread_full(fd.get(), big.data(), big.size(), 0, path));
      head = big;
    }
  }
  const header h = read_header(head, options.max_header_size);

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
