// The .npy framing, once: the magic, np.load's sniffing rule (npy, zip,
// pickle or neither), the preamble (version, header length and its width),
// the header-size limit, and reading a header from a file, memory or a
// stream. Every reader (load, load_into, the maps, npz_file, npy_reader)
// goes through here; read_header (src/header_parse.cpp) parses what they read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <npio/io.hpp>
#include <optional>
#include <span>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

/// b'\x93NUMPY', format.MAGIC_PREFIX.
inline constexpr unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
inline constexpr std::size_t npy_magic_len = sizeof npy_magic;

inline bool has_npy_magic(std::span<const std::byte> b) noexcept {
  return b.size() >= npy_magic_len && std::memcmp(b.data(), npy_magic, npy_magic_len) == 0;
}

/// np.load's zip test: b'PK\x03\x04' (a local file header) or b'PK\x05\x06'
/// (the end record an empty archive starts with); nothing else is a zip.
inline bool has_zip_magic(std::span<const std::byte> b) noexcept {
  return b.size() >= 4 && b[0] == std::byte{'P'} && b[1] == std::byte{'K'} &&
         ((b[2] == std::byte{3} && b[3] == std::byte{4}) ||
          (b[2] == std::byte{5} && b[3] == std::byte{6}));
}

/// np.load's dispatch on the first bytes of a file (at least sniff_size of
/// them when the file has that many; fewer only at its end).
file_kind sniff_kind(std::span<const std::byte> head) noexcept;

/// The fixed part before the header text: magic, version, header length.
struct preamble {
  std::uint8_t major = 0, minor = 0;
  std::size_t size = 0;            ///< 10 (version 1) or 12 (versions 2 and 3)
  std::uint64_t header_length = 0; ///< bytes of header text after the preamble
};

/// The preamble at the start of `b`, or nullopt when `b` is too short, has no
/// magic or an unknown version (read_header reports those).
std::optional<preamble> read_preamble(std::span<const std::byte> b) noexcept;

/// Bytes of header text read_header accepts with `max_header_size`: version 3
/// counts characters, of at most 4 bytes each.
inline std::uint64_t header_byte_limit(std::uint8_t major, std::size_t max_header_size) noexcept {
  return major == 3 ? std::uint64_t(max_header_size) * 4 : std::uint64_t(max_header_size);
}

/// The one limit every reader applies: np.load lifts max_header_size for
/// callers who trust the file (allow_pickle).
inline std::size_t effective_max_header(const load_options& o) noexcept {
  return o.allow_pickle ? std::numeric_limits<std::size_t>::max() / 8 : o.max_header_size;
}

/// How many bytes from the start a reader needs for read_header, given the
/// first bytes `head` of the file: the preamble, then the header text unless
/// its declared length is over the limit (read_header then reports it from
/// the preamble alone, so no reader allocates from that number). Without a
/// complete preamble: the preamble's size (12 when the version is unknown).
std::uint64_t header_bytes_needed(std::span<const std::byte> head,
                                  std::size_t max_header_size) noexcept;

/// The header of a .npy of `size` bytes whose first bytes are `head` (one
/// read's worth, or all of it); `first(n)` returns the first n bytes when
/// the header is longer than `head`.
template <class First>
header read_header_prefix(std::span<const std::byte> head, std::uint64_t size,
                          std::size_t max_header_size, First&& first) {
  if (head.size() < size) {
    const std::uint64_t want = std::min(header_bytes_needed(head, max_header_size), size);
    if (want > head.size()) {
      const auto all = first(static_cast<std::size_t>(want));
      return read_header(all, max_header_size);
    }
  }
  return read_header(head, max_header_size);
}

/// The header of a .npy read from a stream by `read(dst, n)` (fewer bytes
/// only at its end). `buf` holds the bytes already read; afterwards it holds
/// the preamble, the header and possibly a few bytes of data past
/// header::data_offset. It grows with the bytes that arrive, never from the
/// length field alone.
template <class Read>
header read_header_stream(Read&& read, std::vector<std::byte>& buf, std::size_t max_header_size) {
  auto fill = [&](std::uint64_t want) {
    while (buf.size() < want) {
      const std::size_t have = buf.size();
      const auto step = static_cast<std::size_t>(
          std::min<std::uint64_t>(want - have, std::max<std::size_t>(have, 1 << 16)));
      buf.resize(have + step);
      const std::size_t got = read(buf.data() + have, step);
      buf.resize(have + got);
      if (got < step) return false;
    }
    return true;
  };
  if (fill(12)) fill(header_bytes_needed(buf, max_header_size));
  return read_header(buf, max_header_size);
}

/// The header of the .npy file open as `fd` (of `size` bytes), read with
/// pread from offset 0: one read of `first` (4 KiB covers nearly every
/// header), a second only for a longer header. `got` is set to the bytes in
/// `first`. Errors: as read_header, io_error (no file name: callers add it).
header read_file_header(int fd, const std::filesystem::path& path, std::uint64_t size,
                        std::size_t max_header_size, std::span<std::byte> first, std::size_t& got);

} // namespace detail
} // namespace v1
} // namespace npio
