// Until the npz layer lands: archives are refused with a clear error.
// (Deleted by the npz work.)
#include "hooks.hpp"

#include <npio/npz.hpp>

namespace npio {
inline namespace v1 {
namespace {
[[noreturn]] void pending() {
  throw error(errc::unsupported, "npz archives are not supported yet");
}
} // namespace
struct npz_file::impl {};
npz_file::npz_file(std::unique_ptr<impl> p) : p_(std::move(p)) {}
npz_file::npz_file(npz_file&&) noexcept = default;
npz_file& npz_file::operator=(npz_file&&) noexcept = default;
npz_file::~npz_file() = default;
npz_file npz_file::open(const std::filesystem::path&, const load_options&) {
  pending();
}
npz_file npz_file::from_bytes(std::vector<std::byte>, const load_options&) {
  pending();
}
const std::vector<std::string>& npz_file::files() const noexcept {
  std::abort();
}
const std::vector<npz_member_info>& npz_file::members() const noexcept {
  std::abort();
}
bool npz_file::contains(std::string_view) const noexcept {
  return false;
}
bool npz_file::is_npy(std::string_view) const {
  pending();
}
array npz_file::at(std::string_view) const {
  pending();
}
loaded npz_file::load(std::string_view) const {
  pending();
}
std::vector<std::byte> npz_file::bytes(std::string_view) const {
  pending();
}
void npz_file::close() noexcept {}
const std::filesystem::path& npz_file::path() const noexcept {
  std::abort();
}
void savez(const std::filesystem::path&, const std::vector<named_array>&, const savez_options&) {
  pending();
}
void savez(const std::filesystem::path&, const std::vector<array>&, const savez_options&) {
  pending();
}
void savez_compressed(const std::filesystem::path&, const std::vector<named_array>&, int) {
  pending();
}
void savez_compressed(const std::filesystem::path&, const std::vector<array>&, int) {
  pending();
}
void npz_append(const std::filesystem::path&, const std::string&, const array&,
                const savez_options&) {
  pending();
}
namespace detail {
loaded open_npz(const std::filesystem::path&, const load_options&) {
  pending();
}
loaded open_npz(std::vector<std::byte>, const load_options&) {
  pending();
}
} // namespace detail
} // namespace v1
} // namespace npio
