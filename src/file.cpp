// POSIX file helpers: EINTR-safe full reads and writes, atomic replacement.
#include "file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace npio {
inline namespace v1 {
namespace detail {

fd_handle& fd_handle::operator=(fd_handle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

fd_handle::~fd_handle() {
  if (fd_ >= 0) ::close(fd_);
}

file_mapping::~file_mapping() {
  if (p) ::munmap(p, n);
}

void throw_os_error(const std::string& what, const std::filesystem::path& path, int err) {
  throw error(errc::io_error, what + ": " + std::strerror(err), path.string());
}

fd_handle open_file(const std::filesystem::path& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_os_error("cannot open", path, errno);
  return fd_handle(fd);
}

std::uint64_t file_size(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_os_error("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) throw_os_error("cannot read", path, EISDIR);
  return static_cast<std::uint64_t>(st.st_size);
}

std::size_t read_full(int fd, std::byte* dst, std::size_t n, const std::filesystem::path& path) {
  std::size_t got = 0;
  while (got < n) {
    // Large reads in 1 GiB pieces (Linux caps a read at about 2 GiB).
    const ssize_t r = ::read(fd, dst + got, std::min<std::size_t>(n - got, std::size_t(1) << 30));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os_error("read failed", path, errno);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::size_t pread_full(int fd, std::byte* dst, std::size_t n, std::uint64_t offset,
                       const std::filesystem::path& path) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, dst + got, std::min<std::size_t>(n - got, std::size_t(1) << 30),
                              static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os_error("read failed", path, errno);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

void write_full(int fd, const std::byte* src, std::size_t n, const std::filesystem::path& path) {
  while (n) {
    const ssize_t w = ::write(fd, src, std::min<std::size_t>(n, std::size_t(1) << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_os_error("write failed", path, errno);
    }
    src += w;
    n -= static_cast<std::size_t>(w);
  }
}

namespace {

// np.save opens the path with 'wb', which writes through a symbolic link (even
// a dangling one) to the file it names: follow links so the rename replaces
// that file and the link stays.
std::filesystem::path follow_links(std::filesystem::path p) {
  std::error_code ec;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(p, ec); ++hops) {
    const auto link = std::filesystem::read_symlink(p, ec);
    if (ec) break;
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  return p;
}

} // namespace

atomic_file::atomic_file(const std::filesystem::path& target)
    : target_(target), real_(follow_links(target)) {
  const auto dir = real_.has_parent_path() ? real_.parent_path() : std::filesystem::path(".");
  std::random_device rd;
  for (int attempt = 0;; ++attempt) {
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".tmp%08x", static_cast<unsigned>(rd()));
    std::string name = ".";
    name += real_.filename().string();
    name += suffix;
    temp_ = dir / name;
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      fd_ = fd_handle(fd);
      break;
    }
    if (errno != EEXIST || attempt > 100) throw_os_error("cannot create", target_, errno);
  }
  // Keep the permissions of the file being replaced.
  struct stat st {};
  if (::stat(real_.c_str(), &st) == 0 && S_ISREG(st.st_mode))
    (void)::fchmod(fd_.get(), st.st_mode & 07777);
}

atomic_file::atomic_file(atomic_file&& o) noexcept
    : target_(std::move(o.target_)), real_(std::move(o.real_)), temp_(std::move(o.temp_)),
      fd_(std::move(o.fd_)), done_(o.done_) {
  o.done_ = true;
}

atomic_file::~atomic_file() {
  if (!done_) {
    fd_ = fd_handle();
    ::unlink(temp_.c_str());
  }
}

void atomic_file::reserve(std::uint64_t bytes) {
  if (bytes == 0) return;
  if (::fallocate(fd_.get(), 0, 0, static_cast<off_t>(bytes)) != 0) {
    const int e = errno;
    if (e == ENOSPC || e == EFBIG || e == EDQUOT)
      throw_os_error("cannot reserve space", target_, e);
    // Filesystems without fallocate just write.
  }
}

void atomic_file::commit(bool sync) {
  if (sync && ::fsync(fd_.get()) != 0) throw_os_error("fsync failed", target_, errno);
  if (::close(fd_.release()) != 0) throw_os_error("close failed", target_, errno);
  if (::rename(temp_.c_str(), real_.c_str()) != 0) throw_os_error("cannot rename", target_, errno);
  done_ = true;
}

} // namespace detail
} // namespace v1
} // namespace npio
