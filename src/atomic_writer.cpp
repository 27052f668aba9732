// npio/atomic_writer.hpp: the public face of detail::atomic_file (file.hpp).
#include "file.hpp"

#include <npio/atomic_writer.hpp>

namespace npio {
inline namespace v1 {

struct atomic_writer::impl {
  detail::atomic_file f;
};

atomic_writer::atomic_writer(const std::filesystem::path& target)
    : p_(std::make_unique<impl>(impl{detail::atomic_file(target)})) {}
atomic_writer::atomic_writer(atomic_writer&&) noexcept = default;
atomic_writer::~atomic_writer() = default;

void atomic_writer::write(std::span<const std::byte> bytes) {
  p_->f.write(bytes);
}

void atomic_writer::commit(bool sync) {
  p_->f.commit(sync);
}

} // namespace v1
} // namespace npio
