// Fuzzes np.load of a .npy held in memory. On success it exercises the array:
// native conversion, tobytes in both orders, and a save/load round trip that
// must give back the same array; any mismatch aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <npio/io.hpp>
#include <span>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void exercise(const npio::array& a, std::size_t input_size) {
  // Never more data than the input held (elements of size 0 aside).
  require(a.nbytes() <= input_size);
  const auto c = a.tobytes(npio::order::c);
  const auto f = a.tobytes(npio::order::f);
  require(c.size() == a.nbytes() && f.size() == a.nbytes());

  const npio::array native = a.to_native();
  require(native.shape() == a.shape());
  require(native.dtype() == a.dtype().to_native());
  require(native.nbytes() == a.nbytes());

  // save then load gives the same dtype, shape and element bytes.
  const auto saved = npio::save_bytes(a);
  auto back = npio::try_load(std::span<const std::byte>(saved));
  require(back.has_value() && back->is_array());
  require(back->array().equal(a));
  require(back->array().tobytes(npio::order::c) == c);

  const auto saved_native = npio::save_bytes(native);
  auto back_native = npio::try_load(std::span<const std::byte>(saved_native));
  require(back_native.has_value() && back_native->array().equal(native));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto r = npio::try_load(bytes);
  if (!r) {
    require(r.code() != npio::errc::ok && !r.error().detail().empty());
    return 0;
  }
  if (r->is_array()) exercise(r->array(), size);
  return 0;
}
