// Records (include/npio/record.hpp): the non-template parts.
#include <npio/record.hpp>

namespace npio {
inline namespace v1 {
namespace detail {

void throw_record_field(std::string_view name, const std::string& why) {
  throw error(errc::type_mismatch, "field '" + std::string(name) + "': " + why);
}

const field* find_field(const dtype& dt, std::string_view name) {
  for (const auto& f : dt.fields())
    if (f.name == name) return &f;
  return nullptr;
}

} // namespace detail
} // namespace v1
} // namespace npio
