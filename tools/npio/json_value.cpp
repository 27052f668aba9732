// Until the pickle layer lands: Python values are refused with a clear error.
// (Replaced by the object-array work.)
#include "json_value.hpp"

namespace npio_cli {
namespace {
[[noreturn]] void pending() {
  throw npio::error(npio::errc::unsupported, "object arrays are not supported yet");
}
} // namespace
json object_element_to_json(const npio::array&, const std::byte*) {
  pending();
}
void object_element_from_json(const json&, npio::array&, std::byte*) {
  pending();
}
json loaded_value_to_json(npio::loaded&) {
  pending();
}
void write_pickle_file(const std::filesystem::path&, const json&) {
  pending();
}
} // namespace npio_cli
