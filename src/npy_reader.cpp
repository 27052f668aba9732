// npy_reader: chunks of rows from a .npy file or an .npz member, holding one
// chunk at a time.
#include "file.hpp"
#include "npy_framing.hpp"
#include "rows_internal.hpp"
#include "shape_size.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <npio/rows.hpp>

namespace npio {
inline namespace v1 {

namespace {

// A file from its current position, read with read(2).
class fd_stream final : public detail::byte_stream {
public:
  fd_stream(detail::fd_handle fd, std::filesystem::path p)
      : fd_(std::move(fd)), path_(std::move(p)) {}
  std::size_t read(std::byte* dst, std::size_t n) override {
    const std::size_t got = detail::read_full(fd_.get(), dst, n, path_);
    pos_ += got;
    return got;
  }
  // The size now, not at open: rows appended before the header that names
  // them (as append writes them) are there.
  std::uint64_t left() override {
    const std::uint64_t size = detail::file_size(fd_.get(), path_);
    return size > pos_ ? size - pos_ : 0;
  }

private:
  detail::fd_handle fd_;
  std::filesystem::path path_;
  std::uint64_t pos_ = 0; // bytes read: the file is read from its start
};

} // namespace

struct npy_reader::impl {
  std::unique_ptr<detail::byte_stream> in;
  npio::header h;
  load_options options;
  std::string file, member;
  std::size_t axis = 0;
  std::int64_t rows = 1, pos = 0;
  std::uint64_t row_bytes = 0; // bytes of one row along the growth axis
  bool finished = false;

  // Reads the header from the stream and checks that rows can be streamed.
  void start() {
    std::vector<std::byte> head;
    h = detail::read_header_stream([&](std::byte* dst, std::size_t n) { return in->read(dst, n); },
                                   head, detail::effective_max_header(options));
    if (h.dtype.has_object())
      throw error(errc::unsupported, "npy_reader cannot stream object arrays (use load)");
    // Bytes read past a tiny header belong to the data.
    if (h.data_offset < head.size())
      carry.assign(head.begin() + static_cast<std::ptrdiff_t>(h.data_offset), head.end());
    axis = h.fortran_order && !h.shape.empty() ? h.shape.size() - 1 : 0;
    rows = h.shape.empty() ? 1 : h.shape[axis];
    row_bytes = rows ? h.data_size / static_cast<std::uint64_t>(rows) : 0;
  }

  std::vector<std::byte> carry;

  std::size_t read(std::byte* dst, std::size_t n) {
    std::size_t got = std::min(n, carry.size());
    if (got) {
      std::memcpy(dst, carry.data(), got);
      carry.erase(carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(got));
    }
    return got + (got < n ? in->read(dst + got, n - got) : 0);
  }
};

npy_reader::npy_reader(std::unique_ptr<impl> p) : p_(std::move(p)) {}

npy_reader::npy_reader(const std::filesystem::path& path, const load_options& options)
    : p_(std::make_unique<impl>()) {
  p_->options = options;
  p_->file = path.string();
  try {
    auto fd = detail::open_file(path, O_RDONLY);
    (void)detail::file_size(fd.get(), path);
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    p_->in = std::make_unique<fd_stream>(std::move(fd), path);
    p_->start();
  } catch (const error& e) {
    throw e.with_context(path.string());
  }
}

npy_reader::npy_reader(npy_reader&&) noexcept = default;
npy_reader& npy_reader::operator=(npy_reader&&) noexcept = default;
npy_reader::~npy_reader() = default;

const header& npy_reader::header() const noexcept {
  return p_->h;
}
std::size_t npy_reader::axis() const noexcept {
  return p_->axis;
}
std::int64_t npy_reader::rows() const noexcept {
  return p_->rows;
}
std::int64_t npy_reader::position() const noexcept {
  return p_->pos;
}

std::optional<array> npy_reader::next(std::int64_t n) {
  auto& p = *p_;
  try {
    if (n < 1) throw error(errc::invalid_argument, "npy_reader::next needs at least one row");
    if (p.pos >= p.rows) {
      if (!p.finished) {
        p.finished = true;
        p.in->finish();
      }
      return std::nullopt;
    }
    const std::int64_t k = std::min<std::int64_t>(n, p.rows - p.pos);
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(p.row_bytes, static_cast<std::uint64_t>(k), &bytes) ||
        bytes > p.options.max_data_bytes || bytes > std::numeric_limits<std::size_t>::max() / 2)
      throw error(errc::limit_exceeded,
                  "a chunk of " + std::to_string(k) + " rows is larger than max_data_bytes");
    const std::uint64_t at = p.h.data_offset + p.row_bytes * static_cast<std::uint64_t>(p.pos);
    // Nothing is allocated for bytes that are not there (a header may claim
    // any shape): a short file is truncated before the chunk is allocated.
    const std::uint64_t in_left = p.in->left();
    const std::uint64_t avail = in_left > std::numeric_limits<std::uint64_t>::max() - p.carry.size()
                                    ? std::numeric_limits<std::uint64_t>::max()
                                    : in_left + p.carry.size();
    if (bytes > avail)
      throw error(errc::truncated,
                  "file seems not fully written: expected " + std::to_string(p.h.data_size) +
                      " bytes of array data, found " + std::to_string(at - p.h.data_offset + avail),
                  {}, {}, at + avail);
    auto buf = buffer::allocate(static_cast<std::size_t>(bytes), false);
    const std::size_t got = p.read(buf->data(), static_cast<std::size_t>(bytes));
    if (got < bytes)
      throw error(errc::truncated,
                  "file seems not fully written: expected " + std::to_string(p.h.data_size) +
                      " bytes of array data, found " + std::to_string(at + got - p.h.data_offset),
                  {}, {}, at + got);
    p.pos += k;
    shape_t s = p.h.shape;
    if (!s.empty()) s[p.axis] = k;
    return array(p.h.dtype, std::move(s), std::move(buf), 0, std::nullopt,
                 p.h.fortran_order ? order::f : order::c);
  } catch (const error& e) {
    throw e.with_context(p.file, p.member);
  }
}

namespace detail {

npy_reader make_npy_reader(std::unique_ptr<byte_stream> s, const load_options& options,
                           std::string file, std::string member) {
  auto p = std::make_unique<npy_reader::impl>();
  p->in = std::move(s);
  p->options = options;
  p->file = std::move(file);
  p->member = std::move(member);
  try {
    p->start();
  } catch (const error& e) {
    throw e.with_context(p->file, p->member);
  }
  return npy_reader(std::move(p));
}

} // namespace detail
} // namespace v1
} // namespace npio
