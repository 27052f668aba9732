// Fuzzes the unpickler and the scanner on arbitrary bytes: they may reject the
// input with an npio::error, never crash, hang, leak or recurse on its depth.
// A value that loads is written back and read again.
#include "../src/pickle_internal.hpp"

#include <cstddef>
#include <cstdint>
#include <npio/pickle.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  npio::pickle::options o;
  o.allow_unknown_classes = data[0] & 1;
  o.encoding = (data[0] & 6) == 2   ? npio::pickle_encoding::latin1
               : (data[0] & 6) == 4 ? npio::pickle_encoding::bytes
                                    : npio::pickle_encoding::ascii;
  // max_bytes / 16 also bounds how far shared references (DUP, memo GET) may
  // expand the value: 4M values at 1 << 26, whose repr (three times, under
  // ASan) outran the 10 s timeout. Inputs are at most 16 KiB; 4 MiB is plenty.
  o.limits.max_bytes = 1u << 22;
  o.limits.max_memo = 1u << 16;
  o.limits.max_stack = 1u << 16;
  o.limits.max_depth = 2000;
  const auto bytes =
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  try {
    (void)npio::pickle::scan(bytes, o);
  } catch (const npio::error&) {
  }
  auto r = npio::pickle::try_loads(bytes, o);
  {
    // The node arena and memo pins (used for large inputs) give the same result.
    const std::size_t threshold = npio::pickle::detail::arena_min_input().exchange(0);
    auto ra = npio::pickle::try_loads(bytes, o);
    npio::pickle::detail::arena_min_input().store(threshold);
    // repr() refuses ints past 4300 digits (as CPython's str does)
    auto repr = [](const npio::py::value& v) {
      try {
        return v.repr();
      } catch (const npio::error& e) {
        return std::string("error: ") + e.what();
      }
    };
    if (r.has_value() != ra.has_value() ||
        (r.has_value() ? repr(r.value()) != repr(ra.value()) : r.code() != ra.code()))
      __builtin_trap();
  }
  if (r.has_value()) {
    try {
      (void)r.value().repr();
    } catch (const npio::error&) {
    }
    try {
      const auto again = npio::pickle::dumps(r.value());
      (void)npio::pickle::loads(again, o);
    } catch (const npio::error&) {
      // inert objects are never written back; limits may differ
    }
  }
  return 0;
}
