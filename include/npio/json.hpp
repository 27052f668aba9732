/// \file json.hpp
/// The optional JSON component (CMake target npio::json, library npio_json,
/// the only part of npio that needs nlohmann/json): arrays, .npz archives and
/// Python values to and from the tagged JSON of shared/spec/json.md, the form
/// `npio json` prints and `npio from-json` reads (docs/cli.md).
///
/// Dtypes are walked through dtype::fields(), base() and shape(); elements
/// through npio::visit_kind. Floats print by npio::float_repr (text.hpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <npio/array.hpp>
#include <npio/dtype.hpp>
#include <npio/io.hpp>
#include <npio/npz.hpp>
#include <npio/py/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace npio {
inline namespace v1 {
namespace json {

/// A JSON tree (object keys keep their order).
using node = nlohmann::ordered_json;

/// How values without a JSON form are treated.
struct write_options {
  /// Instances of unknown classes (and datetime.timezone values, and
  /// references to classes that are not built-in types) become
  /// {"$object": ...} instead of an `unsupported` error (`npio json --inert`).
  bool inert = false;
};

/// JSON text being produced: kept in memory, or flushed to a FILE* in 1 MiB
/// chunks so that a large array never needs its whole text in memory.
class text_out {
public:
  /// `sink` null keeps everything in str().
  explicit text_out(std::FILE* sink = nullptr) : sink_(sink) {}
  void put(char c) { buf_.push_back(c); }
  void put(std::string_view s) { buf_.append(s); }
  /// Flushes to the sink once enough text has piled up. Errors: io_error.
  void maybe_flush() {
    if (sink_ && buf_.size() >= (std::size_t(1) << 20)) flush();
  }
  /// Errors: io_error (the sink refused the write).
  void flush();
  std::string& str() noexcept { return buf_; }

private:
  std::string buf_;
  std::FILE* sink_;
};

/// Integers beyond 64 bits (Python ints) are held in a tree as a binary node
/// of this subtype whose bytes are the decimal digits ('-' first when
/// negative): parse() makes them, write() prints them as bare numbers.
inline constexpr std::uint8_t big_int_subtype = 1;
/// The digits of a big-int node, or nothing when `j` is not one. Errors: none.
std::optional<std::string_view> big_int_digits(const node& j);
/// A big-int node holding `digits` (not checked). Errors: none.
node big_int(std::string_view digits);
/// A node write() prints verbatim (a number text at a precision double lacks).
inline constexpr std::uint8_t raw_text_subtype = 2;
node raw_text(std::string_view text);

/// Writes `j` as JSON text with Python's json.dumps separators (", ", ": "),
/// strings as UTF-8 (a lone surrogate as its \uXXXX escape), floats by the
/// float rule at double precision. Iterative: deep trees cannot overflow the
/// stack. Errors: invalid_argument (a string that is not UTF-8), io_error.
void write(text_out& out, const node& j);
/// write() into a string. Errors: as write.
std::string dump(const node& j);

/// Source text of the numbers of a parsed document, keyed by node address,
/// so that float16/float32/long double elements are read from their decimal
/// text rather than through a double. Only texts that differ from how their
/// double prints are kept.
using number_texts = std::unordered_map<const node*, std::string>;

/// A parsed document and the text of its numbers.
struct document {
  /// On the heap so that node addresses (the keys of `numbers`) survive moves.
  std::unique_ptr<node> root = std::make_unique<node>();
  number_texts numbers;
};
/// Parses JSON text, refusing duplicate keys; integers beyond 64 bits become
/// big-int nodes, `\uXXXX` escapes of lone surrogates are kept (as WTF-8).
/// Errors: invalid_argument ("invalid JSON: ..." with the byte offset).
document parse(std::string_view text);

/// The descr NumPy writes for `dt`, as JSON: a string, or lists for
/// structured types (padding as ["", "|Vn"]) and subarrays.
/// Errors: bad_descr (overlapping or out-of-order fields, as dtype::descr).
node dtype_to_json(const dtype& dt);
/// The dtype a descr JSON names (strings as dtype::parse takes them).
/// Errors: bad_descr, limit_exceeded (nesting deeper than max_dtype_depth).
dtype dtype_from_json(const node& j);

/// Writes the elements of `a` as nested lists in logical C order (the bare
/// element for a 0-d array), whatever the storage order.
/// Errors: invalid_argument (a code point beyond U+10FFFF), unsupported (a
/// value without a JSON form), io_error.
void write_data(text_out& out, const array& a, const write_options& options = {});
/// Writes {"dtype": D, "shape": [..], "fortran_order": F, "data": V}.
/// Errors: as write_data.
void write_npy(text_out& out, const array& a, bool fortran_order,
               const write_options& options = {});
/// Writes the document of what `load` returned: an array's .npy document
/// (its header's fortran_order given), {"members": ...} for an archive
/// (members read with `lo`; members that are not .npy files as $bytes),
/// {"pickle": VALUE} for a pickle file.
/// Errors: as load and write_data; member errors name the member.
void write_loaded(text_out& out, loaded& l, bool fortran_order, const load_options& lo,
                  const write_options& options = {});
/// Writes the document of a file as `npio json FILE` prints it (kind decided
/// as np.load decides it). Errors: as load and write_loaded, naming `path`.
void write_file(text_out& out, const std::filesystem::path& path, const load_options& lo,
                const write_options& options = {});

/// The JSON of a Python value (spec "Python values"); typed arrays and
/// scalars inside keep their element precision. Iterative.
/// Errors: unsupported (a value without a JSON form), invalid_argument.
node value_to_json(const py::value& v, const write_options& options = {});
/// The Python value a JSON value describes; `texts` (may be null) gives
/// the exact text of float numbers. Iterative.
/// Errors: invalid_argument (malformed tags; $object, never written back).
py::value value_from_json(const node& j, const number_texts* texts = nullptr);

/// An array of `dt` and `shape` from nested lists in logical C order,
/// stored in Fortran order when `fortran_order`; a subarray `dt` adds its
/// dimensions to the shape. The nesting is checked before allocation.
/// Errors: invalid_argument naming the element (data[1][0].b), bad_shape.
array array_from_json(const dtype& dt, const shape_t& shape, bool fortran_order, const node& data,
                      const number_texts* texts = nullptr);
/// A .npy document as an array; `fortran_order` receives its flag.
/// Errors: invalid_argument, bad_descr.
array npy_from_json(const node& doc, const number_texts* texts, bool& fortran_order);
/// The members of {"members": ...}'s object, in order: .npy documents as
/// NAME arrays, {"$bytes": ...} as raw members named NAME.
/// Errors: invalid_argument (naming the member), bad_descr.
std::vector<npz_member> npz_from_json(const node& members, const number_texts* texts);

/// Writes the file a document describes (.npy, .npz or pickle) exactly at
/// `out` (no suffix appended), atomically (fsynced, then renamed into place)
/// and following a symbolic link at `out` as npio::save does. Errors about the document carry no
/// file name; write errors name `out`. Errors: invalid_argument, bad_descr, io_error.
void save_document(const document& doc, const std::filesystem::path& out);

} // namespace json
} // namespace v1
} // namespace npio
