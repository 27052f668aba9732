// The .npy layer's reading side, for np.load's dispatcher (src/load.cpp) and
// archives (src/npz.cpp): byte sources over a file, memory or a stream, and
// an array's raw data read after its header. Knows nothing of pickles or zips.
#pragma once

#include "file.hpp"
#include "npy_framing.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <istream>
#include <npio/io.hpp>
#include <optional>
#include <span>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

// Sequential input with an optionally known remaining length.
class source {
public:
  virtual ~source() = default;
  // Reads up to n bytes; fewer only at the end.
  virtual std::size_t read(std::byte* dst, std::size_t n) = 0;
  virtual std::optional<std::uint64_t> remaining() const = 0;
  // The bytes left, when they are already in memory (not consumed).
  virtual std::optional<std::span<const std::byte>> rest_in_memory() const { return std::nullopt; }
  // Everything left, bounded by `limit` (checked as it grows).
  std::vector<std::byte> read_rest(std::uint64_t limit) {
    std::vector<std::byte> out;
    if (auto r = remaining()) {
      if (*r > limit) throw error(errc::limit_exceeded, "file is larger than max_data_bytes");
      out.resize(static_cast<std::size_t>(*r));
      out.resize(read(out.data(), out.size()));
      return out;
    }
    std::size_t step = 1 << 16;
    for (;;) {
      const std::size_t at = out.size();
      if (at + step > limit) step = static_cast<std::size_t>(limit - at) + 1;
      out.resize(at + step);
      const std::size_t got = read(out.data() + at, step);
      out.resize(at + got);
      if (out.size() > limit)
        throw error(errc::limit_exceeded, "input is larger than max_data_bytes");
      if (got < step) return out;
      step = std::min<std::size_t>(step * 2, std::size_t(1) << 28);
    }
  }
};

// A file read through one 4 KiB buffer: the first read brings the preamble,
// the header and (for small files) all the data; bulk data then goes
// straight to its destination. The first fill is one pread at offset 0: a
// pread that comes back short has met the end of the file (files that can
// seek, as the kernel reads regular files and block devices), so a small .npy
// costs open, pread and close, and a map of it open, pread, mmap and close,
// without fstat. A file larger than the buffer asks fstat for its size, once
// (shared with a map). A pipe or FIFO cannot pread (ESPIPE): it is read with
// read() as a stream, to its end.
class fd_source final : public source {
public:
  int fd() const noexcept { return fd_.get(); }
  /// The descriptor, for a layer that reads the file by offset from now on.
  fd_handle take_fd() noexcept { return std::move(fd_); }
  const std::filesystem::path& path() const noexcept { return path_; }
  fd_source(detail::fd_handle fd, const std::filesystem::path& p) : fd_(std::move(fd)), path_(p) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    std::size_t got = 0;
    if (!filled_) {
      filled_ = true;
      if (n < buf_.size()) fill_first();
    }
    if (at_ < end_) {
      got = std::min(n, end_ - at_);
      std::memcpy(dst, buf_.data() + at_, got);
      at_ += got;
    }
    if (got < n && (!sized() || *left_ > 0)) {
      const std::size_t more = read_on(dst + got, n - got);
      if (left_) *left_ -= std::min<std::uint64_t>(*left_, more);
      consumed_ += more;
      got += more;
    }
    return got;
  }
  std::optional<std::uint64_t> remaining() const override {
    if (!sized()) return std::nullopt;
    return *left_ + (end_ - at_);
  }
  /// The file's size (one fstat at most, shared with remaining()), for a map of it.
  std::uint64_t size() const {
    return sized() ? *left_ + end_ + consumed_ : detail::file_size(fd_.get(), path_);
  }

private:
  void fill_first() {
    for (;;) {
      const ssize_t r = ::pread(fd_.get(), buf_.data(), buf_.size(), 0);
      if (r >= 0) {
        end_ = static_cast<std::size_t>(r);
        by_offset_ = true;
        if (end_ < buf_.size()) { // the whole file
          left_ = 0;
          stat_done_ = true;
        }
        return;
      }
      if (errno == ESPIPE) break;
      if (errno != EINTR) detail::throw_os_error("read failed", path_, errno);
    }
    end_ = detail::read_some(fd_.get(), buf_.data(), buf_.size(), path_);
  }

  // Reads past the buffer: by offset once the first fill was a pread or the
  // file is known to be regular (pread_parallel puts a large read of a
  // regular file on several threads), else at the file position (a stream).
  std::size_t read_on(std::byte* dst, std::size_t n) {
    if (left_) by_offset_ = true;
    if (!by_offset_) return detail::read_full(fd_.get(), dst, n, path_);
    const std::uint64_t at = end_ + consumed_;
    return left_ ? detail::pread_parallel(fd_.get(), dst, n, at, path_)
                 : detail::pread_full(fd_.get(), dst, n, at, path_);
  }

  // Whether the file has a size (a regular file); sets the bytes in the file
  // not yet read from it. Asked before any read past the buffer.
  bool sized() const {
    if (!stat_done_) {
      stat_done_ = true;
      struct stat st {};
      if (::fstat(fd_.get(), &st) != 0) detail::throw_os_error("cannot stat", path_, errno);
      if (S_ISREG(st.st_mode)) {
        const auto size = static_cast<std::uint64_t>(st.st_size);
        left_ = size > end_ ? size - end_ : 0;
      }
    }
    return left_.has_value();
  }

  detail::fd_handle fd_;
  const std::filesystem::path& path_;
  mutable std::optional<std::uint64_t> left_; // bytes not yet read from a regular file
  mutable bool stat_done_ = false;
  std::array<std::byte, 4096> buf_;
  std::size_t at_ = 0, end_ = 0;
  std::uint64_t consumed_ = 0; // read past the buffer
  bool filled_ = false;
  bool by_offset_ = false; // read on by offset (the file position is not kept)
};

class span_source final : public source {
public:
  explicit span_source(std::span<const std::byte> b) : b_(b) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    n = std::min(n, b_.size() - at_);
    if (n) std::memcpy(dst, b_.data() + at_, n);
    at_ += n;
    return n;
  }
  std::optional<std::uint64_t> remaining() const override { return b_.size() - at_; }
  std::optional<std::span<const std::byte>> rest_in_memory() const override {
    return b_.subspan(at_);
  }

private:
  std::span<const std::byte> b_;
  std::size_t at_ = 0;
};

class stream_source final : public source {
public:
  explicit stream_source(std::istream& in) : in_(in) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    in_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (in_.bad()) throw error(errc::io_error, "stream read failed");
    return static_cast<std::size_t>(in_.gcount());
  }
  std::optional<std::uint64_t> remaining() const override { return std::nullopt; }

private:
  std::istream& in_;
};

// Reads the header through `src`; `prefix` holds the bytes already read and
// afterwards the header and maybe a few bytes past it (header::data_offset).
inline header read_header_from(source& src, std::vector<std::byte>& prefix,
                               std::size_t max_header) {
  return read_header_stream([&](std::byte* dst, std::size_t n) { return src.read(dst, n); }, prefix,
                            max_header);
}

/// The .npy file open as `fd`, with header `h`, mapped with mode r, r+ or c
/// (src/mmap_posix.cpp). Errors: invalid_argument (objects), truncated, io_error.
array map_npy(int fd, const std::filesystem::path& path, const header& h, std::uint64_t size,
              mmap_mode mode);

/// The array data for header `h` (no objects); `extra` holds bytes already
/// read past the header. Errors: limit_exceeded (max_data_bytes), truncated.
array read_data(source& src, const header& h, std::span<const std::byte> extra,
                const load_options& o);

} // namespace detail
} // namespace v1
} // namespace npio
