/// \file error.hpp
/// The error model: one code per hostile condition, an exception that carries
/// the file, archive member and byte offset, and `result<T>` for code that
/// must not throw. See docs/errors.md for the table of codes.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace npio {
inline namespace v1 {

/// What went wrong. The category (not the exact code for a given bad input)
/// is the contract; messages are tested verbatim.
enum class errc : int {
  ok = 0,
  // I/O and arguments
  io_error = 1,         ///< the operating system refused a read, write, map or rename
  invalid_argument = 2, ///< the caller passed something unusable
  type_mismatch = 3,    ///< typed access with a C++ type that is not the array's dtype
  out_of_range = 4,     ///< an index or key outside the array or archive
  unsupported = 5,      ///< valid for NumPy but not supported by this build
  limit_exceeded = 6,   ///< a caller-settable limit (header size, depth, memory) was hit
  // .npy
  truncated = 10,         ///< the file ends before what its header declares
  bad_magic = 11,         ///< not "\x93NUMPY"
  bad_version = 12,       ///< a format version other than 1.0, 2.0, 3.0
  header_too_large = 13,  ///< header longer than max_header_size
  header_syntax = 14,     ///< header is not a valid Python literal
  header_not_dict = 15,   ///< header literal is not a dict
  header_keys = 16,       ///< keys are not exactly descr, fortran_order, shape
  bad_shape = 17,         ///< shape is not a tuple of non-negative ints
  bad_fortran_order = 18, ///< fortran_order is not a bool
  bad_descr = 19,         ///< descr is not a dtype NumPy would accept
  size_overflow = 20,     ///< shape x itemsize does not fit in 64 bits
  header_encoding = 21,   ///< v3 header is not valid UTF-8, or v1/v2 text not latin1
  misaligned = 22,        ///< a zero-copy view was asked of misaligned or swapped data
  pickle_disallowed = 23, ///< object data and allow_pickle is false
  not_writeable = 24,     ///< a write to a read-only array or mapping
  // pickles (issue: object arrays)
  pickle_truncated = 40,   ///< the pickle stream ends early
  pickle_bad_opcode = 41,  ///< an opcode that does not exist
  pickle_stack = 42,       ///< stack underflow, missing MARK, wrong operand type
  pickle_memo = 43,        ///< a memo key that was never stored
  pickle_global = 44,      ///< a global that is not on the allowlist
  pickle_unsupported = 45, ///< persistent ids, extension codes, out-of-band buffers
  pickle_invalid = 46,     ///< a reconstructor got arguments it cannot use
  pickle_encoding = 47,    ///< a Python 2 str that the chosen encoding cannot decode
  // zip and npz (issue: npz)
  zip_bad_archive = 60, ///< no end record, directory out of bounds, inconsistent headers
  zip_crc = 61,         ///< CRC-32 mismatch
  zip_method = 62,      ///< a compression method we do not read
  zip_bomb = 63,        ///< inflation exceeds the declared size or the caller's limit
  zip_bad_name = 64,    ///< absolute, `..`, or otherwise unsafe member name
  zip_duplicate = 65,   ///< two entries with the same name, or overlapping entries
  zip_no_member = 66,   ///< the archive has no member of that name
};

/// The std::error_category of errc ("npio").
const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}
/// A short stable name for a code: "truncated", "bad_magic", ...
const char* errc_name(errc e) noexcept;

/// The exception every throwing npio call raises for bad input or I/O.
/// `what()` is "FILE: MEMBER: DETAIL (at byte N)", leaving out what is unknown.
/// `s` made safe to print on a terminal: control characters (C0, DEL, C1)
/// become `\n`, `\r`, `\t` or `\xNN`, and bytes that are not valid UTF-8
/// (including encoded lone surrogates) become `\xNN`; valid UTF-8 text passes
/// unchanged. Idempotent (a backslash is left as is). With `keep_newline`,
/// '\n' passes too. npio::error applies it to every message part.
/// Errors: none.
std::string escape_text(std::string_view s, bool keep_newline = false);

class error : public std::runtime_error {
public:
  error(errc code, std::string detail, std::string file = {}, std::string member = {},
        std::optional<std::uint64_t> offset = std::nullopt);

  errc code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& file() const noexcept { return file_; }
  const std::string& member() const noexcept { return member_; }
  std::optional<std::uint64_t> offset() const noexcept { return offset_; }

  /// The same error with the file (and member) filled in where they were empty.
  error with_context(const std::string& file, const std::string& member = {}) const;

private:
  errc code_;
  std::string detail_, file_, member_;
  std::optional<std::uint64_t> offset_;
};

/// A value or an error, shaped like std::expected. `value()` throws the error.
template <class T> class [[nodiscard]] result {
public:
  result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  result(npio::error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return check(), std::get<0>(v_); }
  const T& value() const& { return check(), std::get<0>(v_); }
  T&& value() && { return check(), std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const npio::error& error() const { return std::get<1>(v_); }
  errc code() const noexcept { return has_value() ? errc::ok : std::get<1>(v_).code(); }

private:
  void check() const {
    if (!has_value()) throw std::get<1>(v_);
  }
  std::variant<T, npio::error> v_;
};

template <> class [[nodiscard]] result<void> {
public:
  result() = default;
  result(npio::error e) : e_(std::move(e)) {}
  bool has_value() const noexcept { return !e_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (e_) throw *e_;
  }
  const npio::error& error() const { return *e_; }
  errc code() const noexcept { return e_ ? e_->code() : errc::ok; }

private:
  std::optional<npio::error> e_;
};

/// Runs `f` and turns any npio::error (or std::bad_alloc) into a result.
template <class F> auto capture(F&& f) noexcept -> result<std::invoke_result_t<F>> {
  using T = std::invoke_result_t<F>;
  try {
    if constexpr (std::is_void_v<T>) {
      f();
      return {};
    } else {
      return result<T>(f());
    }
  } catch (const error& e) {
    return e;
  } catch (const std::bad_alloc&) {
    return error(errc::limit_exceeded, "out of memory");
  } catch (const std::exception& e) {
    return error(errc::invalid_argument, e.what());
  }
}

} // namespace v1
} // namespace npio

template <> struct std::is_error_code_enum<npio::errc> : std::true_type {};
