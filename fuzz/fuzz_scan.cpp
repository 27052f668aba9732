// Fuzzes the scanner on arbitrary bytes: scan_all never throws for the stream
// (its error is in the report), never crashes, hangs or leaks, reports offsets
// inside the input, and never calls dangerous what the unpickler accepts.
#include <cstddef>
#include <cstdint>
#include <npio/pickle.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  npio::pickle::options o;
  o.encoding = (data[0] & 3) == 1   ? npio::pickle_encoding::ascii
               : (data[0] & 3) == 2 ? npio::pickle_encoding::bytes
                                    : npio::pickle_encoding::latin1;
  o.limits.max_bytes = 1u << 26;
  o.limits.max_memo = 1u << 16;
  o.limits.max_stack = 1u << 16;
  o.limits.max_depth = 2000;
  const auto bytes =
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const npio::pickle::scan_report r = npio::pickle::scan_all(bytes, o);
  if (r.end > bytes.size()) __builtin_trap();
  for (const auto& g : r.globals) {
    if (g.offset >= bytes.size() || g.count == 0) __builtin_trap();
    if (g.computed && g.classification != npio::pickle::safety::dangerous) __builtin_trap();
    (void)npio::pickle::escape_name(g.module);
    (void)npio::pickle::escape_name(g.name);
  }
  for (const auto& a : r.anomalies)
    if (a.offset > bytes.size()) __builtin_trap();
  if (r.error && (!r.error->offset() || *r.error->offset() > bytes.size())) __builtin_trap();
  const auto v = r.verdict();
  if (v == npio::pickle::safety::safe && (r.error || !r.anomalies.empty())) __builtin_trap();
  // What the unpickler accepts (allowlisted globals only) is never dangerous.
  if (npio::pickle::try_loads(bytes, o).has_value()) {
    if (r.pickles == 0) __builtin_trap();
    for (const auto& g : r.globals)
      if (g.offset < r.end && g.classification == npio::pickle::safety::dangerous &&
          r.pickles == 1 && r.anomalies.empty())
        __builtin_trap();
  }
  return 0;
}
