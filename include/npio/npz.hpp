/// \file npz.hpp
/// .npz archives: lazy reading like numpy's NpzFile, savez and savez_compressed.
#pragma once

#include <functional>
#include <initializer_list>
#include <npio/io.hpp>
#include <npio/rows.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace npio {
inline namespace v1 {

/// One member of an archive, as its central directory describes it.
struct npz_member_info {
  std::string key; ///< filename without a trailing ".npy" (what files() lists)
  /// The member's name as Python's zipfile (and so NumPy) reports it, in UTF-8:
  /// the stored bytes when the name's UTF-8 flag (general purpose bit 11) is
  /// set, else the stored bytes decoded as code page 437.
  std::string filename;
  std::uint16_t method = 0; ///< 0 stored, 8 deflate, 12 bzip2, 14 lzma
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t data_offset = 0; ///< where the member's (compressed) bytes start
};

/// An open .npz archive. Members are read on demand, CRC-checked; object
/// members follow load_options::allow_pickle. Movable, not copyable; the file
/// is closed on destruction or by close().
class npz_file {
public:
  /// Opens an archive file. Errors: io_error, zip_bad_archive, zip_duplicate, limit_exceeded.
  static npz_file open(const std::filesystem::path& path, const load_options& options = {});
  /// Opens an archive held in memory.
  static npz_file from_bytes(std::vector<std::byte> bytes, const load_options& options = {});

  npz_file(npz_file&&) noexcept;
  npz_file& operator=(npz_file&&) noexcept;
  ~npz_file();

  /// Member keys in archive order, ".npy" stripped (NpzFile.files).
  const std::vector<std::string>& files() const noexcept;
  /// Directory entries in archive order.
  const std::vector<npz_member_info>& members() const noexcept;
  /// True for "x" and "x.npy" when the archive has x.npy.
  bool contains(std::string_view key) const noexcept;
  /// Whether the member holds a .npy file (starts with the npy magic).
  bool is_npy(std::string_view key) const;
  /// Loads one .npy member (zero-copy for stored members when opened with mmap_mode r or c).
  /// Errors: zip_no_member ("x is not a file in the archive"), type_mismatch for
  /// non-.npy members, zip_crc, zip_method, zip_bomb, every .npy error.
  array at(std::string_view key) const;
  array operator[](std::string_view key) const { return at(key); }
  /// What NpzFile[key] returns: an array, a Python value (object members whose
  /// pickle is not an array), or raw bytes (non-.npy members, as a py bytes value).
  loaded load(std::string_view key) const;
  /// The member's uncompressed bytes, CRC-checked.
  std::vector<std::byte> bytes(std::string_view key) const;
  /// The .npy header of a member, decompressing only its first bytes (for
  /// listing large archives; the data and its CRC are not read).
  /// Errors: zip_no_member, type_mismatch (not a .npy member), every header error.
  header header_of(std::string_view key) const;
  /// Streams one .npy member in chunks of rows (see npy_reader), inflating
  /// deflated members as they are read: memory is one chunk plus 256 KiB. The
  /// reader shares the open file; the CRC-32 is checked after the last chunk.
  /// Errors: zip_no_member, unsupported (bzip2 and lzma members, object
  /// arrays), every header error; reading: zip_crc, zip_bad_archive, truncated.
  npy_reader reader(std::string_view key) const;
  /// Loads every .npy member (in archive order, other members skipped),
  /// decompressing members in parallel on up to `threads` threads (0: all cores).
  /// Errors: as at().
  std::vector<std::pair<std::string, array>> load_all(unsigned threads = 0) const;
  /// The archive comment (usually empty).
  const std::string& comment() const noexcept;
  /// Closes the file; later reads throw io_error.
  void close() noexcept;
  /// The path it was opened from (empty for bytes).
  const std::filesystem::path& path() const noexcept;

  struct impl;

private:
  explicit npz_file(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

/// A named array for savez.
using named_array = std::pair<std::string, array>;

/// Options of savez / savez_compressed.
struct savez_options {
  bool compress = false;    ///< deflate (savez_compressed) instead of stored
  int level = 6;            ///< deflate level 1-12 (zlib's default is 6)
  unsigned threads = 0;     ///< worker threads for compression; 0 = hardware concurrency
  bool allow_pickle = true; ///< object arrays are pickled, as np.savez does
  bool sync = false;        ///< fsync before the rename (survives power loss, slower)
  /// Write zip64 records even where sizes fit 32 bits (NumPy does so in its
  /// local headers); for tests and for readers that want them.
  bool force_zip64 = false;
  /// npz_append: replace a member of the same name instead of failing.
  bool replace = false;
  /// npz_append: write the new member and directory into the archive itself,
  /// over its old central directory (as zipfile's mode 'a' does), instead of
  /// into a copy that replaces it. Saves the copy, but is NOT crash-safe: a
  /// failure or crash midway leaves an archive without a valid directory.
  bool in_place_append = false;
  /// Called from the writing thread with (bytes done, bytes in all) as data is written.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

/// A member written exactly as given: `name` is the whole member name (no
/// ".npy" is appended) and `bytes` its contents. np.load returns such a member
/// as raw bytes (unless the bytes are themselves a .npy file).
struct raw_member {
  std::string name;
  std::vector<std::byte> bytes;
};

/// One member to write: an array (stored as NAME.npy) or raw bytes (stored as NAME).
using npz_member = std::variant<named_array, raw_member>;

/// np.savez: writes the arrays as NAME.npy members (stored), atomically; `.npz`
/// is appended when missing. Errors: io_error, invalid_argument (duplicate
/// names, names holding a NUL byte, which zipfile would cut short).
void savez(const std::filesystem::path& path, const std::vector<named_array>& arrays,
           const savez_options& options = {});
/// savez with arrays and raw-bytes members mixed, written in the order given
/// (deflated when options.compress, like the arrays). Lets an archive with
/// members that are not .npy files be written back exactly.
/// Errors: io_error, invalid_argument (two members with the same stored name,
/// e.g. array "x" and raw member "x.npy"; names holding a NUL byte).
void savez(const std::filesystem::path& path, std::span<const npz_member> members,
           const savez_options& options = {});
/// Positional arrays are named arr_0, arr_1, ... as NumPy names them.
void savez(const std::filesystem::path& path, const std::vector<array>& arrays,
           const savez_options& options = {});
/// np.savez_compressed (deflate).
void savez_compressed(const std::filesystem::path& path, const std::vector<named_array>& arrays,
                      int level = 6);
void savez_compressed(const std::filesystem::path& path, const std::vector<array>& arrays,
                      int level = 6);
/// savez_compressed with arrays and raw-bytes members mixed, in the order given.
/// Errors: as savez.
void savez_compressed(const std::filesystem::path& path, std::span<const npz_member> members,
                      int level = 6);
/// Adds (or with options.replace, replaces) one member NAME.npy without
/// re-encoding the others: the new member and a new central directory go where
/// the old directory was; a replaced member's bytes stay as dead space.
/// Atomic like savez: the archive is copied to a temporary file beside it
/// (a reflink where the filesystem can, else copy_file_range), the member is
/// appended there (fsynced when options.sync) and the copy renamed over the
/// archive, so a failure leaves the old archive as it was. With
/// options.in_place_append the archive is changed in place instead (no copy;
/// not crash-safe). Compressed when options.compress. The path is used as
/// given (no ".npz" appended).
/// Errors: io_error, zip_bad_archive, zip_duplicate, invalid_argument (name
/// exists and !replace; a NUL byte in the name).
void npz_append(const std::filesystem::path& path, const std::string& name, const array& a,
                const savez_options& options = {});
/// npz_append of a raw-bytes member, stored under exactly member.name.
/// Errors: as npz_append.
void npz_append(const std::filesystem::path& path, const raw_member& member,
                const savez_options& options = {});

/// The path np.savez writes: `.npz` appended unless already there.
std::filesystem::path npz_path(const std::filesystem::path& path);

/// Whether an archive member name is safe to create under a directory:
/// relative, no `..` or `.` parts, no empty parts, no backslashes, drive
/// letters or NUL bytes. (`npio unpack` refuses other names.)
bool safe_member_name(std::string_view name) noexcept;

} // namespace v1
} // namespace npio
