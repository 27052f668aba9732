// .npz archives: npz_file (lazy like numpy's NpzFile), savez, savez_compressed,
// npz_append, and the entry point through which load() opens archives.
#include "file.hpp"
#include "hooks.hpp"
#include "literal.hpp"
#include "npy_file.hpp"
#include "npy_framing.hpp"
#include "parallel.hpp"
#include "rows_internal.hpp"
#include "zip.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <linux/fs.h>
#include <npio/npz.hpp>
#include <npio/py/value.hpp>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace npio {
inline namespace v1 {

namespace zip = detail::zip;
using detail::effective_max_header;
using detail::has_npy_magic;

namespace {

// Code page 437, bytes 0x80-0xFF, as CPython's cp437 codec decodes them
// (bytes below 0x80 are ASCII). Generated with
// `bytes(range(128, 256)).decode('cp437')`.
constexpr std::uint16_t cp437_high[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
    0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
    0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557,
    0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559,
    0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4,
    0x221E, 0x03C6, 0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0};

// General purpose flag bit 11 (APPNOTE 4.4.4): the name is UTF-8.
constexpr std::uint16_t flag_utf8 = 0x800;

// The name as CPython's zipfile decodes it: UTF-8 when the flag says so,
// else cp437 (ZipFile's default metadata encoding), re-encoded as UTF-8.
std::string decoded_name(const zip::entry& e) {
  if (e.flags & flag_utf8) return e.name;
  std::string out;
  out.reserve(e.name.size());
  for (const char c : e.name) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80)
      out.push_back(c);
    else
      detail::append_utf8(out, cp437_high[b - 0x80]);
  }
  return out;
}

} // namespace

struct npz_file::impl {
  std::shared_ptr<zip::source> src;
  zip::directory dir;
  std::vector<npz_member_info> members;
  std::vector<std::string> files;
  std::unordered_map<std::string, std::size_t> by_name;
  load_options options;
  std::filesystem::path path;
  bool closed = false;

  // An npz_file over `s` (impl may call npz_file's private constructor).
  static npz_file open(std::shared_ptr<zip::source> s, const load_options& o,
                       std::filesystem::path p) {
    return npz_file(make(std::move(s), o, std::move(p)));
  }

  static std::unique_ptr<impl> make(std::shared_ptr<zip::source> s, const load_options& o,
                                    std::filesystem::path p) {
    auto m = std::make_unique<impl>();
    m->src = std::move(s);
    m->options = o;
    m->path = std::move(p);
    m->dir = zip::read_directory(*m->src);
    for (std::size_t i = 0; i < m->dir.entries.size(); ++i) {
      auto& e = m->dir.entries[i];
      // From here on the entry carries the decoded name (used in messages).
      e.name = decoded_name(e);
      if (m->by_name.count(e.name))
        throw error(errc::zip_duplicate, "duplicate member name '" + e.name + "'", m->src->label(),
                    e.name);
      npz_member_info info;
      info.filename = e.name;
      info.key = e.name.size() >= 4 && e.name.compare(e.name.size() - 4, 4, ".npy") == 0
                     ? e.name.substr(0, e.name.size() - 4)
                     : e.name;
      info.method = e.method;
      info.compressed_size = e.csize;
      info.uncompressed_size = e.usize;
      info.crc32 = e.crc;
      info.data_offset = e.data_offset;
      m->files.push_back(info.key);
      m->members.push_back(std::move(info));
      m->by_name.emplace(e.name, i);
    }
    return m;
  }

  const std::string& label() const { return src->label(); }

  void check_open() const {
    if (closed) throw error(errc::io_error, "archive is closed", path.string());
  }

  // NpzFile.__getitem__: the exact member name first, then key + ".npy".
  std::size_t find(std::string_view key) const {
    check_open();
    auto it = by_name.find(std::string(key));
    if (it == by_name.end()) it = by_name.find(std::string(key) + ".npy");
    if (it == by_name.end())
      throw error(errc::zip_no_member, std::string(key) + " is not a file in the archive", label());
    return it->second;
  }

  // The member's bytes in a fresh 64-byte-aligned buffer, CRC-checked.
  std::shared_ptr<buffer> read_raw(std::size_t i, unsigned threads) const {
    const auto& e = dir.entries[i];
    zip::check_member(*src, e, options.max_data_bytes);
    std::shared_ptr<buffer> buf;
    zip::read_member(
        *src, e,
        [&](std::size_t n) {
          buf = buffer::allocate(n, false);
          return std::span<std::byte>(buf->data(), n);
        },
        threads);
    if (!buf) buf = buffer::allocate(0);
    return buf;
  }

  // A stored member mapped in place (mmap_mode r or c), or nullopt when it
  // cannot be (not .npy, objects, misaligned data, sizes that do not add up).
  std::optional<array> try_map(std::size_t i) const {
    const auto& e = dir.entries[i];
    if (e.method != zip::method_stored || src->fd() < 0 || e.usize < 6) return std::nullopt;
    zip::check_member(*src, e, options.max_data_bytes);
    std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(e.usize, 4096)));
    src->read(e.data_offset, head);
    if (!has_npy_magic(head)) return std::nullopt;
    // A header over the limit is left to the copy path, which reports it.
    auto r = capture([&] {
      return detail::read_header_prefix(head, e.usize, effective_max_header(options),
                                        [&](std::size_t n) {
                                          head.resize(n);
                                          src->read(e.data_offset, head);
                                          return head;
                                        });
    });
    if (!r) return std::nullopt;
    const header h = *r;
    if (h.dtype.has_object() || h.data_offset > e.usize || h.data_size > e.usize - h.data_offset)
      return std::nullopt;
    const bool cow = options.mmap_mode == mmap_mode::c;
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t start = e.data_offset - e.data_offset % page;
    const std::size_t len = static_cast<std::size_t>(e.data_offset - start + e.usize);
    void* p = ::mmap(nullptr, len, PROT_READ | (cow ? PROT_WRITE : 0),
                     cow ? MAP_PRIVATE : MAP_SHARED, src->fd(), static_cast<off_t>(start));
    if (p == MAP_FAILED) return std::nullopt;
    auto m = std::make_shared<detail::file_mapping>(p, len);
    auto* member = static_cast<std::byte*>(p) + (e.data_offset - start);
    const std::uint32_t crc = zip::crc32(0, {member, static_cast<std::size_t>(e.usize)});
    if (crc != e.crc)
      throw error(errc::zip_crc,
                  "CRC-32 mismatch: directory says " + std::to_string(e.crc) + ", data has " +
                      std::to_string(crc),
                  label(), e.name);
    auto* data = member + h.data_offset;
    if (reinterpret_cast<std::uintptr_t>(data) % std::max<std::size_t>(h.dtype.alignment(), 1))
      return std::nullopt; // not ours: fall back to a copy
    return array(h.dtype, h.shape,
                 buffer::adopt(data, static_cast<std::size_t>(h.data_size), std::move(m), cow), 0,
                 std::nullopt, h.fortran_order ? order::f : order::c);
  }

  // What NpzFile[key] returns, as `loaded`; `want_array` makes non-arrays errors;
  // `skip_raw` returns nullopt for members that are not .npy files.
  std::optional<loaded> load_member(std::size_t i, unsigned threads, bool want_array,
                                    bool skip_raw = false) const {
    const auto& e = dir.entries[i];
    try {
      if (options.mmap_mode == mmap_mode::r || options.mmap_mode == mmap_mode::c)
        if (auto a = try_map(i)) return loaded(std::move(*a));
      auto buf = read_raw(i, threads);
      const std::span<const std::byte> bytes(buf->data(), buf->size());
      if (!has_npy_magic(bytes)) {
        if (skip_raw) return std::nullopt;
        if (want_array) throw error(errc::type_mismatch, "member is not a .npy file (use bytes())");
        return loaded(std::make_shared<py::value>(py::value::bytes(bytes)));
      }
      const header h = read_header(bytes, effective_max_header(options));
      if (h.dtype.has_object() || h.data_offset > bytes.size() ||
          h.data_size > bytes.size() - h.data_offset) {
        // Objects and short data: the .npy reader gives NumPy's behaviour and messages.
        load_options o = options;
        o.mmap_mode = mmap_mode::none;
        detail::span_source member(bytes);
        std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + 6);
        (void)member.read(prefix.data(), prefix.size());
        loaded l = detail::load_npy(member, prefix, o);
        if (want_array && !l.is_array())
          throw error(errc::type_mismatch,
                      "member holds a Python object, not an array (use load())");
        return l;
      }
      // Zero-copy: the array is a view of the member's buffer past the header.
      return loaded(array(h.dtype, h.shape, std::move(buf),
                          static_cast<std::int64_t>(h.data_offset), std::nullopt,
                          h.fortran_order ? order::f : order::c));
    } catch (const error& err) {
      throw err.with_context(label(), e.name);
    }
  }
};

npz_file::npz_file(std::unique_ptr<impl> p) : p_(std::move(p)) {}
npz_file::npz_file(npz_file&&) noexcept = default;
npz_file& npz_file::operator=(npz_file&&) noexcept = default;
npz_file::~npz_file() = default;

npz_file npz_file::open(const std::filesystem::path& path, const load_options& options) {
  return npz_file(impl::make(zip::open_file(path), options, path));
}

npz_file npz_file::from_bytes(std::vector<std::byte> bytes, const load_options& options) {
  load_options o = options;
  if (o.mmap_mode != mmap_mode::none) o.mmap_mode = mmap_mode::none; // nothing to map
  return npz_file(impl::make(zip::from_memory(std::move(bytes)), o, {}));
}

const std::vector<std::string>& npz_file::files() const noexcept {
  return p_->files;
}
const std::vector<npz_member_info>& npz_file::members() const noexcept {
  return p_->members;
}
const std::string& npz_file::comment() const noexcept {
  return p_->dir.comment;
}
const std::filesystem::path& npz_file::path() const noexcept {
  return p_->path;
}

bool npz_file::contains(std::string_view key) const noexcept {
  if (!p_) return false;
  const std::string k(key);
  return p_->by_name.count(k) || p_->by_name.count(k + ".npy");
}

bool npz_file::is_npy(std::string_view key) const {
  const std::size_t i = p_->find(key);
  const auto& e = p_->dir.entries[i];
  try {
    zip::check_member(*p_->src, e, p_->options.max_data_bytes);
    return has_npy_magic(zip::read_prefix(*p_->src, e, 6));
  } catch (const error& err) {
    throw err.with_context(p_->label(), e.name);
  }
}

header npz_file::header_of(std::string_view key) const {
  const std::size_t i = p_->find(key);
  const auto& e = p_->dir.entries[i];
  try {
    zip::check_member(*p_->src, e, p_->options.max_data_bytes);
    auto head = zip::read_prefix(*p_->src, e, 4096);
    if (!has_npy_magic(head))
      throw error(errc::type_mismatch, "member is not a .npy file (use bytes())");
    return detail::read_header_prefix(
        head, e.usize, effective_max_header(p_->options),
        [&](std::size_t n) { return zip::read_prefix(*p_->src, e, n); });
  } catch (const error& err) {
    throw err.with_context(p_->label(), e.name);
  }
}

npy_reader npz_file::reader(std::string_view key) const {
  const std::size_t i = p_->find(key);
  const auto& e = p_->dir.entries[i];
  try {
    // The whole member need not fit max_data_bytes: each chunk is checked.
    zip::check_member(*p_->src, e, std::numeric_limits<std::uint64_t>::max());
  } catch (const error& err) {
    throw err.with_context(p_->label(), e.name);
  }
  return detail::make_npy_reader(detail::open_member_stream(p_->src, e), p_->options, p_->label(),
                                 e.name);
}

array npz_file::at(std::string_view key) const {
  const std::size_t i = p_->find(key);
  return std::move(p_->load_member(i, 0, true)->array());
}

loaded npz_file::load(std::string_view key) const {
  return std::move(*p_->load_member(p_->find(key), 0, false));
}

std::vector<std::byte> npz_file::bytes(std::string_view key) const {
  const std::size_t i = p_->find(key);
  const auto& e = p_->dir.entries[i];
  try {
    zip::check_member(*p_->src, e, p_->options.max_data_bytes);
    std::vector<std::byte> out;
    zip::read_member(*p_->src, e, [&](std::size_t n) {
      out.resize(n);
      return std::span<std::byte>(out);
    });
    return out;
  } catch (const error& err) {
    throw err.with_context(p_->label(), e.name);
  }
}

std::vector<std::pair<std::string, array>> npz_file::load_all(unsigned threads) const {
  p_->check_open();
  std::vector<std::size_t> npy;
  for (std::size_t i = 0; i < p_->dir.entries.size(); ++i) {
    const auto& e = p_->dir.entries[i];
    if (e.usize < 6) continue;
    std::byte head[6];
    bool magic = false;
    if (e.method == zip::method_stored) {
      p_->src->read(e.data_offset, head);
      magic = has_npy_magic(head);
    } else {
      magic = true; // decided after decompression
    }
    if (magic) npy.push_back(i);
  }
  std::vector<std::optional<array>> out(npy.size());
  // Several members at once: each member's own chunks then use one thread.
  const unsigned inner = npy.size() > 1 ? 1 : threads;
  detail::parallel_for(npy.size(), threads, [&](std::size_t k) {
    auto l = p_->load_member(npy[k], inner, false, true);
    if (l && l->is_array()) out[k] = std::move(l->array());
  });
  std::vector<std::pair<std::string, array>> result;
  for (std::size_t k = 0; k < npy.size(); ++k)
    if (out[k]) result.emplace_back(p_->members[npy[k]].key, std::move(*out[k]));
  return result;
}

void npz_file::close() noexcept {
  if (!p_) return;
  p_->closed = true;
  p_->src->close();
}

// ---- writing -------------------------------------------------------------------------

std::filesystem::path npz_path(const std::filesystem::path& path) {
  const std::string s = path.string();
  if (s.size() >= 4 && s.compare(s.size() - 4, 4, ".npz") == 0) return path;
  return std::filesystem::path(s + ".npz");
}

bool safe_member_name(std::string_view name) noexcept {
  return zip::safe_name(name);
}

namespace {

// The .npy bytes of one array as a small head plus a body that is, wherever
// possible, the array's own memory (no copy).
zip::member_source npy_member(const std::string& name, const array& a, bool allow_pickle) {
  zip::member_source m;
  m.name = name + ".npy";
  if (a.dtype().has_object()) {
    save_options so;
    so.allow_pickle = allow_pickle;
    auto bytes = std::make_shared<std::vector<std::byte>>(save_bytes(a, so));
    m.body = std::span<const std::byte>(*bytes);
    m.keep = bytes;
    return m;
  }
  const bool fortran = a.is_f_contiguous() && !a.is_c_contiguous() && a.ndim() > 1;
  m.head = format_header(a.dtype(), a.shape(), fortran, std::nullopt);
  if (a.nbytes() == 0) return m;
  if (a.is_c_contiguous() || fortran) {
    m.body = std::span<const std::byte>(a.data(), a.nbytes());
    m.keep = a.base();
  } else {
    const array c = a.copy(order::c);
    m.body = std::span<const std::byte>(c.data(), c.nbytes());
    m.keep = c.base();
  }
  return m;
}

// A raw-bytes member: its name exactly, its bytes as the body (no copy; the
// caller's member outlives the write).
zip::member_source raw_source(const raw_member& r) {
  zip::member_source m;
  m.name = r.name;
  m.body = std::span<const std::byte>(r.bytes);
  return m;
}

// A member to write and the name the caller gave it (for messages).
struct pending {
  zip::member_source src;
  std::string given;
};

pending make_pending(const npz_member& m, bool allow_pickle) {
  if (const auto* a = std::get_if<named_array>(&m))
    return {npy_member(a->first, a->second, allow_pickle), a->first};
  const auto& r = std::get<raw_member>(m);
  return {raw_source(r), r.name};
}

// zipfile's ZipInfo cuts a name at its first NUL byte, so NumPy would see
// another name than the one written: refuse it.
void check_name(const std::string& given) {
  if (given.find('\0') != std::string::npos)
    throw error(errc::invalid_argument,
                "member name '" + given.substr(0, given.find('\0')) + "\\0...' holds a NUL byte");
}

zip::write_options write_options_of(const savez_options& options) {
  zip::write_options wo;
  wo.compress = options.compress;
  wo.level = options.level;
  wo.threads = options.threads;
  wo.force_zip64 = options.force_zip64;
  wo.progress = options.progress;
  return wo;
}

void write_archive(const std::filesystem::path& path, std::span<const npz_member> items,
                   const savez_options& options) {
  const auto target = npz_path(path);
  try {
    std::unordered_set<std::string> seen;
    std::vector<zip::member_source> members;
    members.reserve(items.size());
    std::uint64_t total = 0;
    for (const auto& item : items) {
      auto [m, given] = make_pending(item, options.allow_pickle);
      check_name(given);
      if (!seen.insert(m.name).second)
        throw error(errc::invalid_argument, "duplicate member name '" + given + "'");
      total += m.head.size() + m.body.size() + 30 + 64 + 2 * m.name.size() + 100;
      members.push_back(std::move(m));
    }
    detail::atomic_file f(target);
    if (!options.compress) f.reserve(total + 22);
    f.drop_old_cache(); // the zip writer writes through the descriptor
    const auto wo = write_options_of(options);
    zip::writer w(f.fd(), target.string());
    w.add(members, wo);
    w.finish(wo);
    // The reservation was an estimate: the end record must end the file.
    if (::ftruncate(f.fd(), static_cast<off_t>(w.position())) != 0)
      detail::throw_os_error("cannot truncate", target, errno);
    f.commit(options.sync);
  } catch (const error& e) {
    throw e.with_context(target.string());
  }
}

std::vector<npz_member> as_members(const std::vector<named_array>& arrays) {
  return {arrays.begin(), arrays.end()};
}

std::vector<npz_member> positional(const std::vector<array>& arrays) {
  std::vector<npz_member> named;
  named.reserve(arrays.size());
  for (std::size_t i = 0; i < arrays.size(); ++i)
    named.emplace_back(named_array("arr_" + std::to_string(i), arrays[i]));
  return named;
}

savez_options compressed(int level) {
  savez_options o;
  o.compress = true;
  o.level = level;
  return o;
}

// Copies the first `n` bytes of `in` to `out` (both at offset 0): a reflink
// of the whole file where the filesystem shares extents (btrfs, xfs; the
// caller overwrites and truncates past n), else copy_file_range (in-kernel,
// server-side on NFS), else read and write.
void copy_prefix(int in, int out, std::uint64_t n, const std::filesystem::path& path) {
#ifdef FICLONE
  if (::ioctl(out, FICLONE, in) == 0) return;
#endif
  std::uint64_t done = 0;
  bool kernel_copy = true;
  while (done < n && kernel_copy) {
    auto off_in = static_cast<off_t>(done), off_out = static_cast<off_t>(done);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, 1u << 30));
    const ssize_t r = ::copy_file_range(in, &off_in, out, &off_out, want, 0);
    if (r > 0) {
      done += static_cast<std::uint64_t>(r);
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == ENOSYS || errno == EXDEV || errno == EINVAL ||
                         errno == EOPNOTSUPP || errno == ENOTSUP || errno == EPERM)) {
      kernel_copy = false; // not supported here: copy through memory
    } else if (r == 0) {
      throw error(errc::truncated, "archive shrank while being copied", path.string(), {}, done);
    } else {
      detail::throw_os_error("cannot copy", path, errno);
    }
  }
  std::vector<std::byte> buf;
  while (done < n) {
    buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n - done, 1u << 20)));
    const std::size_t got = detail::pread_full(in, buf.data(), buf.size(), done, path);
    if (got != buf.size())
      throw error(errc::truncated, "archive shrank while being copied", path.string(), {}, done);
    if (::lseek(out, static_cast<off_t>(done), SEEK_SET) < 0)
      detail::throw_os_error("cannot seek", path, errno);
    detail::write_full(out, buf.data(), got, path);
    done += got;
  }
}

void append_member(const std::filesystem::path& path, const pending& p,
                   const savez_options& options) {
  try {
    const zip::member_source& member = p.src;
    check_name(p.given);
    auto src = zip::open_file(path);
    zip::directory d = zip::read_directory(*src);
    std::vector<zip::entry> keep;
    for (auto& e : d.entries) {
      // Names compare as zipfile decodes them; kept entries keep their stored bytes.
      if (decoded_name(e) == member.name) {
        if (!options.replace)
          throw error(errc::invalid_argument,
                      "member '" + member.name + "' exists (set replace to overwrite it)");
        continue;
      }
      keep.push_back(std::move(e));
    }
    const auto wo = write_options_of(options);
    if (options.in_place_append) {
      src.reset();
      auto fd = detail::open_file(path, O_RDWR);
      zip::writer w(fd.get(), path.string(), d.cd_offset, std::move(keep));
      w.add({member}, wo);
      w.finish(wo);
      if (::ftruncate(fd.get(), static_cast<off_t>(w.position())) != 0)
        detail::throw_os_error("cannot truncate", path, errno);
      if (options.sync && ::fsync(fd.get()) != 0)
        detail::throw_os_error("fsync failed", path, errno);
      return;
    }
    // Everything before the old directory is copied; the new member, the new
    // directory and the end records follow it in the copy, which then
    // replaces the archive (the atomic_file removes it on any failure).
    detail::atomic_file f(path);
    copy_prefix(src->fd(), f.fd(), d.cd_offset, path);
    src.reset();
    zip::writer w(f.fd(), path.string(), d.cd_offset, std::move(keep));
    w.add({member}, wo);
    w.finish(wo);
    if (::ftruncate(f.fd(), static_cast<off_t>(w.position())) != 0)
      detail::throw_os_error("cannot truncate", path, errno);
    f.commit(options.sync);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

} // namespace

void savez(const std::filesystem::path& path, const std::vector<named_array>& arrays,
           const savez_options& options) {
  write_archive(path, as_members(arrays), options);
}

void savez(const std::filesystem::path& path, const std::vector<array>& arrays,
           const savez_options& options) {
  write_archive(path, positional(arrays), options);
}

void savez(const std::filesystem::path& path, std::span<const npz_member> members,
           const savez_options& options) {
  write_archive(path, members, options);
}

void savez_compressed(const std::filesystem::path& path, const std::vector<named_array>& arrays,
                      int level) {
  write_archive(path, as_members(arrays), compressed(level));
}

void savez_compressed(const std::filesystem::path& path, const std::vector<array>& arrays,
                      int level) {
  write_archive(path, positional(arrays), compressed(level));
}

void savez_compressed(const std::filesystem::path& path, std::span<const npz_member> members,
                      int level) {
  write_archive(path, members, compressed(level));
}

void npz_append(const std::filesystem::path& path, const std::string& name, const array& a,
                const savez_options& options) {
  pending p;
  try {
    p = {npy_member(name, a, options.allow_pickle), name};
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
  append_member(path, p, options);
}

void npz_append(const std::filesystem::path& path, const raw_member& member,
                const savez_options& options) {
  append_member(path, {raw_source(member), member.name}, options);
}

namespace detail {

loaded open_npz(detail::fd_handle fd, const std::filesystem::path& path,
                const load_options& options) {
  try {
    return loaded(std::make_shared<npz_file>(
        npz_file::impl::open(zip::open_fd(fd.release(), path), options, path)));
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

loaded open_npz(std::vector<std::byte> bytes, const load_options& options) {
  return loaded(std::make_shared<npz_file>(npz_file::from_bytes(std::move(bytes), options)));
}

} // namespace detail
} // namespace v1
} // namespace npio
