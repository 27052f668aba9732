// Typed arrays <-> the tagged JSON of shared spec/json.md: dtypes as descr
// JSON, elements of every non-object kind, floats as the shortest decimal at
// their own precision. Object elements go through json_value.hpp.
#pragma once

#include "json_value.hpp"

#include <cstdio>
#include <memory>
#include <npio/npio.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace npio_cli {

/// JSON text being produced: kept in memory, or flushed to a FILE* in chunks
/// so that a large array never needs its whole text in memory.
class text_out {
public:
  /// `sink` null keeps everything in str().
  explicit text_out(std::FILE* sink = nullptr) : sink_(sink) {}
  void put(char c) { buf_.push_back(c); }
  void put(std::string_view s) { buf_.append(s); }
  /// Flushes to the sink once enough text has piled up.
  /// Errors: io_error when the sink refuses the write.
  void maybe_flush() {
    if (sink_ && buf_.size() >= (std::size_t(1) << 20)) flush();
  }
  /// Errors: io_error.
  void flush();
  std::string& str() noexcept { return buf_; }

private:
  std::string buf_;
  std::FILE* sink_;
};

/// Integers that fit neither int64 nor uint64 (Python ints) are held in a
/// json tree as a binary node of this subtype whose bytes are the decimal
/// digits (with a leading '-' when negative): parse_json makes them,
/// write_json prints them as bare numbers.
inline constexpr std::uint8_t big_int_subtype = 1;
/// The digits of a big-int node (subtype 1, or no subtype, and only an
/// optional '-' and decimal digits), or nothing when `j` is not one.
std::optional<std::string_view> big_int_digits(const json& j);
/// A big-int node holding `digits` (not checked).
json big_int_json(std::string_view digits);
/// A node that write_json prints as the given JSON text, verbatim: a float
/// printed at a precision double lacks (long double), from format_float.
inline constexpr std::uint8_t raw_text_subtype = 2;
json raw_text_json(std::string_view text);

/// The text of a JSON number or {"$float": ...} tag for a float, per the spec:
/// the shortest decimal that reads back to the same value at the type's own
/// precision, formatted as Python's repr(float) (always a '.' or an 'e').
std::string format_float(float v);
std::string format_float(double v);
std::string format_float(long double v);
/// The same for an IEEE half given by its bits.
std::string format_half(std::uint16_t bits);

/// The IEEE half nearest to `v` (ties to even), as bits.
std::uint16_t double_to_half(double v) noexcept;
/// The exact value of a half.
double half_to_double(std::uint16_t bits) noexcept;

/// Standard base64 with '=' padding.
std::string base64_encode(std::span<const std::byte> bytes);
/// Strict inverse of base64_encode. Errors: invalid_argument.
std::vector<std::byte> base64_decode(std::string_view text);

/// Writes `j` as JSON text: floats by the float rule at double precision,
/// big-int nodes as bare integers,
/// strings as UTF-8 (checked), separators ", " and ": " as Python's json.dumps.
/// Iterative, so deep values cannot overflow the stack.
/// Errors: invalid_argument (a string that is not UTF-8).
void write_json(text_out& out, const json& j);
std::string dump_json(const json& j);

/// The descr NumPy writes for `dt`, as JSON (a string, or lists for structured
/// types and subarrays). Errors: npio::error from the dtype layer.
json dtype_to_json(const npio::dtype& dt);
/// The dtype a descr JSON names (also accepts other spellings np.dtype takes,
/// such as "float64"). Errors: bad_descr, invalid_argument.
npio::dtype dtype_from_json(const json& j);

/// Writes the elements of `a` as nested lists in logical C order (the bare
/// element for a 0-d array), whatever the storage order.
/// Errors: unsupported (a float size this machine cannot represent), and
/// whatever object_element_to_json throws for 'O' elements.
void write_array_data(text_out& out, const npio::array& a);
/// Writes {"dtype": D, "shape": [..], "fortran_order": F, "data": V}.
void write_npy_document(text_out& out, const npio::array& a, bool fortran_order);
/// The data of `a` as a JSON value (floats held as doubles read from their
/// shortest text, so float16/float32 print back identically; long double
/// values lose precision beyond double). For embedding arrays in Python values.
json array_data_to_json(const npio::array& a);

/// The source text of numbers in a parsed document, keyed by node address, so
/// that long double, float32 and float16 values are read from their decimal
/// text rather than from a double. Only texts that differ from how their
/// double prints (format_float) are kept; the others are recovered from it.
using number_texts = std::unordered_map<const json*, std::string>;

/// A parsed JSON document and the text of each of its numbers.
struct parsed_json {
  /// On the heap so that node addresses (the keys of `numbers`) survive moves.
  std::unique_ptr<json> root = std::make_unique<json>();
  number_texts numbers;
};
/// Parses JSON text, refusing duplicate object keys. Integers beyond 64 bits
/// become big-int nodes (exact), not doubles.
/// Errors: invalid_argument ("invalid JSON: ..." with the byte offset).
parsed_json parse_json(std::string_view text);

/// Builds an array of `dt` and `shape` from `data` (nested lists in logical
/// C order), stored in Fortran order when `fortran_order`. `texts` may be null.
/// Errors: invalid_argument naming the element (data[1][2]) that does not fit.
npio::array array_from_json(const npio::dtype& dt, const npio::shape_t& shape, bool fortran_order,
                            const json& data, const number_texts* texts);

/// A .npy document ({"dtype", "shape", "fortran_order", "data"}) as an array;
/// `fortran_order` receives the document's flag.
/// Errors: invalid_argument, bad_descr.
npio::array npy_document_from_json(const json& doc, const number_texts* texts, bool& fortran_order);

} // namespace npio_cli
