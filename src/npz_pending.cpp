// Until the npz layer lands: archives are refused with a clear error.
// (Deleted by the npz work.)
#include "hooks.hpp"

namespace npio::detail {
loaded open_npz(const std::filesystem::path&, const load_options&) {
  throw error(errc::unsupported, "npz archives are not supported yet");
}
loaded open_npz(std::vector<std::byte>, const load_options&) {
  throw error(errc::unsupported, "npz archives are not supported yet");
}
} // namespace npio::detail
