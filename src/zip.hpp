// The zip container under .npz (src/zip_read.cpp, src/zip_write.cpp).
// Private: the public face is include/npio/npz.hpp. Layout facts from PKWARE's
// APPNOTE.TXT (sections 4.3 and 4.5) and CPython's zipfile; see docs/npz.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <npio/error.hpp>
#include <span>
#include <string>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail::zip {

inline constexpr std::uint16_t method_stored = 0;
inline constexpr std::uint16_t method_deflate = 8;
inline constexpr std::uint16_t method_bzip2 = 12;
inline constexpr std::uint16_t method_lzma = 14;

// Values at or above this in a 32-bit field mean "see the zip64 extra field".
inline constexpr std::uint64_t zip64_marker32 = 0xFFFFFFFFu;
// Header ids of extra fields (APPNOTE 4.5.2; 0xD935 is Android's zipalign padding).
inline constexpr std::uint16_t extra_zip64 = 0x0001;
inline constexpr std::uint16_t extra_align = 0xD935;
// npio's own extra field: the member's deflate stream is a series of
// independently compressed chunks (see docs/npz.md). Other readers skip it.
inline constexpr std::uint16_t extra_chunks = 0x6E70; // "pn" little-endian: "np"
// Deflate cannot expand more than 1032:1 (a 258-byte match in under 2 bits).
inline constexpr std::uint64_t deflate_max_ratio = 1032;

/// One central directory entry, with offsets made absolute in the source.
struct entry {
  std::string name;
  std::uint16_t version_made = 0, version_needed = 0, flags = 0, method = 0;
  std::uint16_t mtime = 0, mdate = 0;
  std::uint32_t crc = 0, external_attr = 0;
  std::uint64_t csize = 0, usize = 0;
  std::uint64_t local_offset = 0; // local header, absolute
  std::uint64_t data_offset = 0;  // first byte of (compressed) data, absolute
  // npio chunk table (extra_chunks): every chunk but the last inflates to
  // chunk_usize bytes; chunk_csizes[i] compressed bytes each.
  std::uint64_t chunk_usize = 0;
  std::vector<std::uint32_t> chunk_csizes;
};

/// Random access to the archive's bytes: a file (pread) or memory.
class source {
public:
  virtual ~source() = default;
  virtual std::uint64_t size() const noexcept = 0;
  /// Reads exactly out.size() bytes at `offset`. Errors: truncated, io_error.
  virtual void read(std::uint64_t offset, std::span<std::byte> out) const = 0;
  /// The whole archive when it is in memory, else null.
  virtual const std::byte* memory() const noexcept { return nullptr; }
  /// The file descriptor when it is a file, else -1.
  virtual int fd() const noexcept { return -1; }
  /// Label for messages (the path, or empty).
  virtual const std::string& label() const noexcept = 0;
  /// Closes the file; later reads throw io_error.
  virtual void close() noexcept {}
};

std::shared_ptr<source> open_file(const std::filesystem::path& path);
/// The same over `fd`, already open for reading (owned from now on, closed on error).
std::shared_ptr<source> open_fd(int fd, const std::filesystem::path& path);
std::shared_ptr<source> from_memory(std::vector<std::byte> bytes, std::string label = {});

/// What the central directory says.
struct directory {
  std::vector<entry> entries;
  std::string comment;
  std::uint64_t cd_offset = 0; // absolute
  std::uint64_t cd_size = 0;
  std::uint64_t end_offset = 0; // where the end records start (absolute)
  std::uint64_t prefix = 0;     // bytes prepended before the archive (self-extractors)
};

/// Parses the end records and the central directory and checks every local
/// header: bounds, names, overlaps, duplicates.
/// Errors: zip_bad_archive, zip_duplicate, truncated, io_error.
directory read_directory(const source& src);

/// Checks that a member may be inflated into `usize` bytes given its method
/// and `max_bytes`. Errors: zip_bomb, zip_method, unsupported (encrypted).
void check_member(const source& src, const entry& e, std::uint64_t max_bytes);

/// Gives memory for `n` bytes of member data (exactly n bytes).
using allocator = std::function<std::span<std::byte>(std::size_t n)>;

/// Decompresses a member into memory from `alloc` (called once, with e.usize,
/// only when the size is plausible: at once for stored and deflate, after
/// decoding for bzip2 and lzma) and verifies its CRC-32. Chunked deflate
/// members and large stored members use `threads`. Call check_member first.
/// Errors: zip_crc, zip_bad_archive (bad compressed data), zip_bomb,
/// zip_method, truncated, io_error.
std::span<std::byte> read_member(const source& src, const entry& e, const allocator& alloc,
                                 unsigned threads = 0);

/// The first min(n, e.usize) uncompressed bytes of a member, decompressing
/// only what is needed (no CRC check: the rest is not read). Call check_member first.
/// Errors: zip_bad_archive, zip_method, truncated, io_error.
std::vector<std::byte> read_prefix(const source& src, const entry& e, std::size_t n);

/// Whether a name is safe to create under a directory: relative, no `..`,
/// no drive letters or backslashes, no empty components, no NUL.
bool safe_name(std::string_view name) noexcept;

/// CRC-32 of `b` continuing from `crc` (libdeflate's; an empty span leaves it as is,
/// where libdeflate would return 0 for a null pointer).
std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> b) noexcept;

// ---- writing ---------------------------------------------------------------

/// One member to write: `head` (small, e.g. an .npy header) then `body`.
struct member_source {
  std::string name;
  std::string head;
  std::span<const std::byte> body;
  std::shared_ptr<const void> keep; // keeps `body` alive
};

struct write_options {
  bool compress = false;
  int level = 6;
  unsigned threads = 0;
  bool force_zip64 = false;
  std::size_t chunk_bytes = 0; // 0: choose
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

/// Appends members to an archive being written to `fd` (a seekable file),
/// starting at `offset`, keeping `existing` entries in the directory.
class writer {
public:
  writer(int fd, std::string label, std::uint64_t offset = 0, std::vector<entry> existing = {});
  /// Writes the members in order, compressing chunks in parallel.
  /// Errors: io_error, invalid_argument (name too long).
  void add(const std::vector<member_source>& members, const write_options& options);
  /// Writes the central directory and end records. Errors: io_error.
  void finish(const write_options& options);
  const std::vector<entry>& entries() const noexcept { return entries_; }
  /// Where the next byte goes (after finish(): the archive's size).
  std::uint64_t position() const noexcept { return pos_; }

private:
  void write_at(std::uint64_t offset, std::span<const std::byte> bytes);
  int fd_;
  std::string label_;
  std::uint64_t pos_;
  std::vector<entry> entries_;
};

} // namespace detail::zip
} // namespace v1
} // namespace npio
