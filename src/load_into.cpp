// load_into: read a .npy file's data straight into a caller's array, with
// pread() into the destination (no intermediate buffer, no fresh pages).
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <npio/load_into.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace npio {
inline namespace v1 {

namespace {

// Owns a file descriptor.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void throw_os(const std::string& what, const std::string& file, int err) {
  throw error(errc::io_error, what + ": " + std::strerror(err), file);
}

// Reads exactly `n` bytes at `offset`, or fewer only at end of file; returns the count.
std::size_t pread_full(int fd, std::byte* p, std::size_t n, std::uint64_t offset,
                       const std::string& file) {
  std::size_t done = 0;
  while (done < n) {
    // Linux moves at most 0x7ffff000 bytes per call; 1 GiB pieces keep that safe.
    const std::size_t want = std::min<std::size_t>(n - done, std::size_t(1) << 30);
    const ssize_t got = ::pread(fd, p + done, want, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_os("cannot read", file, errno);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

std::string shape_str(const shape_t& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

} // namespace

void load_into(const std::filesystem::path& path, array& dst, const load_options& options) {
  const std::string file = path.string();
  fd_guard g{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (g.fd < 0) throw_os("cannot open", file, errno);
  struct stat st {};
  if (::fstat(g.fd, &st) != 0) throw_os("cannot stat", file, errno);
  const auto file_size = static_cast<std::uint64_t>(st.st_size);

  // The header: one small read covers it for nearly every file; the preamble's
  // length field tells how much more to read when it does not.
  std::array<std::byte, 4096> small{};
  std::vector<std::byte> big;
  std::span<const std::byte> head(small.data(),
                                  pread_full(g.fd, small.data(), small.size(), 0, file));
  if (head.size() >= 12 && head.size() < file_size) {
    const auto major = std::to_integer<unsigned>(head[6]);
    std::uint64_t need = 0;
    if (major == 1)
      need = 10 + (std::to_integer<std::uint64_t>(head[8]) | std::to_integer<std::uint64_t>(head[9])
                                                                 << 8);
    else if (major == 2 || major == 3)
      need = 12 + (std::to_integer<std::uint64_t>(head[8]) |
                   std::to_integer<std::uint64_t>(head[9]) << 8 |
                   std::to_integer<std::uint64_t>(head[10]) << 16 |
                   std::to_integer<std::uint64_t>(head[11]) << 24);
    // Only lengths within the limit are read; read_header reports the rest.
    if (need > head.size() && need <= 12 + std::uint64_t(options.max_header_size)) {
      need = std::min(need, file_size);
      big.resize(static_cast<std::size_t>(need));
      big.resize(pread_full(g.fd, big.data(), big.size(), 0, file));
      head = big;
    }
  }
  auto hr = try_read_header(head, options.max_header_size);
  if (!hr) throw hr.error().with_context(file);
  const header& h = *hr;

  if (h.dtype.has_object())
    throw error(errc::type_mismatch, "load_into cannot read object arrays (pickled data)", file);
  if (!(h.dtype == dst.dtype()))
    throw error(errc::type_mismatch,
                "file has dtype " + h.dtype.str() + ", destination has " + dst.dtype().str(), file);
  if (h.shape != dst.shape())
    throw error(errc::bad_shape,
                "file has shape " + shape_str(h.shape) + ", destination has " +
                    shape_str(dst.shape()),
                file);
  const bool fortran = h.fortran_order && dst.ndim() > 1;
  if (fortran ? !dst.is_f_contiguous() : !dst.is_c_contiguous())
    throw error(errc::invalid_argument,
                std::string("destination is not ") + (fortran ? "Fortran" : "C") +
                    "-contiguous, as the file's data is",
                file);
  if (h.data_size > options.max_data_bytes)
    throw error(errc::limit_exceeded,
                "array data of " + std::to_string(h.data_size) + " bytes exceeds max_data_bytes " +
                    std::to_string(options.max_data_bytes),
                file);
  if (file_size < h.data_offset || file_size - h.data_offset < h.data_size)
    throw error(errc::truncated,
                "file ends before the " + std::to_string(h.data_size) +
                    " bytes of data its header declares",
                file, {}, file_size);
  if (h.data_size == 0) return;
  std::byte* out = dst.mutable_data(); // not_writeable for read-only memory
  const std::size_t n = static_cast<std::size_t>(h.data_size);
  const std::size_t got = pread_full(g.fd, out, n, h.data_offset, file);
  if (got != n)
    throw error(errc::truncated, "file ended while reading the data (it shrank)", file, {},
                h.data_offset + got);
}

result<void> try_load_into(const std::filesystem::path& path, array& dst,
                           const load_options& options) noexcept {
  return capture([&] { load_into(path, dst, options); });
}

} // namespace v1
} // namespace npio
