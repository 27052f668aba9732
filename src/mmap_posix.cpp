// open_memmap and load(mmap_mode) on POSIX: arrays that are views of a file
// mapping, which stays alive as long as any view of it does.
#include "file.hpp"
#include "shape_size.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <npio/io.hpp>
#include <optional>
#include <sys/mman.h>
#include <unistd.h>

namespace npio {
inline namespace v1 {

namespace {

// Reads the header with one pread in the common case. `first` (at least 4096
// bytes) receives the start of the file; its length is returned in `got`.
header read_file_header(int fd, const std::filesystem::path& path, std::uint64_t size,
                        std::size_t max_header, std::span<std::byte> first, std::size_t& got) {
  got = detail::pread_full(fd, first.data(),
                           static_cast<std::size_t>(std::min<std::uint64_t>(size, first.size())), 0,
                           path);
  const std::span<const std::byte> head = first.first(got);
  auto r = try_read_header(head, max_header);
  if (!r && r.code() == errc::truncated && head.size() < size && head.size() >= 12) {
    // A long header: read exactly what it declares, within the limit read_header checks.
    const std::size_t lenfield = static_cast<std::uint8_t>(head[6]) == 1 ? 2 : 4;
    std::uint64_t hlen = 0;
    for (std::size_t i = 0; i < lenfield; ++i)
      hlen |= std::uint64_t(static_cast<std::uint8_t>(head[8 + i])) << (8 * i);
    const std::uint64_t need = std::min<std::uint64_t>(8 + lenfield + hlen, size);
    std::vector<std::byte> all(static_cast<std::size_t>(need));
    all.resize(detail::pread_full(fd, all.data(), all.size(), 0, path));
    return read_header(all, max_header);
  }
  return std::move(r).value();
}

[[noreturn]] void no_objects() {
  throw error(errc::invalid_argument, "Array can't be memory-mapped: Python objects in dtype.");
}

array map_array(int fd, const std::filesystem::path& path, const header& h, std::uint64_t size,
                mmap_mode mode) {
  const std::uint64_t end = h.data_offset + h.data_size;
  if (end > size)
    throw error(errc::truncated,
                "file seems not fully written: expected " + std::to_string(h.data_size) +
                    " bytes of array data, found " +
                    std::to_string(size > h.data_offset ? size - h.data_offset : 0),
                {}, {}, h.data_offset);
  const bool writeable = mode != mmap_mode::r;
  const order o = h.fortran_order ? order::f : order::c;
  if (h.data_size == 0) {
    auto buf = buffer::allocate(0);
    return array(h.dtype, h.shape, buffer::adopt(buf->data(), 0, buf, writeable), 0, std::nullopt,
                 o);
  }
  const int prot = PROT_READ | (writeable ? PROT_WRITE : 0);
  const int flags = mode == mmap_mode::c ? MAP_PRIVATE : MAP_SHARED;
  void* p = ::mmap(nullptr, static_cast<std::size_t>(end), prot, flags, fd, 0);
  if (p == MAP_FAILED) detail::throw_os_error("cannot map", path, errno);
  auto m = std::make_shared<detail::file_mapping>(p, static_cast<std::size_t>(end));
  auto* data = static_cast<std::byte*>(p) + h.data_offset;
  return array(h.dtype, h.shape,
               buffer::adopt(data, static_cast<std::size_t>(h.data_size), std::move(m), writeable),
               0, std::nullopt, o);
}

} // namespace

array open_memmap(const std::filesystem::path& path, mmap_mode mode, std::optional<dtype> dt,
                  std::optional<shape_t> shape, bool fortran_order,
                  std::optional<format_version> version, std::size_t max_header_size) {
  try {
    if (mode == mmap_mode::none) mode = mmap_mode::r_plus;
    if (mode == mmap_mode::w_plus) {
      if (!dt || !shape)
        throw error(errc::invalid_argument, "open_memmap with mode w+ needs a dtype and a shape");
      if (dt->has_object()) no_objects();
      // Validate through the array model (subarray dtypes, overflow), then size the file.
      const array probe(*dt, shape_t{0});
      shape_t full = *shape;
      for (auto d : dt->shape())
        full.push_back(d);
      const std::uint64_t n = detail::checked_nbytes(full, probe.dtype().itemsize());
      const std::string head = format_header(probe.dtype(), full, fortran_order, version);
      detail::atomic_file f(path);
      f.write(std::as_bytes(std::span(head)));
      if (::ftruncate(f.fd(), static_cast<off_t>(head.size() + n)) != 0)
        detail::throw_os_error("cannot size", path, errno);
      f.commit();
    }
    const int oflags = mode == mmap_mode::r || mode == mmap_mode::c ? O_RDONLY : O_RDWR;
    auto fd = detail::open_file(path, oflags);
    const std::uint64_t size = detail::file_size(fd.get(), path);
    std::array<std::byte, 4096> first;
    std::size_t got = 0;
    const header h = read_file_header(fd.get(), path, size, max_header_size, first, got);
    if (h.dtype.has_object()) no_objects();
    return map_array(fd.get(), path, h, size, mode == mmap_mode::w_plus ? mmap_mode::r_plus : mode);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

namespace detail {

std::optional<array> map_npy_or_zip(const std::filesystem::path& path, mmap_mode mode,
                                    std::size_t max_header_size) {
  auto fd = open_file(path, O_RDONLY);
  const std::uint64_t size = file_size(fd.get(), path);
  std::array<std::byte, 4096> first;
  std::size_t got = 0;
  header h;
  try {
    h = read_file_header(fd.get(), path, size, max_header_size, first, got);
  } catch (const error&) {
    // Not an .npy (empty, an archive, a pickle): the caller dispatches as np.load does.
    if (got < 6 || std::memcmp(first.data(), "\x93NUMPY", 6) != 0) return std::nullopt;
    throw;
  }
  if (h.dtype.has_object()) no_objects();
  return map_array(fd.get(), path, h, size, mode);
}

} // namespace detail

} // namespace v1
} // namespace npio
