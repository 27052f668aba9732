/// \file io.hpp
/// np.load, np.save and the .npy header: read and write files, streams and
/// bytes in memory, with NumPy's defaults (allow_pickle off, max_header_size 10000).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <limits>
#include <memory>
#include <npio/array.hpp>

namespace npio {
inline namespace v1 {

class npz_file;

/// mmap_mode of np.load / numpy.memmap. `none` reads into memory.
enum class mmap_mode { none, r, r_plus, w_plus, c };

/// How Python 2 `str` objects inside pickles are decoded (np.load's `encoding`).
enum class pickle_encoding { ascii, latin1, bytes };

/// A .npy format version.
struct format_version {
  std::uint8_t major = 1, minor = 0;
  friend bool operator==(format_version, format_version) = default;
};

/// Bounds on what a pickle may make the decoder do (see docs/security.md).
struct pickle_limits {
  std::size_t max_depth = 10000; ///< nesting of containers and MARKs
  /// memo entries (each costs an opcode byte, so the input size bounds it too;
  /// CPython memoizes two per dict: a 1M-dict object array needs 2M)
  std::size_t max_memo = std::size_t(1) << 26;
  std::uint64_t max_bytes = 1ull << 34; ///< bytes of values built (strings, arrays)
  std::size_t max_stack = 1u << 22;     ///< stack entries
  /// Decimal digits of int text (INT/LONG opcodes, int(str)); CPython 3.11's
  /// default sys.get_int_max_str_digits(). 0 lifts the limit (conversion is
  /// then quadratic in the length, as in CPython).
  std::size_t max_int_digits = 4300;
};

namespace pickle {
/// How to decode a pickle; the fields mean what np.load's do (see pickle.hpp).
struct options {
  /// Python 2 `str` objects: ASCII (strict, the default), latin1, or bytes.
  pickle_encoding encoding = pickle_encoding::ascii;
  /// Map Python 2 module names (`__builtin__`, `copy_reg`, ...) as CPython does
  /// (only for streams of protocol < 3, as CPython).
  bool fix_imports = true;
  /// Keep instances of classes we do not reconstruct as inert py::value objects
  /// (class name, args, state) instead of failing. Dangerous globals (os.system,
  /// builtins.eval, ...) are refused either way.
  bool allow_unknown_classes = false;
  pickle_limits limits{};
};
} // namespace pickle

/// Options of `load`, named as np.load's arguments. np.load's pickle
/// arguments (encoding, fix_imports) and npio's own (allow_unknown_classes,
/// limits) are in `pickle`, handed to the pickle decoder as they are:
/// `o.pickle.encoding = pickle_encoding::latin1` (npio 0.1 had `o.encoding`).
struct load_options {
  bool allow_pickle = false; ///< allow object arrays and raw pickles (runs no code)
  npio::mmap_mode mmap_mode = mmap_mode::none;
  /// Largest header text accepted; NumPy's default. Files you trust can lift it
  /// (NumPy lifts it with allow_pickle; so does npio, for every reader).
  std::size_t max_header_size = 10000;
  /// Largest array data (or decompressed npz member) accepted, in bytes.
  std::uint64_t max_data_bytes = std::numeric_limits<std::uint64_t>::max();
  /// How pickles (raw pickle files, object arrays) are decoded.
  npio::pickle::options pickle{};
};

/// Options of `save`.
struct save_options {
  bool allow_pickle = true; ///< np.save's default: object arrays are pickled
  /// A fixed version; without it the oldest that fits (1.0, 2.0, 3.0).
  /// Errors: invalid_argument when the header does not fit the version.
  std::optional<format_version> version;
  /// fsync the file before renaming it into place (survives power loss, slower).
  bool sync = false;
};

/// A parsed .npy header.
struct header {
  format_version version;
  npio::dtype dtype;
  shape_t shape;
  bool fortran_order = false;
  std::uint64_t data_offset = 0; ///< bytes from the start of the file to the data
  std::uint64_t data_size = 0;   ///< shape product x itemsize (objects: 0, a pickle follows)
};

/// Parses the preamble and header at the start of `bytes` (which may hold
/// only the header). Never evaluates anything; checks every number.
/// Errors: truncated, bad_magic, bad_version, header_too_large, header_syntax,
/// header_not_dict, header_keys, bad_shape, bad_fortran_order, bad_descr,
/// size_overflow, header_encoding, limit_exceeded.
header read_header(std::span<const std::byte> bytes, std::size_t max_header_size = 10000);
result<header> try_read_header(std::span<const std::byte> bytes,
                               std::size_t max_header_size = 10000) noexcept;
/// How many bytes from the start of a .npy `read_header` needs, given the
/// first bytes `head` (12 are enough to tell): the preamble and the header
/// text, or the preamble alone when the text is longer than max_header_size
/// allows (read_header then reports header_too_large from it), so that a
/// reader never allocates from the length field. Errors: none.
std::uint64_t header_bytes_needed(std::span<const std::byte> head,
                                  std::size_t max_header_size = 10000) noexcept;
/// The header of a .npy file, reading only the header's bytes (see rows.hpp
/// for reading rows). Errors: io_error, and as above; messages name the file.
header read_header(const std::filesystem::path& path, std::size_t max_header_size = 10000);

/// The magic, version, length and header text np.save writes for this dtype,
/// shape and order: byte-identical to NumPy >= 1.24, 64-byte aligned.
/// Errors: invalid_argument when `version` is given and too small.
std::string format_header(const dtype& dt, const shape_t& shape, bool fortran_order,
                          std::optional<format_version> version = std::nullopt);

/// What np.load makes of a file, from its first bytes.
enum class file_kind {
  empty,  ///< no bytes: np.load raises "No data left in file" (truncated)
  npy,    ///< starts with the .npy magic b'\x93NUMPY'
  npz,    ///< starts as a zip archive: b'PK\x03\x04', or b'PK\x05\x06' (an empty one)
  pickle, ///< starts as a pickle stream (docs/errors.md, "plausible pickle")
  other,  ///< none of these: np.load would unpickle it; npio::load reports bad_magic
};
/// How many first bytes `sniff` looks at.
inline constexpr std::size_t sniff_size = 64;
/// np.load's rule for `head`, a file's first bytes (sniff_size of them, or
/// the whole file when shorter). Errors: none.
file_kind sniff(std::span<const std::byte> head) noexcept;
/// The same for the file at `path`, reading only its first bytes.
/// Errors: io_error naming the file.
file_kind sniff(const std::filesystem::path& path);

/// What np.load returns: an array (.npy), an archive (.npz), or a Python
/// value (a raw pickle file). For a .npy file it converts to `array`
/// (`npio::array a = npio::load(p)`, or pass it where an array is wanted) and
/// has the array's reading methods, so `auto a = npio::load(p); a.at<double>(0)`
/// works; on an .npz or pickle they throw type_mismatch.
class loaded {
public:
  enum class kind { array, npz, value };
  explicit loaded(npio::array a);
  explicit loaded(std::shared_ptr<npz_file> z);
  explicit loaded(std::shared_ptr<py::value> v);
  loaded(loaded&&) noexcept;
  loaded& operator=(loaded&&) noexcept;
  ~loaded();

  kind type() const noexcept { return kind_; }
  bool is_array() const noexcept { return kind_ == kind::array; }
  bool is_npz() const noexcept { return kind_ == kind::npz; }
  bool is_value() const noexcept { return kind_ == kind::value; }
  /// The array. Errors: type_mismatch when the file was not a .npy.
  npio::array& array();
  /// The archive. Errors: type_mismatch when the file was not a .npz.
  npz_file& npz();
  /// The unpickled value. Errors: type_mismatch when the file was not a pickle.
  py::value& value();
  const npio::array& array() const { return const_cast<loaded*>(this)->array(); }
  /// The array (a view: copying it copies no data).
  operator npio::array() const { return array(); }

  // The array's reading methods (see array); errors as there, plus
  // type_mismatch when the file was not a .npy.
  const npio::dtype& dtype() const { return array().dtype(); }
  const shape_t& shape() const { return array().shape(); }
  std::size_t ndim() const { return array().ndim(); }
  std::int64_t size() const { return array().size(); }
  bool writeable() const { return array().writeable(); }
  template <class T, class... I> T at(I... idx) const { return array().template at<T>(idx...); }
  template <class T> T item() const { return array().template item<T>(); }
  template <class T> auto view() const { return array().template view<T>(); }
  template <class T, std::size_t Rank> auto mdview() const {
    return array().template mdview<T, Rank>();
  }
  template <class T> std::vector<T> to_vector(casting rule = casting::safe) const {
    return array().template to_vector<T>(rule);
  }
  npio::array astype(const npio::dtype& dt, casting rule = casting::unsafe) const {
    return array().astype(dt, rule);
  }
  npio::array operator[](std::int64_t i) const { return array()[i]; }
  npio::array field(std::string_view name) const { return array().field(name); }
  std::string repr() const { return array().repr(); }

private:
  kind kind_;
  npio::array array_;
  std::shared_ptr<npz_file> npz_;
  std::shared_ptr<py::value> value_;
};

/// np.load: a .npy (array, memory-mapped with options.mmap_mode), a .npz
/// (lazy archive), or a raw pickle (with allow_pickle).
/// Errors: every header error, truncated, pickle_disallowed, io_error, and
/// pickle and zip errors; messages name the file.
loaded load(const std::filesystem::path& path, const load_options& options = {});
/// The same from bytes in memory (copied where the result must own them).
loaded load(std::span<const std::byte> bytes, const load_options& options = {});
/// The same from a stream, read from its current position.
loaded load(std::istream& in, const load_options& options = {});
/// The .npy file at `path` as a flat std::vector<T> in C order, converted
/// from the file's dtype under `rule` (int32 and big-endian data load as
/// double: `std::vector<double> v = npio::load_as<double>(path)`).
/// Errors: as load, type_mismatch (an .npz or pickle, or a cast `rule`
/// forbids); messages name the file.
template <class T>
std::vector<T> load_as(const std::filesystem::path& path, casting rule = casting::safe,
                       const load_options& options = {}) {
  try {
    return load(path, options).array().template to_vector<T>(rule);
  } catch (const error& e) {
    if (!e.file().empty()) throw;
    throw e.with_context(path.string());
  }
}

/// Non-throwing twins for untrusted input.
result<loaded> try_load(const std::filesystem::path& path,
                        const load_options& options = {}) noexcept;
result<loaded> try_load(std::span<const std::byte> bytes,
                        const load_options& options = {}) noexcept;

/// np.save: writes `.npy` (appended when missing) atomically: a temporary file
/// in the same directory is renamed over the target only when complete. A
/// replaced file's space is freed by a background thread (see flush_releases).
/// Errors: io_error (the old file is left intact), pickle_disallowed, invalid_argument.
void save(const std::filesystem::path& path, const array& a, const save_options& options = {});
/// Writes the .npy bytes to a stream at its current position.
void save(std::ostream& out, const array& a, const save_options& options = {});
/// Returns the .npy bytes.
std::vector<std::byte> save_bytes(const array& a, const save_options& options = {});
/// The path np.save would write: `.npy` appended unless already there.
std::filesystem::path npy_path(const std::filesystem::path& path);

/// Waits until the disk space of every file replaced so far by this process
/// (save, savez, savez_compressed, npz_append, npy_writer, open_memmap w+,
/// replace_file) is released. Those writers return once the new file is in
/// place; a background thread frees each large old file (at most 4 pending:
/// a fifth writer waits). Exit does not wait: the kernel frees what is still
/// pending as the process ends, so the space is free once the process is gone.
/// Errors: none.
void flush_releases();

/// rename(2) of `from` over `to` as save renames its temporary file: a
/// symbolic link at `to` is followed (its target is replaced) and the
/// replaced file's space is freed in the background (see flush_releases).
/// Like every atomic write, it first removes temporary files that writers
/// which died left in that directory (in a large directory at most once a
/// second; docs/design.md, "Writing").
/// Errors: io_error naming `to`.
void replace_file(const std::filesystem::path& from, const std::filesystem::path& to);

/// Streams a large array to a .npy file in pieces, atomically: nothing appears
/// at the path until commit(); destroying the writer uncommitted (an exception
/// from the data source, say) removes the temporary file.
class npy_writer {
public:
  /// Errors: io_error, invalid_argument (object dtype), bad_shape (a negative dimension),
  /// size_overflow (a shape load would refuse, a zero dimension included); nothing is
  /// written then.
  npy_writer(const std::filesystem::path& path, const dtype& dt, const shape_t& shape,
             bool fortran_order = false, const save_options& options = {});
  npy_writer(npy_writer&&) noexcept;
  ~npy_writer();
  /// Appends raw element bytes in file order. Errors: io_error, out_of_range (too many bytes).
  void write(std::span<const std::byte> bytes);
  /// Checks the byte count, syncs and renames into place. Errors: io_error, truncated.
  void commit();
  std::uint64_t remaining() const noexcept;

  struct impl;

private:
  std::unique_ptr<impl> p_;
};

/// Options of `open_memmap`, named as numpy.lib.format.open_memmap's arguments.
struct memmap_options {
  /// r, r_plus and c open an existing file; w_plus creates (or replaces) one.
  npio::mmap_mode mode = mmap_mode::r_plus;
  std::optional<npio::dtype> dtype{};      ///< w_plus: the array's dtype
  std::optional<shape_t> shape{};          ///< w_plus: the array's shape
  bool fortran_order = false;              ///< w_plus: Fortran order
  std::optional<format_version> version{}; ///< w_plus: as save_options::version
  std::size_t max_header_size = 10000;     ///< as load_options::max_header_size
};

/// numpy.lib.format.open_memmap: maps a .npy file
/// (`open_memmap(p, {.mode = mmap_mode::r})`). Modes r, r_plus and c open an
/// existing file; w_plus creates (or replaces) one from dtype, shape and
/// fortran_order, and the result is writeable. The returned array keeps the
/// mapping alive, and so does every view of it.
/// Errors: as load, plus invalid_argument (object dtypes, w_plus without dtype/shape),
/// bad_shape and size_overflow (w_plus: checked as load checks, before anything is written).
array open_memmap(const std::filesystem::path& path, const memmap_options& options = {});

} // namespace v1
} // namespace npio
