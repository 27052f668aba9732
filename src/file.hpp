// POSIX file helpers shared by load, save, memory mapping and archives:
// RAII descriptors, full reads and writes, and atomic replacement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <npio/error.hpp>
#include <optional>
#include <span>
#include <string>
#include <sys/types.h>

namespace npio {
inline namespace v1 {
namespace detail {

/// Owns a memory mapping; shared by every array viewing it.
struct file_mapping {
  void* p;
  std::size_t n;
  file_mapping(void* p_, std::size_t n_) : p(p_), n(n_) {}
  file_mapping(const file_mapping&) = delete;
  file_mapping& operator=(const file_mapping&) = delete;
  ~file_mapping();
};

/// An owned file descriptor.
class fd_handle {
public:
  fd_handle() = default;
  explicit fd_handle(int fd) : fd_(fd) {}
  fd_handle(fd_handle&& o) noexcept : fd_(o.release()) {}
  fd_handle& operator=(fd_handle&& o) noexcept;
  ~fd_handle();
  int get() const noexcept { return fd_; }
  int release() noexcept {
    const int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const noexcept { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// io_error naming the path and the OS's reason for `what`.
[[noreturn]] void throw_os_error(const std::string& what, const std::filesystem::path& path,
                                 int err);

/// Opens with open(2) flags; throws io_error.
fd_handle open_file(const std::filesystem::path& path, int flags, int mode = 0666);
/// The file's size in bytes (fstat).
std::uint64_t file_size(int fd, const std::filesystem::path& path);
/// Reads up to n bytes at the current position (fewer only at end of file).
std::size_t read_full(int fd, std::byte* dst, std::size_t n, const std::filesystem::path& path);
/// One read(2) (retried on EINTR): up to n bytes, fewer not only at end of file.
std::size_t read_some(int fd, std::byte* dst, std::size_t n, const std::filesystem::path& path);
/// Reads up to n bytes at `offset` (fewer only at end of file).
std::size_t pread_full(int fd, std::byte* dst, std::size_t n, std::uint64_t offset,
                       const std::filesystem::path& path);
/// pread_full, on several threads when n is large (tens of MiB), for fresh
/// destination memory: the bytes read without a gap from the start.
std::size_t pread_parallel(int fd, std::byte* dst, std::size_t n, std::uint64_t offset,
                           const std::filesystem::path& path);
/// Writes all n bytes; throws io_error (ENOSPC, EFBIG, ...).
void write_full(int fd, const std::byte* src, std::size_t n, const std::filesystem::path& path);

/// A new file beside `target` that replaces it on commit() and is removed
/// otherwise, so a failed write never leaves a half-written target.
class atomic_file {
public:
  explicit atomic_file(const std::filesystem::path& target);
  atomic_file(atomic_file&&) noexcept;
  ~atomic_file();
  int fd() const noexcept { return fd_.get(); }
  const std::filesystem::path& target() const noexcept { return target_; }
  /// Reserves space up front (fast path on ext4/xfs; disk-full shows here).
  void reserve(std::uint64_t bytes);
  /// Writes at the end, first dropping the replaced file's cached pages at
  /// the same offsets (a large replaced file: see file.cpp).
  void write(std::span<const std::byte> bytes);
  /// Drops the replaced file's cached pages now: for writers that write
  /// through fd() instead of write().
  void drop_old_cache();
  /// Optionally fsyncs, then renames over the target.
  void commit(bool sync = false);

private:
  std::filesystem::path target_, real_, temp_; // real_: target_ with symbolic links followed
  fd_handle fd_;
  // Drops the old file's cached pages up to `end` (in whole pieces), here.
  void drop_old_to(std::uint64_t end);

  fd_handle old_cache_;       // the large file being replaced, read-only, until commit
  std::uint64_t written_ = 0; // bytes written through write()
  std::uint64_t dropped_ = 0; // the old file's cache is dropped below this offset
  // The old file's cache is dropped up to here: its size, or the new file's
  // when smaller and known (reserve), in whole 64 KiB.
  std::uint64_t old_size_ = 0;
  struct dropper; // a helper thread dropping the old cache a piece ahead of the writes
  std::unique_ptr<dropper> dropper_;
  bool done_ = false;
  bool release_old_ = false; // the file replaced is large: free it off the caller's path
  dev_t old_dev_ = 0;
  ino_t old_ino_ = 0;
};

/// rename(from, to) with `to`'s symbolic links followed, the replaced file's
/// space freed on the release thread (npio::replace_file).
void replace_file(const std::filesystem::path& from, const std::filesystem::path& to);

/// Waits until every replaced file handed to the release thread is freed.
void wait_releases();

} // namespace detail
} // namespace v1
} // namespace npio
