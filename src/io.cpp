// np.load and np.save for .npy: one reader over files, bytes and streams,
// and atomic writers.
#include "file.hpp"
#include "hooks.hpp"
#include "shape_size.hpp"
#include "sniff.hpp"

#include <array>
#include <cstring>
#include <fcntl.h>
#include <istream>
#include <limits>
#include <npio/io.hpp>
#include <ostream>

namespace npio {
inline namespace v1 {

// ---- loaded ------------------------------------------------------------------------

loaded::loaded(npio::array a) : kind_(kind::array), array_(std::move(a)) {}
loaded::loaded(std::shared_ptr<npz_file> z) : kind_(kind::npz), npz_(std::move(z)) {}
loaded::loaded(std::shared_ptr<py::value> v) : kind_(kind::value), value_(std::move(v)) {}
loaded::loaded(loaded&&) noexcept = default;
loaded& loaded::operator=(loaded&&) noexcept = default;
loaded::~loaded() = default;

namespace {
const char* kind_name(loaded::kind k) {
  switch (k) {
  case loaded::kind::array:
    return "a .npy array";
  case loaded::kind::npz:
    return "an .npz archive";
  default:
    return "a pickled Python object";
  }
}
} // namespace

npio::array& loaded::array() {
  if (kind_ != kind::array)
    throw error(errc::type_mismatch,
                std::string("the file holds ") + kind_name(kind_) + ", not a .npy array");
  return array_;
}

npz_file& loaded::npz() {
  if (kind_ != kind::npz)
    throw error(errc::type_mismatch,
                std::string("the file holds ") + kind_name(kind_) + ", not an .npz archive");
  return *npz_;
}

py::value& loaded::value() {
  if (kind_ != kind::value)
    throw error(errc::type_mismatch, std::string("the file holds ") + kind_name(kind_) +
                                         ", not a pickled Python object");
  return *value_;
}

// ---- sources -----------------------------------------------------------------------

namespace {

constexpr char npy_magic[] = "\x93NUMPY";

// Sequential input with an optionally known remaining length.
class source {
public:
  virtual ~source() = default;
  // Reads up to n bytes; fewer only at the end.
  virtual std::size_t read(std::byte* dst, std::size_t n) = 0;
  virtual std::optional<std::uint64_t> remaining() const = 0;
  // The bytes left, when they are already in memory (not consumed).
  virtual std::optional<std::span<const std::byte>> rest_in_memory() const { return std::nullopt; }
  // Everything left, bounded by `limit` (checked as it grows).
  std::vector<std::byte> read_rest(std::uint64_t limit) {
    std::vector<std::byte> out;
    if (auto r = remaining()) {
      if (*r > limit) throw error(errc::limit_exceeded, "file is larger than max_data_bytes");
      out.resize(static_cast<std::size_t>(*r));
      out.resize(read(out.data(), out.size()));
      return out;
    }
    std::size_t step = 1 << 16;
    for (;;) {
      const std::size_t at = out.size();
      if (at + step > limit) step = static_cast<std::size_t>(limit - at) + 1;
      out.resize(at + step);
      const std::size_t got = read(out.data() + at, step);
      out.resize(at + got);
      if (out.size() > limit)
        throw error(errc::limit_exceeded, "input is larger than max_data_bytes");
      if (got < step) return out;
      step = std::min<std::size_t>(step * 2, std::size_t(1) << 28);
    }
  }
};

// A file read through one 4 KiB buffer: the first read() brings the preamble,
// the header and (for small files) all the data, so a small .npy costs open,
// one read and close; bulk data then goes straight to its destination. A
// first read that comes back short has met the end of the file, so only a
// file larger than the buffer asks fstat for its size (at most once).
class fd_source final : public source {
public:
  fd_source(detail::fd_handle fd, const std::filesystem::path& p) : fd_(std::move(fd)), path_(p) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    std::size_t got = 0;
    if (!filled_) {
      filled_ = true;
      if (n < buf_.size()) {
        end_ = detail::read_full(fd_.get(), buf_.data(), buf_.size(), path_);
        if (end_ < buf_.size()) left_ = 0; // the whole file
      }
    }
    if (at_ < end_) {
      got = std::min(n, end_ - at_);
      std::memcpy(dst, buf_.data() + at_, got);
      at_ += got;
    }
    if (got < n && file_left() > 0) {
      const std::size_t more = detail::read_full(fd_.get(), dst + got, n - got, path_);
      *left_ -= std::min<std::uint64_t>(*left_, more);
      got += more;
    }
    return got;
  }
  std::optional<std::uint64_t> remaining() const override { return file_left() + (end_ - at_); }

private:
  // Bytes in the file not yet read from it.
  std::uint64_t file_left() const {
    if (!left_) {
      const std::uint64_t size = detail::file_size(fd_.get(), path_);
      left_ = size > end_ ? size - end_ : 0;
    }
    return *left_;
  }

  detail::fd_handle fd_;
  const std::filesystem::path& path_;
  mutable std::optional<std::uint64_t> left_; // unknown until needed
  std::array<std::byte, 4096> buf_;
  std::size_t at_ = 0, end_ = 0;
  bool filled_ = false;
};

class span_source final : public source {
public:
  explicit span_source(std::span<const std::byte> b) : b_(b) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    n = std::min(n, b_.size() - at_);
    if (n) std::memcpy(dst, b_.data() + at_, n);
    at_ += n;
    return n;
  }
  std::optional<std::uint64_t> remaining() const override { return b_.size() - at_; }
  std::optional<std::span<const std::byte>> rest_in_memory() const override {
    return b_.subspan(at_);
  }

private:
  std::span<const std::byte> b_;
  std::size_t at_ = 0;
};

class stream_source final : public source {
public:
  explicit stream_source(std::istream& in) : in_(in) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    in_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (in_.bad()) throw error(errc::io_error, "stream read failed");
    return static_cast<std::size_t>(in_.gcount());
  }
  std::optional<std::uint64_t> remaining() const override { return std::nullopt; }

private:
  std::istream& in_;
};

using detail::effective_max_header;

// Reads the header through `src`, given the 6 magic bytes already read.
header read_header_from(source& src, std::vector<std::byte>& prefix, std::size_t max_header) {
  prefix.resize(12);
  std::size_t have = 6 + src.read(prefix.data() + 6, 6);
  prefix.resize(have);
  if (have >= 10) {
    const std::size_t lenfield = static_cast<std::uint8_t>(prefix[6]) == 1 ? 2 : 4;
    std::uint64_t hlen = 0;
    for (std::size_t i = 0; i < lenfield && 8 + i < have; ++i)
      hlen |= std::uint64_t(static_cast<std::uint8_t>(prefix[8 + i])) << (8 * i);
    const std::uint64_t need = 8 + lenfield + hlen;
    // Read the header text only once its length passed the limit (checked by read_header).
    const std::uint64_t byte_limit = std::uint64_t(max_header) * 4;
    if (have >= 8 + lenfield && hlen <= byte_limit && need > have) {
      // Grow with the bytes that arrive: a stream's length is unknown.
      while (have < need) {
        const std::size_t step = static_cast<std::size_t>(
            std::min<std::uint64_t>(need - have, std::max<std::size_t>(have, 1 << 16)));
        prefix.resize(have + step);
        const std::size_t r = src.read(prefix.data() + have, step);
        have += r;
        prefix.resize(have);
        if (r < step) break;
      }
    }
  }
  return read_header(prefix, max_header);
}

// Array data for header `h`; `extra` holds bytes already read past the header.
array read_data(source& src, const header& h, std::span<const std::byte> extra,
                const load_options& o) {
  const std::uint64_t n = h.data_size;
  if (n > o.max_data_bytes)
    throw error(errc::limit_exceeded,
                "array data of " + std::to_string(n) + " bytes is larger than max_data_bytes", {},
                {}, h.data_offset);
  const std::size_t pre = std::min<std::size_t>(extra.size(), static_cast<std::size_t>(n));
  auto short_read = [&](std::uint64_t got) {
    throw error(errc::truncated,
                "file seems not fully written: expected " + std::to_string(n) +
                    " bytes of array data, found " + std::to_string(got),
                {}, {}, h.data_offset);
  };
  if (auto r = src.remaining(); r && *r + pre < n) short_read(*r + pre);
  std::shared_ptr<buffer> buf;
  if (!src.remaining() && n > (std::uint64_t(1) << 26)) {
    // Unknown length: grow with the bytes that really arrive, never from the header's number.
    std::vector<std::byte> v(extra.begin(), extra.begin() + static_cast<std::ptrdiff_t>(pre));
    while (v.size() < n) {
      const std::size_t at = v.size();
      const std::size_t step = std::min<std::uint64_t>(n - at, std::max<std::size_t>(at, 1 << 26));
      v.resize(at + step);
      const std::size_t got = src.read(v.data() + at, step);
      if (got < step) short_read(at + got);
    }
    auto owner = std::make_shared<std::vector<std::byte>>(std::move(v));
    buf = buffer::adopt(owner->data(), owner->size(), owner, true);
  } else {
    buf = buffer::allocate(static_cast<std::size_t>(n), false);
    if (pre) std::memcpy(buf->data(), extra.data(), pre);
    const std::size_t got = pre + src.read(buf->data() + pre, static_cast<std::size_t>(n) - pre);
    if (got < n) short_read(got);
  }
  return array(h.dtype, h.shape, std::move(buf), 0, std::nullopt,
               h.fortran_order ? order::f : order::c);
}

loaded load_from(source& src, const load_options& o, const std::filesystem::path* path) {
  std::vector<std::byte> prefix;
  prefix.reserve(256); // a typical header (128 bytes) without regrowing
  prefix.resize(6);
  const std::size_t got = src.read(prefix.data(), 6);
  prefix.resize(got);
  if (got == 0) throw error(errc::truncated, "No data left in file", {}, {}, 0);
  const bool zip = got >= 4 && prefix[0] == std::byte{'P'} && prefix[1] == std::byte{'K'} &&
                   ((prefix[2] == std::byte{3} && prefix[3] == std::byte{4}) ||
                    (prefix[2] == std::byte{5} && prefix[3] == std::byte{6}));
  if (zip) {
    if (path) return detail::open_npz(*path, o);
    std::vector<std::byte> all = src.read_rest(o.max_data_bytes);
    all.insert(all.begin(), prefix.begin(), prefix.end());
    return detail::open_npz(std::move(all), o);
  }
  if (got < 6 || std::memcmp(prefix.data(), npy_magic, 6) != 0) {
    // Neither .npy nor zip: np.load would unpickle it. Only what starts like a
    // pickle is one; anything else is bad_magic, showing its first bytes.
    if (got == 6) {
      prefix.resize(detail::sniff_bytes);
      prefix.resize(6 + src.read(prefix.data() + 6, detail::sniff_bytes - 6));
    }
    const bool plausible = detail::looks_like_pickle(prefix);
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
  const header h = read_header_from(src, prefix, effective_max_header(o));
  const auto extra = std::span<const std::byte>(prefix).subspan(
      std::min<std::size_t>(prefix.size(), static_cast<std::size_t>(h.data_offset)));
  if (h.dtype.has_object()) {
    if (!o.allow_pickle)
      throw error(errc::pickle_disallowed,
                  "Object arrays cannot be loaded when allow_pickle=False");
    // Bytes in memory are read in place when the header left none over.
    if (const auto mem = src.rest_in_memory(); mem && extra.empty()) {
      if (mem->size() > o.max_data_bytes)
        throw error(errc::limit_exceeded, "file is larger than max_data_bytes");
      return detail::read_object_npy(*mem, h, o);
    }
    if (const auto left = src.remaining()) {
      // One read into fresh (huge) pages: no zero fill, no second copy.
      if (*left > o.max_data_bytes)
        throw error(errc::limit_exceeded, "file is larger than max_data_bytes");
      const std::size_t n = extra.size() + static_cast<std::size_t>(*left);
      const auto buf = buffer::allocate(n, false);
      if (!extra.empty()) std::memcpy(buf->data(), extra.data(), extra.size());
      const std::size_t have =
          extra.size() + src.read(buf->data() + extra.size(), n - extra.size());
      return detail::read_object_npy(std::span<const std::byte>(buf->data(), have), h, o);
    }
    std::vector<std::byte> payload(extra.begin(), extra.end());
    std::vector<std::byte> rest = src.read_rest(o.max_data_bytes);
    payload.insert(payload.end(), rest.begin(), rest.end());
    return detail::read_object_npy(payload, h, o);
  }
  return loaded(read_data(src, h, extra, o));
}

} // namespace

loaded load(const std::filesystem::path& path, const load_options& options) {
  try {
    if (options.mmap_mode == mmap_mode::r || options.mmap_mode == mmap_mode::c) {
      // One open and one read for the header (the other modes open for writing).
      if (auto a = detail::map_npy_or_zip(path, options.mmap_mode, effective_max_header(options)))
        return loaded(std::move(*a));
    }
    if (options.mmap_mode != mmap_mode::none) {
      // .npz archives map their own members; everything else goes to open_memmap.
      auto fd = detail::open_file(path, O_RDONLY);
      std::byte head[6] = {};
      const std::size_t n = detail::read_full(fd.get(), head, 6, path);
      if (n >= 4 && head[0] == std::byte{'P'} && head[1] == std::byte{'K'})
        return detail::open_npz(path, options);
      // As np.load: an empty file is "No data left in file", and a file without
      // the .npy magic is a pickle (refused without allow_pickle), mapped or not.
      if (n == 0) throw error(errc::truncated, "No data left in file", {}, {}, 0);
      if (n < 6 || std::memcmp(head, npy_magic, 6) != 0) {
        fd_source src(detail::open_file(path, O_RDONLY), path);
        return load_from(src, options, &path);
      }
      if (options.mmap_mode == mmap_mode::w_plus)
        throw error(errc::invalid_argument,
                    "mmap_mode w+ creates a file and needs a dtype and shape: use open_memmap");
      return loaded(open_memmap(path, options.mmap_mode, std::nullopt, std::nullopt, false,
                                std::nullopt, effective_max_header(options)));
    }
    fd_source src(detail::open_file(path, O_RDONLY), path);
    return load_from(src, options, &path);
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

loaded load(std::span<const std::byte> bytes, const load_options& options) {
  if (options.mmap_mode != mmap_mode::none)
    throw error(errc::invalid_argument, "mmap_mode needs a file path, not bytes in memory");
  span_source src(bytes);
  return load_from(src, options, nullptr);
}

loaded load(std::istream& in, const load_options& options) {
  if (options.mmap_mode != mmap_mode::none)
    throw error(errc::invalid_argument, "mmap_mode needs a file path, not a stream");
  stream_source src(in);
  return load_from(src, options, nullptr);
}

result<loaded> try_load(const std::filesystem::path& path, const load_options& options) noexcept {
  return capture([&] { return load(path, options); });
}

result<loaded> try_load(std::span<const std::byte> bytes, const load_options& options) noexcept {
  return capture([&] { return load(bytes, options); });
}

// ---- saving ------------------------------------------------------------------------

namespace {

// The bytes of a .npy: header, then either raw data (in the order the header
// says) or an object pickle. `sink` receives consecutive pieces.
template <class Sink>
void emit_npy(const array& a, const save_options& o, Sink&& sink, std::uint64_t* total = nullptr) {
  const bool fortran = a.is_f_contiguous() && !a.is_c_contiguous() && a.ndim() > 1;
  const std::string head = format_header(a.dtype(), a.shape(), fortran, o.version);
  if (a.dtype().has_object()) {
    if (!o.allow_pickle)
      throw error(errc::pickle_disallowed, "Object arrays cannot be saved when allow_pickle=False");
    const std::vector<std::byte> payload = detail::write_object_payload(a);
    if (total) *total = head.size() + payload.size();
    sink(std::as_bytes(std::span(head)));
    sink(std::span<const std::byte>(payload));
    return;
  }
  if (total) *total = head.size() + a.nbytes();
  sink(std::as_bytes(std::span(head)));
  a.for_each_chunk(fortran ? order::f : order::c, sink, std::size_t(8) << 20);
}

} // namespace

std::filesystem::path npy_path(const std::filesystem::path& path) {
  const std::string s = path.string();
  if (s.size() >= 4 && s.compare(s.size() - 4, 4, ".npy") == 0) return path;
  return std::filesystem::path(s + ".npy");
}

void save(const std::filesystem::path& path, const array& a, const save_options& options) {
  const auto target = npy_path(path);
  try {
    detail::atomic_file f(target);
    if (a.dtype().has_object()) {
      emit_npy(a, options, [&](std::span<const std::byte> s) { f.write(s); });
    } else {
      const bool fortran = a.is_f_contiguous() && !a.is_c_contiguous() && a.ndim() > 1;
      const std::string head = format_header(a.dtype(), a.shape(), fortran, options.version);
      f.reserve(head.size() + a.nbytes());
      f.write(std::as_bytes(std::span(head)));
      a.for_each_chunk(
          fortran ? order::f : order::c, [&](std::span<const std::byte> s) { f.write(s); },
          std::size_t(64) << 20);
    }
    f.commit(options.sync);
  } catch (const error& e) {
    throw e.with_context(target.string());
  }
}

void save(std::ostream& out, const array& a, const save_options& options) {
  emit_npy(a, options, [&](std::span<const std::byte> s) {
    out.write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
    if (!out) throw error(errc::io_error, "stream write failed");
  });
}

std::vector<std::byte> save_bytes(const array& a, const save_options& options) {
  std::vector<std::byte> out;
  bool reserved = false;
  emit_npy(a, options, [&](std::span<const std::byte> s) {
    if (!reserved) out.reserve(s.size() + a.nbytes()), reserved = true;
    out.insert(out.end(), s.begin(), s.end());
  });
  return out;
}

// ---- npy_writer --------------------------------------------------------------------

struct npy_writer::impl {
  detail::atomic_file file;
  std::uint64_t left;
  bool sync;
};

npy_writer::npy_writer(const std::filesystem::path& path, const dtype& dt, const shape_t& shape,
                       bool fortran_order, const save_options& options) {
  const auto target = npy_path(path);
  try {
    if (dt.has_object())
      throw error(errc::invalid_argument, "npy_writer cannot stream object arrays; use save");
    const array probe(dt, shape_t{0}); // validates the dtype
    // As open_memmap(w+) and NumPy's arrays: a subarray dtype's dimensions
    // join the shape, and the header holds its base.
    shape_t full = shape;
    for (auto d : dt.shape())
      full.push_back(d);
    const std::uint64_t n = detail::checked_nbytes(full, probe.dtype().itemsize());
    const std::string head = format_header(probe.dtype(), full, fortran_order, options.version);
    detail::atomic_file f(target);
    f.reserve(head.size() + n);
    f.write(std::as_bytes(std::span(head)));
    p_ = std::make_unique<impl>(impl{std::move(f), n, options.sync});
  } catch (const error& e) {
    throw e.with_context(target.string());
  }
}

npy_writer::npy_writer(npy_writer&&) noexcept = default;
npy_writer::~npy_writer() = default;

void npy_writer::write(std::span<const std::byte> bytes) {
  if (!p_) throw error(errc::invalid_argument, "npy_writer was already committed");
  if (bytes.size() > p_->left)
    throw error(errc::out_of_range, "npy_writer: more bytes than the array holds",
                p_->file.target().string());
  p_->file.write(bytes);
  p_->left -= bytes.size();
}

void npy_writer::commit() {
  if (!p_) throw error(errc::invalid_argument, "npy_writer was already committed");
  if (p_->left)
    throw error(errc::truncated,
                "npy_writer: " + std::to_string(p_->left) + " bytes of array data still expected",
                p_->file.target().string());
  p_->file.commit(p_->sync);
  p_.reset();
}

std::uint64_t npy_writer::remaining() const noexcept {
  return p_ ? p_->left : 0;
}

} // namespace v1
} // namespace npio
