/// \file rows.hpp
/// .npy files by rows: append rows in place (as NumPy >= 1.24's header padding
/// allows), read a slice of rows with pread and no mapping, and stream chunks of
/// rows from a .npy or an .npz member with bounded memory.
///
/// "Rows" run along the growth axis: axis 0 of a C-order file, the last axis of
/// a Fortran-order one (the axis whose elements are last in the file). load_rows
/// is the exception: it always slices axis 0, as `a[begin:end]` does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <npio/io.hpp>
#include <optional>

namespace npio {
inline namespace v1 {

/// Options of `append` and `npy_appender`.
struct append_options {
  /// fdatasync the rows before the header names them, and the header after
  /// (survives power loss, not only a crash of the process; slower).
  bool sync = false;
  std::size_t max_header_size = 10000; ///< as load_options::max_header_size
  /// npy_appender only, as a Python file object's buffer: rows are held in
  /// memory, up to this many bytes, and written (rows, then header: two
  /// writes) when the next rows would not fit, on flush() and on destruction.
  /// Until then no reader sees the held rows and a crash of the process loses
  /// them: the file loads as it was at the last write. Rows of this size or
  /// more go to the file at once. 0 writes every append() through (two writes
  /// each, 1.6-1.7x the CPU of a plain write()), so that readers see each row at once.
  std::size_t buffer_bytes = std::size_t(64) << 10;
};

/// Appends `rows` to the .npy file at `path` (used as given) along its growth
/// axis, in place. `rows` has the file's dtype and either the file's shape
/// with any length on the growth axis, or the shape of one row (one dimension
/// fewer). The rows are written first and the header last, so a crash leaves
/// a file that loads as before (rows past the old end are ignored and written
/// over by the next append). A header without room for the new length (files
/// from NumPy < 1.24 past a digit boundary, or 21-digit lengths) is rewritten
/// through a temporary file renamed into place, atomically as save(). A missing
/// file is created. An advisory flock keeps appenders apart: while one holds
/// the file (an npy_appender, in this process or another), append fails with
/// io_error instead of waiting.
/// Errors: invalid_argument (dtype or shape mismatch, a 0-d file, object arrays),
/// truncated (the file is shorter than its header says), io_error, and every
/// header error; messages name the file.
void append(const std::filesystem::path& path, const array& rows,
            const append_options& options = {});

/// Keeps a .npy file open (and flock'ed) for many appends, holding rows in a
/// buffer (append_options::buffer_bytes, 64 KiB by default) and writing them,
/// then the header, when it is full and on flush(): two writes per buffer full.
/// What others see at any moment is the file as of the last write:
/// - a crash of the process loses the held rows; the file loads as it was at
///   the last write (rows are written before the header that names them);
/// - power loss: the same only with append_options::sync (fdatasync of the rows
///   before the header, and of the header after);
/// - a concurrent reader (load, load_rows, npy_reader, NumPy) sees every row up
///   to the last write, none held back. Linux does not make a read atomic with
///   a write racing it on every filesystem (ext4 does not, XFS does), so a
///   reader that reads the header while it is being rewritten can, rarely, see
///   old and new bytes mixed: a row count between the two (rows that are all
///   written), more rows than were written (truncated), or where the count gains
///   a digit, a header that fails to parse or has its later dimensions cut
///   ((1000, 56) for (1000, 256)). Check the shape, or read again.
/// Call flush() at the points where readers must see the rows, and before
/// destruction to see write errors. Movable.
class npy_appender {
public:
  /// Opens (or creates, given `dt` and `row_shape`: the shape of one row) the file.
  /// Errors: as append; invalid_argument when the file is missing and no dtype is given.
  explicit npy_appender(const std::filesystem::path& path, const append_options& options = {},
                        std::optional<dtype> dt = std::nullopt, shape_t row_shape = {},
                        bool fortran_order = false);
  npy_appender(npy_appender&&) noexcept;
  npy_appender& operator=(npy_appender&&) noexcept;
  /// Flushes, ignoring errors (call flush() first to see them).
  ~npy_appender();
  /// Appends rows as `npio::append` does, held in the buffer while they fit
  /// (flushing it first when they do not). Errors: as append; write errors of
  /// a flush it makes (the held rows stay held).
  void append(const array& rows);
  /// Writes the held rows, then the header (fdatasync'ed with
  /// append_options::sync): from its return, readers see every row appended
  /// and a crash keeps them. Nothing to write is no write. Errors: as append.
  void flush();
  /// The header as it is now on disk.
  const npio::header& header() const noexcept;
  /// Length of the growth axis, rows held back included.
  std::int64_t rows() const noexcept;

  struct impl;

private:
  std::unique_ptr<impl> p_;
};

/// Rows [begin, end) along axis 0 of a .npy file, like `np.load(path)[begin:end]`
/// (negative indices count from the end; bounds are clipped as Python slices
/// are), read with pread into a new array: no mapping, memory the size of the
/// slice. A Fortran-order file gives a Fortran-order slice; its rows are
/// strided in the file and are read in windows of at most 1 MiB.
/// Errors: invalid_argument (0-d arrays), unsupported (object arrays),
/// limit_exceeded (the slice is larger than options.max_data_bytes), truncated,
/// io_error, and every header error; messages name the file.
array load_rows(const std::filesystem::path& path, std::int64_t begin, std::int64_t end,
                const load_options& options = {});

/// Reads a .npy file or an .npz member in chunks of rows along its growth
/// axis, holding at most one chunk (plus a 256 KiB inflate buffer) in memory:
///
///     npio::npy_reader r("big.npy");
///     while (auto chunk = r.next(4096)) use(*chunk);
///
/// Deflated members are inflated as they are read and their CRC-32 is checked
/// when the last row has been read. A 0-d array is one chunk.
class npy_reader {
public:
  /// Errors: io_error, unsupported (object arrays), and every header error.
  explicit npy_reader(const std::filesystem::path& path, const load_options& options = {});
  npy_reader(npy_reader&&) noexcept;
  npy_reader& operator=(npy_reader&&) noexcept;
  ~npy_reader();

  const npio::header& header() const noexcept;
  /// The growth axis: 0, or ndim - 1 for a Fortran-order file.
  std::size_t axis() const noexcept;
  /// Length of the growth axis (1 for 0-d arrays).
  std::int64_t rows() const noexcept;
  /// Rows read so far.
  std::int64_t position() const noexcept;
  /// The next min(n, rows left) rows as a new array (in the file's order), or
  /// nullopt at the end. Errors: invalid_argument (n < 1), limit_exceeded (the
  /// chunk is larger than max_data_bytes), truncated, zip_crc, zip_bad_archive,
  /// io_error; messages name the file (and member).
  std::optional<array> next(std::int64_t n);

  struct impl;
  explicit npy_reader(std::unique_ptr<impl> p);

private:
  std::unique_ptr<impl> p_;
};

} // namespace v1
} // namespace npio
