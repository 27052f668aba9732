// .npz archives: npz_file (lazy like numpy's NpzFile), savez, savez_compressed,
// npz_append, and the hooks through which load() opens archives.
#include "file.hpp"
#include "hooks.hpp"
#include "zip.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <npio/npz.hpp>
#include <npio/py/value.hpp>
#include <sys/mman.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace npio {
inline namespace v1 {

namespace zip = detail::zip;
using detail::effective_max_header;

namespace {

constexpr unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

bool has_npy_magic(std::span<const std::byte> b) {
  return b.size() >= 6 && std::memcmp(b.data(), npy_magic, 6) == 0;
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

  static std::unique_ptr<impl> make(std::shared_ptr<zip::source> s, const load_options& o,
                                    std::filesystem::path p) {
    auto m = std::make_unique<impl>();
    m->src = std::move(s);
    m->options = o;
    m->path = std::move(p);
    m->dir = zip::read_directory(*m->src);
    for (std::size_t i = 0; i < m->dir.entries.size(); ++i) {
      const auto& e = m->dir.entries[i];
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
    auto r = try_read_header(head, effective_max_header(options));
    if (!r && r.code() == errc::truncated && head.size() < e.usize && head.size() >= 12) {
      const std::size_t lenfield = std::to_integer<unsigned>(head[6]) == 1 ? 2 : 4;
      std::uint64_t hlen = 0;
      for (std::size_t k = 0; k < lenfield; ++k)
        hlen |= std::uint64_t(std::to_integer<unsigned>(head[8 + k])) << (8 * k);
      if (hlen > effective_max_header(options)) return std::nullopt; // the copy path reports it
      head.resize(static_cast<std::size_t>(std::min<std::uint64_t>(8 + lenfield + hlen, e.usize)));
      src->read(e.data_offset, head);
      r = try_read_header(head, effective_max_header(options));
    }
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
        // Objects and short data: the core's load gives NumPy's behaviour and messages.
        load_options o = options;
        o.mmap_mode = mmap_mode::none;
        loaded l = npio::load(bytes, o);
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
    const std::size_t limit = effective_max_header(p_->options);
    auto head = zip::read_prefix(*p_->src, e, 4096);
    if (!has_npy_magic(head))
      throw error(errc::type_mismatch, "member is not a .npy file (use bytes())");
    auto r = try_read_header(head, limit);
    if (!r && r.code() == errc::truncated && head.size() < e.usize && head.size() >= 12) {
      const std::size_t lenfield = std::to_integer<unsigned>(head[6]) == 1 ? 2 : 4;
      std::uint64_t hlen = 0;
      for (std::size_t k = 0; k < lenfield; ++k)
        hlen |= std::uint64_t(std::to_integer<unsigned>(head[8 + k])) << (8 * k);
      // read_header reports a header past the limit; only read what it may accept.
      const std::uint64_t need = 8 + lenfield + std::min<std::uint64_t>(hlen, limit + 1);
      head = zip::read_prefix(*p_->src, e, static_cast<std::size_t>(need));
      r = try_read_header(head, limit);
    }
    return std::move(r).value();
  } catch (const error& err) {
    throw err.with_context(p_->label(), e.name);
  }
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
  zip::parallel_for(npy.size(), threads, [&](std::size_t k) {
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

void write_archive(const std::filesystem::path& path, const std::vector<named_array>& arrays,
                   const savez_options& options) {
  const auto target = npz_path(path);
  try {
    std::unordered_set<std::string> seen;
    std::vector<zip::member_source> members;
    members.reserve(arrays.size());
    std::uint64_t total = 0;
    for (const auto& [name, a] : arrays) {
      if (!seen.insert(name).second)
        throw error(errc::invalid_argument, "duplicate member name '" + name + "'");
      members.push_back(npy_member(name, a, options.allow_pickle));
      total += members.back().head.size() + members.back().body.size() + 30 + 64 +
               2 * members.back().name.size() + 100;
    }
    detail::atomic_file f(target);
    if (!options.compress) f.reserve(total + 22);
    zip::write_options wo;
    wo.compress = options.compress;
    wo.level = options.level;
    wo.threads = options.threads;
    wo.force_zip64 = options.force_zip64;
    wo.progress = options.progress;
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

std::vector<named_array> positional(const std::vector<array>& arrays) {
  std::vector<named_array> named;
  named.reserve(arrays.size());
  for (std::size_t i = 0; i < arrays.size(); ++i)
    named.emplace_back("arr_" + std::to_string(i), arrays[i]);
  return named;
}

} // namespace

void savez(const std::filesystem::path& path, const std::vector<named_array>& arrays,
           const savez_options& options) {
  write_archive(path, arrays, options);
}

void savez(const std::filesystem::path& path, const std::vector<array>& arrays,
           const savez_options& options) {
  write_archive(path, positional(arrays), options);
}

void savez_compressed(const std::filesystem::path& path, const std::vector<named_array>& arrays,
                      int level) {
  savez_options o;
  o.compress = true;
  o.level = level;
  write_archive(path, arrays, o);
}

void savez_compressed(const std::filesystem::path& path, const std::vector<array>& arrays,
                      int level) {
  savez_options o;
  o.compress = true;
  o.level = level;
  write_archive(path, positional(arrays), o);
}

void npz_append(const std::filesystem::path& path, const std::string& name, const array& a,
                const savez_options& options) {
  try {
    auto fd = detail::open_file(path, O_RDWR);
    std::vector<zip::entry> keep;
    std::uint64_t at = 0;
    {
      // Read the directory through a second descriptor owned by the source.
      auto src = zip::open_file(path);
      zip::directory d = zip::read_directory(*src);
      const std::string filename = name + ".npy";
      for (auto& e : d.entries) {
        if (e.name == filename) {
          if (!options.replace)
            throw error(errc::invalid_argument,
                        "member '" + filename + "' exists (set replace to overwrite it)");
          continue;
        }
        keep.push_back(std::move(e));
      }
      at = d.cd_offset;
    }
    zip::write_options wo;
    wo.compress = options.compress;
    wo.level = options.level;
    wo.threads = options.threads;
    wo.force_zip64 = options.force_zip64;
    zip::writer w(fd.get(), path.string(), at, std::move(keep));
    w.add({npy_member(name, a, options.allow_pickle)}, wo);
    w.finish(wo);
    if (::ftruncate(fd.get(), static_cast<off_t>(w.position())) != 0)
      detail::throw_os_error("cannot truncate", path, errno);
    if (options.sync && ::fsync(fd.get()) != 0) detail::throw_os_error("fsync failed", path, errno);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

namespace detail {

loaded open_npz(const std::filesystem::path& path, const load_options& options) {
  try {
    return loaded(std::make_shared<npz_file>(npz_file::open(path, options)));
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
