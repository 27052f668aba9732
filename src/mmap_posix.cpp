// open_memmap and load(mmap_mode) on POSIX: arrays that are views of a file
// mapping, which stays alive as long as any view of it does.
#include "file.hpp"
#include "npy_framing.hpp"
#include "npy_io.hpp"
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

namespace detail {

array map_npy(int fd, const std::filesystem::path& path, const header& h, std::uint64_t size,
              mmap_mode mode) {
  if (h.dtype.has_object()) no_objects();
  return map_array(fd, path, h, size, mode);
}

} // namespace detail

array open_memmap(const std::filesystem::path& path, const memmap_options& options) {
  try {
    mmap_mode mode = options.mode;
    if (mode == mmap_mode::none) mode = mmap_mode::r_plus;
    if (mode == mmap_mode::w_plus) {
      if (!options.dtype || !options.shape)
        throw error(errc::invalid_argument, "open_memmap with mode w+ needs a dtype and a shape");
      const dtype& dt = *options.dtype;
      if (dt.has_object()) no_objects();
      // Validate through the array model (subarray dtypes), then size the file
      // with the one size check (src/shape_size.hpp) before anything is written.
      const array probe(dt, shape_t{0});
      shape_t full = *options.shape;
      for (auto d : dt.shape())
        full.push_back(d);
      const std::uint64_t n = detail::checked_nbytes(full, probe.dtype().itemsize());
      const std::string head =
          format_header(probe.dtype(), full, options.fortran_order, options.version);
      detail::atomic_file f(path);
      f.drop_old_cache(); // the map's pages, written later, can reuse them
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
    const header h =
        detail::read_file_header(fd.get(), path, size, options.max_header_size, first, got);
    if (h.dtype.has_object()) no_objects();
    return map_array(fd.get(), path, h, size, mode == mmap_mode::w_plus ? mmap_mode::r_plus : mode);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

} // namespace v1
} // namespace npio
