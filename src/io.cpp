// The .npy layer: an array's raw data read after its header (from a file,
// bytes or a stream; src/npy_io.hpp), and npy_writer. It knows nothing of
// pickles or archives: np.load's dispatcher (src/load.cpp) sits on top.
#include "npy_io.hpp"
#include "shape_size.hpp"

#include <cstring>
#include <npio/io.hpp>

namespace npio {
inline namespace v1 {

namespace detail {

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

} // namespace detail

std::filesystem::path npy_path(const std::filesystem::path& path) {
  const std::string s = path.string();
  if (s.size() >= 4 && s.compare(s.size() - 4, 4, ".npy") == 0) return path;
  return std::filesystem::path(s + ".npy");
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
