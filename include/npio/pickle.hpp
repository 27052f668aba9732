/// \file pickle.hpp
/// Python pickles without Python: a decoder that runs nothing (protocols 0-5,
/// an allowlist of reconstructors for NumPy arrays, dtypes, scalars and the
/// built-in types), an encoder whose output NumPy 1.x and 2.x load, and a
/// scanner that lists the globals a pickle references.
#pragma once

#include <cstddef>
#include <npio/io.hpp>
#include <npio/py/value.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace npio {
inline namespace v1 {
namespace pickle {

/// How to decode a pickle; the fields mean what np.load's do.
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

/// Decodes one pickle from the start of `bytes` (bytes after STOP are ignored).
/// Nothing from the stream is executed: globals are looked up in an allowlist.
/// Errors: pickle_truncated, pickle_bad_opcode, pickle_stack, pickle_memo,
/// pickle_global, pickle_unsupported, pickle_invalid, pickle_encoding,
/// limit_exceeded; the error's offset is the opcode's byte offset.
py::value loads(std::span<const std::byte> bytes, const options& opt = {});
py::value loads(std::string_view bytes, const options& opt = {});
/// The same, also giving the number of bytes consumed (through STOP).
py::value loads(std::span<const std::byte> bytes, const options& opt, std::size_t& consumed);
/// Non-throwing twin of loads.
result<py::value> try_loads(std::span<const std::byte> bytes, const options& opt = {}) noexcept;

/// Encodes a value as a pickle of `protocol` (3, 4 or 5; 4 by default, as
/// NumPy >= 2 writes). Arrays use numpy.core.multiarray._reconstruct, which
/// every NumPy 1.x and 2.x loads (see docs/pickle.md).
/// Errors: invalid_argument (protocol, an inert object, a value nested deeper
/// than pickle_limits::max_depth); unsupported (dtypes with no pickle form).
std::vector<std::byte> dumps(const py::value& v, int protocol = 4);

/// How dangerous a referenced global is.
enum class safety {
  safe,      ///< npio reconstructs it (allowlisted)
  unknown,   ///< not on the allowlist, not a known code-execution primitive
  dangerous, ///< runs code, touches files, processes or the network when called
};
/// "safe", "unknown", "dangerous".
const char* safety_name(safety s) noexcept;

/// One global a pickle references (GLOBAL, STACK_GLOBAL, INST).
struct global_ref {
  std::string module; ///< after fix_imports mapping
  std::string name;
  safety classification = safety::unknown;
  std::uint64_t offset = 0; ///< byte offset of the first opcode referencing it
  std::size_t count = 0;    ///< how many times it is referenced
};

/// How npio classifies `module.name` (already mapped by fix_imports).
safety classify(std::string_view module, std::string_view name);

/// Lists every distinct global the pickle references, in order of first use,
/// without reconstructing anything. Errors: as loads for a malformed stream
/// (pickle_truncated, pickle_bad_opcode, pickle_stack, ...).
std::vector<global_ref> scan(std::span<const std::byte> bytes, const options& opt = {});

} // namespace pickle
} // namespace v1
} // namespace npio
