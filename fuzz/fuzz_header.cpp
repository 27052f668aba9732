// Fuzzes the .npy header parser on arbitrary bytes, with NumPy's default
// max_header_size and with the limit lifted (as for a trusted file). A header
// that parses must be consistent with the bytes it came from, and formatting
// it again must parse back to the same dtype, shape and order.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <npio/io.hpp>
#include <span>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void check_header(const npio::header& h, std::size_t size) {
  // The header lies inside the bytes it was parsed from.
  require(h.data_offset >= 10 && h.data_offset <= size);
  require(h.version.major >= 1 && h.version.major <= 3 && h.version.minor == 0);
  for (auto d : h.shape)
    require(d >= 0);
  // data_size is the shape product times the itemsize, checked for overflow.
  // (An accepted header never overflows: that is size_overflow.)
  if (!h.dtype.has_object()) {
    std::uint64_t n = h.dtype.itemsize();
    for (auto d : h.shape)
      require(!__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n));
    require(n == h.data_size);
  }
}

void check_roundtrip(const npio::header& h) {
  // What we would write for this header must read back the same.
  auto r = npio::capture([&] { return npio::format_header(h.dtype, h.shape, h.fortran_order); });
  if (!r) return; // a dtype NumPy reads but cannot write back (none known): not a crash
  const auto& text = r.value();
  auto again = npio::try_read_header(std::as_bytes(std::span(text.data(), text.size())),
                                     std::numeric_limits<std::size_t>::max());
  require(again.has_value());
  require(again->dtype == h.dtype);
  require(again->shape == h.shape);
  require(again->fortran_order == h.fortran_order);
  require(again->data_offset == text.size() && again->data_offset % 64 == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto strict = npio::try_read_header(bytes);
  auto lifted = npio::try_read_header(bytes, std::numeric_limits<std::size_t>::max());
  if (strict) {
    check_header(*strict, size);
    // Lifting the limit never turns an accepted header into a rejected one.
    require(lifted.has_value());
    require(lifted->dtype == strict->dtype && lifted->shape == strict->shape &&
            lifted->data_offset == strict->data_offset);
  }
  if (lifted) {
    check_header(*lifted, size);
    check_roundtrip(*lifted);
  } else {
    // Every rejection carries a real code and a message.
    require(lifted.code() != npio::errc::ok);
    require(!lifted.error().detail().empty());
  }
  return 0;
}
