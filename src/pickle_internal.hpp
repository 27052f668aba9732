// Private seams of the pickle layer: the VM (pickle_load.cpp) resolves globals
// and calls reconstructors (pickle_numpy.cpp); the scanner classifies names
// (pickle_scan.cpp).
#pragma once

#include "py_node.hpp"

#include <atomic>
#include <memory>
#include <npio/pickle.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace npio {
inline namespace v1 {
namespace pickle {
namespace detail {

using py::value;

// What a reconstructor may use while the VM runs.
struct context {
  const options& opt;
  std::uint64_t offset = 0;      // byte offset of the current opcode
  std::uint64_t bytes_built = 0; // charged against limits.max_bytes
  int proto = 0;
  std::vector<value>* created = nullptr; // container nodes, for cycle checks and cleanup
  // While no container has a second reference, an object array's state list
  // may hand its items to the array instead of copying them (the VM puts them
  // back if the list is ever reached again): list node -> the array's table.
  bool may_steal = false;
  std::vector<std::pair<py::detail::node*, std::shared_ptr<std::vector<value>>>>* stolen = nullptr;

  // dict nodes made by collections.OrderedDict (BUILD may give them attributes)
  std::unordered_set<const void*> ordered_dicts{};

  [[noreturn]] void fail(errc code, const std::string& msg) const;
  // Counts n bytes of built values against the limit.
  void charge(std::uint64_t n);
  // Registers a container node made by a reconstructor.
  void track(const value& v) const {
    if (created) created->push_back(v);
  }
};

// Inputs of at least this many bytes build their nodes in a node_arena
// (256 KiB; tests lower it to run every pickle through the arena).
std::atomic<std::size_t>& arena_min_input() noexcept;

// loads() for an object array's pickle: `elements` (from the .npy header, not
// trusted beyond a size hint) lets its element list be allocated once.
py::value loads_object_array(std::span<const std::byte> bytes, const options& opt,
                             std::uint64_t elements);

// fix_imports (CPython's _compat_pickle): applied for protocol < 3 only.
std::pair<std::string, std::string> map_name(std::string module, std::string name, int proto,
                                             bool fix_imports);
// Whether GLOBAL may push this name (npio reconstructs it or keeps it as a
// bare reference); dangerous names never are.
bool is_reconstructable(std::string_view module, std::string_view name);
// Whether a bare reference to this name is a value npio keeps (range, int, ...).
bool is_builtin_type_ref(std::string_view module, std::string_view name);

// After a frame violation: GLOBAL / INST lines and STACK_GLOBAL pairs of short
// strings in the (at most 1 MiB of) bytes from `from`, which a reader that
// ignores frames may run; added to the report's globals, deduplicated by `seen`.
void sweep_hidden(std::span<const std::byte> bytes, std::uint64_t from, scan_report& rep,
                  std::unordered_map<std::string, std::size_t>& seen);

// cls(*args, **kwargs) / func(*args) for an allowlisted callable, or an
// inert object when the caller allows unknown classes.
value call(const value& callable, value args, value kwargs, context& cx, bool newobj);
// BUILD: inst.__setstate__(state) for the kinds we rebuild.
void build(value& inst, value state, context& cx);

// Raw bytes of a bytes-like argument (bytes, bytearray, or a str re-encoded
// as latin1 as NumPy does for Python 2 data); `what` names the consumer.
std::string latin1_bytes(const value& v, context& cx, const char* what, const char* failure);

// Number text as CPython reads it (src/pickle_text.cpp).
struct int_text_result {
  value result;
  bool ok = false;
  bool limit = false;  // refused: more decimal digits than max_digits
  bool strtol = false; // INT: read by C strtol (CPython's bool rule applies)
  std::string error;   // set for limit and base errors; otherwise a generic message applies
};
// int(s, base) (base 0 or 2-36): Python's literal rules (prefixes,
// underscores, surrounding whitespace); decimal text longer than max_digits
// (0: no limit) is refused.
int_text_result parse_int_text(std::string_view s, int base, std::size_t max_digits);
// The INT opcode's line: C strtol(s, 0) first, then int(s, 0).
int_text_result parse_int_opcode(std::string_view line, std::size_t max_digits);
// float(s) as PyOS_string_to_double (the FLOAT opcode): false with a message
// on bad text or overflow.
bool parse_float_text(std::string_view s, double& out, std::string& error);
// Whether Decimal(s) accepts s.
bool valid_decimal_text(std::string_view s);

} // namespace detail
} // namespace pickle
} // namespace v1
} // namespace npio
