/// \file pickle.hpp
/// Python pickles without Python: a decoder that runs nothing (protocols 0-5,
/// an allowlist of reconstructors for NumPy arrays, dtypes, scalars and the
/// built-in types), an encoder whose output NumPy 1.x and 2.x load, and a
/// scanner that lists the globals a pickle references.
#pragma once

#include <cstddef>
#include <npio/io.hpp>
#include <npio/py/value.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace npio {
inline namespace v1 {
namespace pickle {

// pickle::options (how to decode) is in io.hpp: load_options is one.

/// Decodes one pickle from the start of `bytes` (bytes after STOP are ignored,
/// as np.load does). Nothing from the stream is executed: globals are looked up
/// in an allowlist. Frames are enforced as CPython's pure-Python unpickler does
/// (an opcode or argument crossing a frame's end, a frame inside a frame:
/// pickle_invalid).
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

/// One global a pickle references (GLOBAL, STACK_GLOBAL, INST), or a name the
/// stream computes at load time.
struct global_ref {
  std::string module; ///< after fix_imports mapping; "<computed>" when computed
  std::string name;   ///< "<computed>" when computed
  safety classification = safety::unknown;
  std::uint64_t offset = 0; ///< byte offset of the first opcode referencing it
  std::size_t count = 0;    ///< how many times it is referenced
  /// The module or name does not come straight from a string constant of the
  /// stream (a STACK_GLOBAL operand made by a call or taken from a global, a
  /// call of a call's result, BUILD on a module or class, an EXT opcode):
  /// always dangerous.
  bool computed = false;
  /// For computed names, how the stream computes it; for names found in bytes
  /// a frame violation hides, that.
  std::string note;
};

/// How npio classifies `module.name` (already mapped by fix_imports). A dotted
/// name is classified by each component (`builtins eval.__call__` is eval), and
/// `__builtins__` or another dunder attribute in it is dangerous; the rule and
/// the denylist's sources are in docs/security.md.
safety classify(std::string_view module, std::string_view name);

/// Something structurally wrong with a stream that does not stop a scan, or
/// that stopped it in a way CPython readers may disagree on.
struct scan_anomaly {
  enum class kind {
    frame,         ///< an opcode or argument crosses a FRAME's end, or a frame opens inside one
    proto,         ///< PROTO after the first opcode of a pickle
    trailing,      ///< bytes after the first pickle's STOP (pickle.load in a loop reads them)
    expansion,     ///< shared references (memo GET, DUP) expand past limits.max_bytes bytes
    stop_in_frame, ///< STOP before the end of the frame that holds it
  };
  kind what = kind::trailing;
  std::uint64_t offset = 0; ///< byte offset of the opcode (or of the trailing bytes)
  std::string message;
};
/// "frame", "proto", "trailing", "expansion", "stop-in-frame".
const char* anomaly_name(scan_anomaly::kind k) noexcept;

/// What a scan found: every global it saw (also those before an error), the
/// structural anomalies, and the error that stopped it, if any.
struct scan_report {
  std::vector<global_ref> globals; ///< distinct globals in order of first use
  std::vector<scan_anomaly> anomalies;
  std::optional<npio::error> error; ///< what stopped the scan before the end of the input
  std::size_t pickles = 0;          ///< pickles read through their STOP
  std::uint64_t end = 0;            ///< bytes read (through the last STOP, or to the error)

  /// dangerous if any global is; unknown if any global is unknown, an anomaly
  /// was found or the stream broke (see unreadable()); safe otherwise.
  safety verdict() const noexcept;
  /// True when the input broke before any pickle, global or anomaly was read
  /// (not a pickle, or nothing CPython would run), other than on a limit.
  bool unreadable() const noexcept;
};

/// Scans `bytes` without reconstructing anything: every distinct global the
/// pickle references, in order of first use, then every further pickle
/// concatenated after it (as pickle.load in a loop reads them; np.load reads
/// only the first, and the rest is reported as a `trailing` anomaly). A
/// malformed stream does not throw: the error and the globals seen before it are
/// in the report. Python 2 strings are decoded under `opt.encoding`, as CPython
/// decodes them, so those used as names are classified by name. Errors: none
/// for the stream (see scan_report::error); std::bad_alloc.
scan_report scan_all(std::span<const std::byte> bytes, const options& opt = {});

/// The globals of scan_all() (the former interface), throwing its error when
/// it stopped the first pickle. Errors: as loads for a malformed stream
/// (pickle_truncated, pickle_bad_opcode, pickle_stack, ...).
std::vector<global_ref> scan(std::span<const std::byte> bytes, const options& opt = {});

/// `s` with control characters, DEL, backslash, invalid UTF-8, C1 controls and
/// bidirectional overrides escaped (`\x1b`, `\n`, `\\`, `\xe2\x80\xae`), so
/// a crafted name cannot redraw a terminal line. Messages that already spell
/// bytes as `\xNN` pass `backslash = false` to keep their backslashes.
/// Errors: none.
std::string escape_name(std::string_view s, bool backslash = true);

} // namespace pickle
} // namespace v1
} // namespace npio
