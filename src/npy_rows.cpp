// .npy files by rows: append in place (data first, header last), the header
// of a file, and slices of rows read with pread.
#include "file.hpp"
#include "npy_framing.hpp"
#include "rows_internal.hpp"
#include "shape_size.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <npio/rows.hpp>
#include <sys/file.h>
#include <unistd.h>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

header read_header_fd(int fd, const std::filesystem::path& path, std::size_t max_header_size) {
  std::byte first[4096];
  std::size_t got = 0;
  return read_file_header(fd, path, file_size(fd, path), max_header_size, first, got);
}

} // namespace detail

header read_header(const std::filesystem::path& path, std::size_t max_header_size) {
  try {
    auto fd = detail::open_file(path, O_RDONLY);
    (void)detail::file_size(fd.get(), path); // a directory is io_error, not an empty header
    return detail::read_header_fd(fd.get(), path, max_header_size);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

namespace {

std::string shape_str(const shape_t& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) {
    out += std::to_string(s[i]);
    if (s.size() == 1 || i + 1 < s.size()) out += i + 1 < s.size() ? ", " : ",";
  }
  return out + ")";
}

[[noreturn]] void bad(const std::string& what) {
  throw error(errc::invalid_argument, what);
}

// The growth axis of a header: 0 for C order, the last for Fortran order.
std::size_t growth_axis(const header& h) {
  return h.fortran_order && !h.shape.empty() ? h.shape.size() - 1 : 0;
}

// How many rows `rows` holds for a file with header `h`; checks dtype and shape.
std::int64_t rows_for(const header& h, const array& rows) {
  if (h.dtype.has_object()) bad("cannot append to an object array (use save)");
  if (h.shape.empty()) bad("cannot append to a 0-d array");
  if (!(rows.dtype() == h.dtype))
    bad("cannot append rows of dtype " + rows.dtype().descr() + " to an array of dtype " +
        h.dtype.descr() + " (convert them with astype first)");
  const std::size_t ax = growth_axis(h);
  const shape_t& rs = rows.shape();
  // The file's shape without the growth axis against rows' shape without
  // `skip` (none: one row), compared in place: appends are many and small.
  auto same_rows = [&](std::size_t skip) {
    for (std::size_t i = 0, j = 0; i < h.shape.size(); ++i) {
      if (i == ax) continue;
      if (j == skip) ++j;
      if (rs[j++] != h.shape[i]) return false;
    }
    return true;
  };
  if (rs.size() + 1 == h.shape.size() && same_rows(rs.size())) return 1;
  if (rs.size() == h.shape.size() && same_rows(ax)) return rs[ax];
  bad("cannot append rows of shape " + shape_str(rows.shape()) + " to an array of shape " +
      shape_str(h.shape) +
      (h.fortran_order ? " (Fortran order: rows are along the last axis)" : ""));
}

// The header text for `h` with the growth axis `n` long, in exactly `size`
// bytes when it fits (NumPy's own padding first, else the dict padded with
// spaces); empty when it does not fit.
std::string header_in_place(const header& h, std::int64_t n) {
  shape_t s = h.shape;
  s[growth_axis(h)] = n;
  std::string text = format_header(h.dtype, s, h.fortran_order, h.version);
  if (text.size() == h.data_offset) return text;
  const std::size_t pre = h.version.major == 1 ? 10 : 12;
  std::size_t end = text.size();
  while (end > pre && (text[end - 1] == ' ' || text[end - 1] == '\n'))
    --end;
  if (end + 1 > h.data_offset) return {};
  std::string out = text.substr(0, end);
  out.append(static_cast<std::size_t>(h.data_offset) - end - 1, ' ');
  out += '\n';
  // the length field keeps its value: the header's size did not change
  std::memcpy(out.data() + 8, text.data() + 8, pre - 8);
  const std::uint64_t hlen = h.data_offset - pre;
  for (std::size_t k = 0; k < pre - 8; ++k)
    out[8 + k] = static_cast<char>((hlen >> (8 * k)) & 0xFF);
  return out;
}

void write_at(int fd, std::span<const std::byte> b, std::uint64_t offset,
              const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < b.size()) {
    const ssize_t w =
        ::pwrite(fd, b.data() + done, b.size() - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      detail::throw_os_error("write failed", path, errno);
    }
    done += static_cast<std::size_t>(w);
  }
}

void sync_data(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) detail::throw_os_error("fdatasync failed", path, errno);
}

// Writes `rows` (in the file's order) at `offset`; one write for contiguous rows.
void write_rows(int fd, const header& h, const array& rows, std::uint64_t offset,
                const std::filesystem::path& path) {
  const order o = h.fortran_order ? order::f : order::c;
  if (h.fortran_order ? rows.is_f_contiguous() : rows.is_c_contiguous()) {
    write_at(fd, std::span(rows.data(), rows.nbytes()), offset, path); // one write
    return;
  }
  rows.for_each_chunk(
      o,
      [&](std::span<const std::byte> s) {
        write_at(fd, s, offset, path);
        offset += s.size();
      },
      std::size_t(8) << 20);
}

// A new file at `path` with header `h` grown to `new_len` by `rows`: the old
// data (when `old_fd` >= 0) copied, then the rows, renamed into place. The
// version is the oldest that fits, as save() chooses.
void rewrite(const std::filesystem::path& path, int old_fd, const header& h, std::int64_t new_len,
             const array& rows, bool sync) {
  shape_t s = h.shape;
  s[growth_axis(h)] = new_len;
  const std::string text = format_header(h.dtype, s, h.fortran_order);
  const std::uint64_t old_bytes = old_fd >= 0 ? h.data_size : 0;
  detail::atomic_file f(path);
  f.reserve(text.size() + old_bytes + rows.nbytes());
  f.write(std::as_bytes(std::span(text)));
  std::vector<std::byte> buf;
  for (std::uint64_t done = 0; done < old_bytes;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(old_bytes - done, 1u << 30));
    auto in_off = static_cast<off_t>(h.data_offset + done);
    const ssize_t n = ::copy_file_range(old_fd, &in_off, f.fd(), nullptr, want, 0);
    if (n > 0) {
      done += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
      detail::throw_os_error("copy failed", path, errno);
    // No copy_file_range here (old kernels, some filesystems): read and write.
    if (buf.empty()) buf.resize(std::size_t(1) << 20);
    const std::size_t k = detail::pread_full(
        old_fd, buf.data(), std::min<std::size_t>(want, buf.size()), h.data_offset + done, path);
    if (k == 0) throw error(errc::truncated, "file shrank while appending");
    f.write(std::span<const std::byte>(buf.data(), k));
    done += k;
  }
  const order o = h.fortran_order ? order::f : order::c;
  rows.for_each_chunk(
      o, [&](std::span<const std::byte> b) { f.write(b); }, std::size_t(8) << 20);
  f.commit(sync);
}

} // namespace

// ---- npy_appender ------------------------------------------------------------------

struct npy_appender::impl {
  std::filesystem::path path;
  append_options options;
  detail::fd_handle fd;
  npio::header h;
  std::uint64_t file_end = 0; // the file's size

  // The header text around the growth axis's length (from format_header
  // with h.version), so that an append formats one number, not the dtype;
  // empty `head_post` when the text could not be split (format_header then).
  std::string head_pre, head_post;
  // The header as last written by this appender (empty: not yet), so that
  // only the bytes that changed (the length's digits) are written.
  std::string head_written;

  void split_header() {
    head_pre.clear();
    head_post.clear();
    head_written.clear();
    const std::size_t ax = growth_axis(h);
    auto formatted =
        capture([&] { return format_header(h.dtype, h.shape, h.fortran_order, h.version); });
    if (!formatted) return; // commit's format_header will say why
    std::string text = std::move(formatted).value();
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
      text.pop_back();
    // 'shape' is the last key: its last occurrence is the key, not a field name.
    std::size_t at = text.rfind("'shape': (");
    if (at == std::string::npos) return;
    at += 10;
    for (std::size_t i = 0; i < ax; ++i) {
      at = text.find(", ", at);
      if (at == std::string::npos) return;
      at += 2;
    }
    const std::string num = std::to_string(h.shape[ax]);
    if (text.compare(at, num.size(), num) != 0) return;
    head_pre = text.substr(0, at);
    head_post = text.substr(at + num.size());
  }

  // header_in_place(h, n), from the split text when there is one.
  std::string header_text(std::int64_t n) const {
    if (head_post.empty()) return header_in_place(h, n);
    std::string out = head_pre;
    out += std::to_string(n);
    out += head_post;
    if (out.size() + 1 > h.data_offset) return {}; // no room
    out.append(static_cast<std::size_t>(h.data_offset) - out.size() - 1, ' ');
    out += '\n';
    const std::size_t pre = h.version.major == 1 ? 10 : 12;
    const std::uint64_t hlen = h.data_offset - pre;
    for (std::size_t k = 0; k < pre - 8; ++k)
      out[8 + k] = static_cast<char>((hlen >> (8 * k)) & 0xFF);
    return out;
  }

  // Writes the header text: the bytes that changed since the last write.
  void write_header(std::string text) {
    std::size_t b = 0, e = text.size();
    if (head_written.size() == text.size()) {
      while (b < e && text[b] == head_written[b])
        ++b;
      while (e > b && text[e - 1] == head_written[e - 1])
        --e;
    }
    // A write that fails midway leaves bytes of neither text: the next writes all.
    head_written.clear();
    if (b < e) write_at(fd.get(), std::as_bytes(std::span(text.data() + b, e - b)), b, path);
    head_written = std::move(text);
  }

  void open_locked() {
    fd = detail::open_file(path, O_RDWR);
    // Not waiting: an npy_appender of the same process holding the lock would
    // wait forever.
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        throw error(errc::io_error, "another npy_appender (or append) is appending to the file");
      if (errno != EINTR) detail::throw_os_error("cannot lock", path, errno);
    }
    h = detail::read_header_fd(fd.get(), path, options.max_header_size);
    if (h.dtype.has_object()) bad("cannot append to an object array (use save)");
    if (h.shape.empty()) bad("cannot append to a 0-d array");
    const std::uint64_t size = detail::file_size(fd.get(), path);
    file_end = size;
    if (size < h.data_offset + h.data_size)
      throw error(errc::truncated,
                  "file seems not fully written: expected " + std::to_string(h.data_size) +
                      " bytes of array data, found " + std::to_string(size - h.data_offset),
                  {}, {}, h.data_offset);
    split_header();
  }

  // Rows held back by options.buffer_bytes, in file order.
  std::vector<std::byte> pending;
  std::int64_t pending_rows = 0;

  void append(const array& rows) {
    const std::int64_t k = rows_for(h, rows);
    if (options.buffer_bytes == 0) return commit(rows, k);
    if (pending.size() + rows.nbytes() > options.buffer_bytes) flush();
    if (rows.nbytes() >= options.buffer_bytes) return commit(rows, k);
    if (pending.capacity() < options.buffer_bytes) pending.reserve(options.buffer_bytes);
    rows.for_each_chunk(h.fortran_order ? order::f : order::c, [&](std::span<const std::byte> b) {
      pending.insert(pending.end(), b.begin(), b.end());
    });
    pending_rows += k;
  }

  void flush() {
    if (pending_rows == 0) return;
    shape_t s = h.shape;
    s[growth_axis(h)] = pending_rows;
    const array rows(h.dtype, s, buffer::wrap(pending.data(), pending.size(), false), 0,
                     std::nullopt, h.fortran_order ? order::f : order::c);
    commit(rows, pending_rows);
    pending.clear();
    pending_rows = 0;
  }

  // Writes k rows (already checked): the rows, then the header.
  void commit(const array& rows, std::int64_t k) {
    const std::size_t ax = growth_axis(h);
    std::int64_t new_len = 0;
    std::uint64_t new_size = 0;
    if (__builtin_add_overflow(h.shape[ax], k, &new_len))
      throw error(errc::size_overflow, "the array would be too large");
    shape_t s = h.shape;
    s[ax] = new_len;
    if (detail::shape_nbytes(s, h.dtype.itemsize(), new_size) != detail::size_check::ok)
      throw error(errc::size_overflow, "array of shape " + shape_str(s) + " is too large");
    std::string text = header_text(new_len);
    if (text.empty()) {
      // No room in the header: a new file, renamed over this one.
      rewrite(path, fd.get(), h, new_len, rows, options.sync);
      fd = detail::fd_handle();
      open_locked();
      return;
    }
    const std::uint64_t end = h.data_offset + h.data_size;
    write_rows(fd.get(), h, rows, end, path);
    // Bytes left past the end by an interrupted append go (known from open:
    // while the file is locked, only this appender writes it).
    if (file_end > h.data_offset + new_size) {
      if (::ftruncate(fd.get(), static_cast<off_t>(h.data_offset + new_size)) != 0)
        detail::throw_os_error("cannot truncate", path, errno);
    }
    file_end = h.data_offset + new_size;
    if (options.sync) sync_data(fd.get(), path);
    write_header(std::move(text));
    if (options.sync) sync_data(fd.get(), path);
    h.shape = std::move(s);
    h.data_size = new_size;
  }
};

npy_appender::npy_appender(const std::filesystem::path& path, const append_options& options,
                           std::optional<dtype> dt, shape_t row_shape, bool fortran_order)
    : p_(std::make_unique<impl>()) {
  p_->path = path;
  p_->options = options;
  try {
    std::error_code ec;
    if (dt && !std::filesystem::exists(path, ec)) {
      shape_t s = std::move(row_shape);
      if (fortran_order)
        s.push_back(0);
      else
        s.insert(s.begin(), 0);
      const array empty(*dt, s, fortran_order ? order::f : order::c);
      npio::header h;
      h.dtype = empty.dtype();
      h.shape = s;
      h.fortran_order = fortran_order;
      rewrite(path, -1, h, 0, empty, options.sync);
    }
    p_->open_locked();
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

npy_appender::npy_appender(npy_appender&&) noexcept = default;
npy_appender& npy_appender::operator=(npy_appender&& o) noexcept {
  if (this != &o) {
    npy_appender old(std::move(*this)); // flushed by its destructor
    p_ = std::move(o.p_);
  }
  return *this;
}
npy_appender::~npy_appender() {
  if (p_) {
    try {
      p_->flush();
    } catch (const error&) {
      // Destructors do not throw: call flush() to see the error. The file
      // still loads as it was before the rows that were held back.
    }
  }
}

void npy_appender::flush() {
  if (!p_) throw error(errc::invalid_argument, "npy_appender was moved from");
  try {
    p_->flush();
  } catch (const error& e) {
    throw e.with_context(p_->path.string());
  }
}

void npy_appender::append(const array& rows) {
  if (!p_) throw error(errc::invalid_argument, "npy_appender was moved from");
  try {
    p_->append(rows);
  } catch (const error& e) {
    throw e.with_context(p_->path.string());
  }
}

const header& npy_appender::header() const noexcept {
  return p_->h;
}

std::int64_t npy_appender::rows() const noexcept {
  return p_->h.shape[growth_axis(p_->h)] + p_->pending_rows;
}

void append(const std::filesystem::path& path, const array& rows, const append_options& options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    // A new file holding `rows` as they are (np.save of them).
    try {
      if (rows.dtype().has_object()) bad("cannot append object arrays (use save)");
      if (rows.ndim() == 0) bad("cannot append a 0-d array");
      npio::header h;
      h.dtype = rows.dtype();
      h.shape = rows.shape();
      h.fortran_order = rows.ndim() > 1 && rows.is_f_contiguous() && !rows.is_c_contiguous();
      const std::int64_t n = h.shape[growth_axis(h)];
      h.shape[growth_axis(h)] = 0;
      rewrite(path, -1, h, n, rows, options.sync);
      return;
    } catch (const error& e) {
      throw e.with_context(path.string());
    }
  }
  append_options o = options;
  o.buffer_bytes = 0; // written at once: no copy into a buffer
  npy_appender a(path, o);
  a.append(rows);
}

// ---- load_rows ---------------------------------------------------------------------

array load_rows(const std::filesystem::path& path, std::int64_t begin, std::int64_t end,
                const load_options& options) {
  try {
    auto fd = detail::open_file(path, O_RDONLY);
    const std::uint64_t size = detail::file_size(fd.get(), path);
    const header h = detail::read_header_fd(fd.get(), path, detail::effective_max_header(options));
    if (h.dtype.has_object())
      throw error(errc::unsupported, "load_rows cannot slice object arrays (use load)");
    if (h.shape.empty()) bad("load_rows needs an array with at least one dimension");
    const std::int64_t n = h.shape[0];
    auto clip = [n](std::int64_t i) {
      if (i < 0) i = std::max<std::int64_t>(0, i + n);
      return std::min(i, n);
    };
    const std::int64_t b = clip(begin), e = std::max(b, clip(end));
    shape_t out_shape = h.shape;
    out_shape[0] = e - b;
    std::uint64_t nbytes = 0;
    (void)detail::shape_nbytes(out_shape, h.dtype.itemsize(), nbytes); // smaller than the file's
    if (nbytes > options.max_data_bytes)
      throw error(errc::limit_exceeded,
                  "slice of " + std::to_string(nbytes) + " bytes is larger than max_data_bytes");
    if (size < h.data_offset + h.data_size)
      throw error(errc::truncated,
                  "file seems not fully written: expected " + std::to_string(h.data_size) +
                      " bytes of array data, found " +
                      std::to_string(size > h.data_offset ? size - h.data_offset : 0),
                  {}, {}, h.data_offset);
    const order o = h.fortran_order ? order::f : order::c;
    auto buf = buffer::allocate(static_cast<std::size_t>(nbytes), false);
    const std::size_t item = h.dtype.itemsize();
    if (!h.fortran_order || h.shape.size() == 1 || nbytes == 0) {
      const std::uint64_t row = n ? h.data_size / static_cast<std::uint64_t>(n) : 0;
      const std::uint64_t at = h.data_offset + row * static_cast<std::uint64_t>(b);
      const std::size_t got =
          detail::pread_full(fd.get(), buf->data(), static_cast<std::size_t>(nbytes), at, path);
      if (got < nbytes) throw error(errc::truncated, "file shrank while reading", {}, {}, at + got);
    } else {
      // Fortran order: column c (all axes but 0) holds rows b..e at
      // data_offset + (c * n + b) * item. Columns close together are read in
      // one window of at most 1 MiB; far apart, each run on its own.
      const std::uint64_t run = static_cast<std::uint64_t>(e - b) * item;
      const std::uint64_t stride = static_cast<std::uint64_t>(n) * item;
      const std::uint64_t cols = nbytes / run;
      constexpr std::uint64_t window = std::uint64_t(1) << 20;
      const std::uint64_t per = run >= window ? 1 : 1 + (window - run) / stride;
      std::vector<std::byte> scratch;
      for (std::uint64_t c = 0; c < cols;) {
        const std::uint64_t k = std::min(per, cols - c);
        const std::uint64_t at = h.data_offset + c * stride + static_cast<std::uint64_t>(b) * item;
        std::byte* dst = buf->data() + c * run;
        if (k == 1) {
          if (detail::pread_full(fd.get(), dst, static_cast<std::size_t>(run), at, path) < run)
            throw error(errc::truncated, "file shrank while reading", {}, {}, at);
        } else {
          const std::uint64_t span = (k - 1) * stride + run;
          scratch.resize(static_cast<std::size_t>(span));
          if (detail::pread_full(fd.get(), scratch.data(), scratch.size(), at, path) < span)
            throw error(errc::truncated, "file shrank while reading", {}, {}, at);
          for (std::uint64_t j = 0; j < k; ++j)
            std::memcpy(dst + j * run, scratch.data() + j * stride, static_cast<std::size_t>(run));
        }
        c += k;
      }
    }
    return array(h.dtype, out_shape, std::move(buf), 0, std::nullopt, o);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

} // namespace v1
} // namespace npio
