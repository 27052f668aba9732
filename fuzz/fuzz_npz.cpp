// Fuzzes the archive reader: directory parsing, every member read (all
// methods, chunked deflate, CRC checks) and the .npy parse of each member.
// Any npio::error is fine; a crash, leak or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <npio/npz.hpp>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::byte>(data[i]);
  npio::load_options o;
  o.max_data_bytes = std::uint64_t(64) << 20; // keep bombs cheap
  try {
    const auto z = npio::npz_file::from_bytes(std::move(bytes), o);
    for (const auto& m : z.members()) {
      try {
        (void)z.bytes(m.filename);
        if (z.is_npy(m.key)) (void)z.at(m.filename);
      } catch (const npio::error&) {
      }
    }
    try {
      (void)z.load_all(2);
    } catch (const npio::error&) {
    }
  } catch (const npio::error&) {
  }
  return 0;
}
