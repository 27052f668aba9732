// Private pieces shared by append, load_rows and npy_reader (src/npy_rows.cpp,
// src/npy_reader.cpp) and the npz member stream (src/zip_stream.cpp).
#pragma once

#include "zip.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <npio/rows.hpp>
#include <string>

namespace npio {
inline namespace v1 {
namespace detail {

/// The header at the start of an open file, reading 4 KiB and then, when the
/// header is longer, exactly what max_header_size allows.
/// Errors: as read_header(bytes), io_error (no file name: the caller adds it).
header read_header_fd(int fd, const std::filesystem::path& path, std::size_t max_header_size);

/// Sequential bytes: a file from an offset, or an archive member.
class byte_stream {
public:
  virtual ~byte_stream() = default;
  /// Reads up to n bytes; fewer only at the end.
  virtual std::size_t read(std::byte* dst, std::size_t n) = 0;
  /// At most how many bytes read() can still give (a file's size now, a
  /// member's declared size), checked before a chunk is allocated so that a
  /// header's sizes are never trusted before the bytes are there.
  virtual std::uint64_t left() = 0;
  /// Called once every byte was read: checks what can only be checked at the end (CRC).
  virtual void finish() {}
};

/// A stored or deflated member, read in order, CRC-checked by finish().
/// Call zip::check_member first. Errors: unsupported (bzip2, lzma), and on
/// reading: zip_bad_archive, zip_crc, truncated, io_error.
std::unique_ptr<byte_stream> open_member_stream(std::shared_ptr<const zip::source> src,
                                                const zip::entry& e);

/// Builds the npy_reader of a member stream (src/npy_reader.cpp); `file` and
/// `member` label messages.
npy_reader make_npy_reader(std::unique_ptr<byte_stream> s, const load_options& options,
                           std::string file, std::string member);

} // namespace detail
} // namespace v1
} // namespace npio
