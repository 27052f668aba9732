// The .npy framing (see npy_framing.hpp): sniffing, the preamble, and
// reading a header from a file descriptor.
#include "npy_framing.hpp"

#include "file.hpp"
#include "sniff.hpp"

#include <array>
#include <fcntl.h>

namespace npio {
inline namespace v1 {
namespace detail {

static_assert(sniff_bytes == sniff_size);

file_kind sniff_kind(std::span<const std::byte> head) noexcept {
  // np.load: `magic = fid.read(6)`; empty is EOFError, then zip, then .npy,
  // then everything else goes to pickle.load.
  if (head.empty()) return file_kind::empty;
  if (has_zip_magic(head)) return file_kind::npz;
  if (has_npy_magic(head)) return file_kind::npy;
  return looks_like_pickle(head.first(std::min(head.size(), sniff_bytes))) ? file_kind::pickle
                                                                           : file_kind::other;
}

std::optional<preamble> read_preamble(std::span<const std::byte> b) noexcept {
  if (b.size() < 8 || !has_npy_magic(b)) return std::nullopt;
  preamble p;
  p.major = static_cast<std::uint8_t>(b[6]);
  p.minor = static_cast<std::uint8_t>(b[7]);
  if (p.minor != 0 || p.major < 1 || p.major > 3) return std::nullopt;
  const std::size_t width = p.major == 1 ? 2 : 4; // '<H' or '<I'
  p.size = 8 + width;
  if (b.size() < p.size) return std::nullopt;
  for (std::size_t i = 0; i < width; ++i)
    p.header_length |= std::uint64_t(static_cast<std::uint8_t>(b[8 + i])) << (8 * i);
  return p;
}

std::uint64_t header_bytes_needed(std::span<const std::byte> head,
                                  std::size_t max_header_size) noexcept {
  if (head.size() < 8 || !has_npy_magic(head)) return std::max<std::size_t>(head.size(), 12);
  const auto major = static_cast<std::uint8_t>(head[6]);
  const std::size_t size = major == 1 ? 10 : 12;
  const auto p = read_preamble(head);
  if (!p) return std::max(head.size(), size);
  if (p->header_length > header_byte_limit(p->major, max_header_size)) return p->size;
  return p->size + p->header_length;
}

header read_file_header(int fd, const std::filesystem::path& path, std::uint64_t size,
                        std::size_t max_header_size, std::span<std::byte> first, std::size_t& got) {
  got = pread_full(fd, first.data(),
                   static_cast<std::size_t>(std::min<std::uint64_t>(size, first.size())), 0, path);
  return read_header_prefix(first.first(got), size, max_header_size, [&](std::size_t n) {
    std::vector<std::byte> all(n);
    all.resize(pread_full(fd, all.data(), all.size(), 0, path));
    return all;
  });
}

} // namespace detail

std::uint64_t header_bytes_needed(std::span<const std::byte> head,
                                  std::size_t max_header_size) noexcept {
  return detail::header_bytes_needed(head, max_header_size);
}

file_kind sniff(std::span<const std::byte> head) noexcept {
  return detail::sniff_kind(head);
}

file_kind sniff(const std::filesystem::path& path) {
  try {
    const auto fd = detail::open_file(path, O_RDONLY);
    std::array<std::byte, sniff_size> head;
    return detail::sniff_kind(
        std::span(head).first(detail::read_full(fd.get(), head.data(), head.size(), path)));
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

} // namespace v1
} // namespace npio
