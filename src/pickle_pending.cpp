// Until the pickle layer lands: object data is refused with a clear error.
// (Deleted by the object-array work.)
#include "hooks.hpp"

namespace npio {
inline namespace v1 {
namespace detail {
loaded read_object_npy(std::span<const std::byte>, const header&, const load_options&) {
  throw error(errc::unsupported, "object arrays are not supported yet");
}
std::vector<std::byte> write_object_payload(const array&) {
  throw error(errc::unsupported, "object arrays are not supported yet");
}
loaded read_raw_pickle(std::span<const std::byte>, const load_options&) {
  throw error(errc::unsupported, "pickle files are not supported yet");
}
} // namespace detail
} // namespace v1
} // namespace npio
