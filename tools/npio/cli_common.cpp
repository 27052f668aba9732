// Shared pieces of the npio subcommands. See cli_common.hpp.
#include "cli_common.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <iostream>
#include <limits>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace npio_cli {

namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// nlohmann and CLI11 messages start with a bracketed tag; keep the sentence.
std::string strip_tag(std::string s) {
  if (s.starts_with("[json.exception")) {
    if (const auto pos = s.find("] "); pos != std::string::npos) s.erase(0, pos + 2);
  }
  return s;
}

[[noreturn]] void io_fail(const std::string& what, const std::filesystem::path& path) {
  throw npio::error(npio::errc::io_error, what + ": " + std::strerror(errno), path.string());
}

} // namespace

std::string describe_current_exception(const std::string& file) {
  const std::string prefix = file.empty() ? std::string() : file + ": ";
  try {
    throw;
  } catch (const npio::error& e) {
    if (e.file().empty() && !file.empty()) return one_line(e.with_context(file).what());
    return one_line(e.what());
  } catch (const std::bad_alloc&) {
    return one_line(prefix + "out of memory");
  } catch (const std::exception& e) {
    return one_line(prefix + strip_tag(e.what()));
  } catch (...) {
    return one_line(prefix + "unknown error");
  }
}

void run_command(const std::string& file, const std::function<void()>& work) {
  try {
    work();
  } catch (...) {
    const std::string msg = describe_current_exception(file);
    std::fflush(stdout);
    std::fprintf(stderr, "npio: %s\n", msg.c_str());
    throw CLI::RuntimeError(1);
  }
}

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) io_fail("cannot open", path);
  std::vector<std::byte> out;
  std::byte buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    out.insert(out.end(), buf, buf + n);
    if (n < sizeof buf) break;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) io_fail("cannot read", path);
  return out;
}

std::vector<std::byte> read_range(const std::filesystem::path& path, std::uint64_t offset,
                                  std::size_t n, std::uint64_t& file_size) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) io_fail("cannot open", path);
  struct stat st {};
  if (::fstat(::fileno(f), &st) != 0) {
    std::fclose(f);
    io_fail("cannot stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    std::fclose(f);
    errno = EISDIR;
    io_fail("cannot read", path);
  }
  file_size = static_cast<std::uint64_t>(st.st_size);
  // Never allocate more than the bytes the file really has.
  const std::uint64_t present = file_size > offset ? file_size - offset : 0;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n, present));
  std::vector<std::byte> out(want);
  std::size_t got = 0;
  if (want) {
    if (::fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0) {
      std::fclose(f);
      io_fail("cannot read", path);
    }
    got = std::fread(out.data(), 1, want, f);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) io_fail("cannot read", path);
  out.resize(got);
  return out;
}

std::vector<std::byte> read_prefix(const std::filesystem::path& path, std::size_t n,
                                   std::uint64_t& file_size) {
  return read_range(path, 0, n, file_size);
}

bool has_npy_magic(std::span<const std::byte> b) noexcept {
  return npio::sniff(b) == npio::file_kind::npy;
}

bool has_zip_magic(std::span<const std::byte> b) noexcept {
  return npio::sniff(b) == npio::file_kind::npz;
}

npio::header read_npy_header_at(const std::filesystem::path& path, std::uint64_t offset,
                                std::uint64_t length, std::size_t max_header_size) {
  std::uint64_t file_size = 0;
  const auto cap = [&](std::uint64_t n) {
    return static_cast<std::size_t>(std::min<std::uint64_t>({n, length, SIZE_MAX}));
  };
  auto pre = read_range(path, offset, cap(12), file_size);
  const std::uint64_t need = npio::header_bytes_needed(pre, max_header_size);
  // read_range caps the read at the bytes the file really has.
  if (need > pre.size()) pre = read_range(path, offset, cap(need), file_size);
  try {
    return npio::read_header(pre, max_header_size);
  } catch (const npio::error& e) {
    throw e.with_context(path.string());
  }
}

npio::header read_npy_header(const std::filesystem::path& path, std::size_t max_header_size,
                             std::uint64_t& file_size) {
  auto h = read_npy_header_at(path, 0, std::numeric_limits<std::uint64_t>::max(), max_header_size);
  (void)read_range(path, 0, 0, file_size);
  return h;
}

namespace {

// As np.save (and npio::save): a symbolic link at the output is followed, so
// the file it names is replaced and the link stays.
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

std::filesystem::path sibling_temp_path(const std::filesystem::path& target,
                                        const std::string& suffix) {
  static std::atomic<unsigned> counter{0};
  // Beside the file a symbolic link names: renamed over it later.
  std::filesystem::path dir = follow_links(target).parent_path();
  if (dir.empty()) dir = ".";
  return dir / ("." + target.filename().string() + ".npio-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter++) + suffix);
}

atomic_file::atomic_file(std::filesystem::path target) : target_(std::move(target)) {
  const std::filesystem::path real = follow_links(target_);
  std::filesystem::path dir = real.parent_path();
  if (dir.empty()) dir = ".";
  // The library's temporary-file convention (docs/design.md, "Writing"):
  // `.NAME.npio-tmp.` + 16 hex digits, flock'ed while being written, so the
  // next save to this directory removes it if this process dies.
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0;; ++attempt) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%08x%08x", static_cast<unsigned>(::getpid()),
                  counter++ * 2654435761u ^ static_cast<unsigned>(std::time(nullptr)));
    temp_ = dir / ("." + real.filename().string() + ".npio-tmp." + hex);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      const int e = errno;
      temp_.clear();
      if (e == EEXIST && attempt < 100) continue;
      errno = e;
      io_fail("cannot create a temporary file in its directory", target_);
    }
    struct stat st {};
    if ((::flock(fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) ||
        (::fstat(fd_, &st) == 0 && st.st_nlink == 0)) {
      // A cleaner took it first (and may have removed it): another name.
      ::close(fd_);
      fd_ = -1;
      temp_.clear();
      if (attempt < 100) continue;
      io_fail("cannot create a temporary file in its directory", target_);
    }
    break;
  }
  // Permissions as a plain open(O_CREAT, 0666) would give, like np.save.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd_, 0666 & ~mask) != 0) io_fail("cannot set permissions", target_);
}

atomic_file::~atomic_file() {
  if (!temp_.empty()) ::unlink(temp_.c_str()); // while still locked
  if (fd_ >= 0) ::close(fd_);
}

void atomic_file::write(std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ::ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_fail("cannot write", target_);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void atomic_file::commit() {
  if (::fsync(fd_) != 0) io_fail("cannot write", target_);
  // A duplicate keeps the lock across the rename; close() comes first, as it
  // reports write-back errors on network filesystems.
  const int lock = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int e = errno;
    if (lock >= 0) ::close(lock);
    errno = e;
    io_fail("cannot write", target_);
  }
  try {
    npio::replace_file(temp_, target_); // frees a replaced file in the background
  } catch (...) {
    if (lock >= 0) ::close(lock);
    throw;
  }
  temp_.clear();
  if (lock >= 0) ::close(lock);
}

} // namespace npio_cli
