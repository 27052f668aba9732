// np.load on top: opens the file once, sniffs its first bytes once (the rule
// is in npy_framing.hpp) and hands off to the .npy layer (src/npy_file.cpp,
// the maps in src/mmap_posix.cpp), the archive layer (src/npz.cpp) or the
// pickle layer. Nothing below depends on this file.
#include "file.hpp"
#include "hooks.hpp"
#include "npy_file.hpp"
#include "npy_framing.hpp"
#include "npy_io.hpp"
#include "sniff.hpp"

#include <fcntl.h>
#include <npio/io.hpp>

namespace npio {
inline namespace v1 {

namespace {

// A file that is neither .npy nor zip: np.load unpickles it. Only what starts
// like a pickle is one; anything else is bad_magic, showing its first bytes.
loaded load_pickle(detail::source& src, std::vector<std::byte>& prefix, bool plausible,
                   const load_options& o) {
  if (!o.allow_pickle) {
    if (!plausible) detail::throw_not_npy(prefix);
    detail::throw_pickle_disallowed(prefix);
  }
  std::vector<std::byte> all = src.read_rest(o.max_data_bytes);
  all.insert(all.begin(), prefix.begin(), prefix.end());
  if (plausible) return detail::read_raw_pickle(all, o);
  // With allow_pickle, np.load unpickles whatever is not .npy or zip; so do
  // we (CPython takes b'I0x10\n.' and b'F-Infinity\n.'), but a file that
  // fails to unpickle and never looked like a pickle is reported as what it is.
  try {
    return detail::read_raw_pickle(all, o);
  } catch (const error&) {
    detail::throw_not_npy(prefix);
  }
}

// What the first bytes say, with `prefix` holding them: np.load reads 6
// bytes; a file that is not .npy shows up to sniff_bytes (pickle or not).
file_kind sniff_source(detail::source& src, std::vector<std::byte>& prefix) {
  prefix.reserve(256); // a typical header (128 bytes) without regrowing
  prefix.resize(detail::npy_magic_len);
  prefix.resize(src.read(prefix.data(), prefix.size()));
  if (prefix.size() == detail::npy_magic_len && !detail::has_npy_magic(prefix) &&
      !detail::has_zip_magic(prefix)) {
    prefix.resize(detail::sniff_bytes);
    prefix.resize(6 + src.read(prefix.data() + 6, detail::sniff_bytes - 6));
  }
  return detail::sniff_kind(prefix);
}

// Hands the source to the layer for `kind`; `file` is set when `src` reads
// a file (an archive then keeps its descriptor).
loaded dispatch(detail::source& src, std::vector<std::byte>& prefix, file_kind kind,
                const load_options& o, detail::fd_source* file) {
  switch (kind) {
  case file_kind::empty:
    throw error(errc::truncated, "No data left in file", {}, {}, 0);
  case file_kind::npz: {
    if (file) return detail::open_npz(file->take_fd(), file->path(), o);
    std::vector<std::byte> all = src.read_rest(o.max_data_bytes);
    all.insert(all.begin(), prefix.begin(), prefix.end());
    return detail::open_npz(std::move(all), o);
  }
  case file_kind::npy:
    return detail::load_npy(src, prefix, o);
  case file_kind::pickle:
    return load_pickle(src, prefix, true, o);
  case file_kind::other:
    break;
  }
  return load_pickle(src, prefix, false, o);
}

loaded load_from(detail::source& src, const load_options& o) {
  std::vector<std::byte> prefix;
  const file_kind kind = sniff_source(src, prefix);
  return dispatch(src, prefix, kind, o, nullptr);
}

} // namespace

loaded load(const std::filesystem::path& path, const load_options& options) {
  try {
    detail::fd_source src(detail::open_file(path, O_RDONLY), path);
    std::vector<std::byte> prefix;
    const file_kind kind = sniff_source(src, prefix);
    const mmap_mode mode = options.mmap_mode;
    // As np.load: only a .npy is mapped; an .npz maps its own members, and
    // anything else is read as without a map (a pickle, refused without allow_pickle).
    if (mode == mmap_mode::none || kind != file_kind::npy)
      return dispatch(src, prefix, kind, options, &src);
    if (mode == mmap_mode::w_plus)
      throw error(errc::invalid_argument,
                  "mmap_mode w+ creates a file and needs a dtype and shape: use open_memmap");
    const std::size_t max_header = detail::effective_max_header(options);
    if (mode == mmap_mode::r || mode == mmap_mode::c) {
      // The descriptor already open maps the file: one open, one read, one fstat.
      const header h = detail::read_header_from(src, prefix, max_header);
      return loaded(detail::map_npy(src.fd(), path, h, src.size(), mode));
    }
    // r+ writes through the map: open_memmap opens the file for writing.
    memmap_options m;
    m.mode = mode;
    m.max_header_size = max_header;
    return loaded(open_memmap(path, m));
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

loaded load(std::span<const std::byte> bytes, const load_options& options) {
  if (options.mmap_mode != mmap_mode::none)
    throw error(errc::invalid_argument, "mmap_mode needs a file path, not bytes in memory");
  detail::span_source src(bytes);
  return load_from(src, options);
}

loaded load(std::istream& in, const load_options& options) {
  if (options.mmap_mode != mmap_mode::none)
    throw error(errc::invalid_argument, "mmap_mode needs a file path, not a stream");
  detail::stream_source src(in);
  return load_from(src, options);
}

result<loaded> try_load(const std::filesystem::path& path, const load_options& options) noexcept {
  return capture([&] { return load(path, options); });
}

result<loaded> try_load(std::span<const std::byte> bytes, const load_options& options) noexcept {
  return capture([&] { return load(bytes, options); });
}

} // namespace v1
} // namespace npio
