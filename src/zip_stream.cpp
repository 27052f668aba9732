// An .npz member read in order with bounded memory: stored members by pread,
// deflated ones inflated through zlib into the caller's buffer. The CRC-32 is
// checked once the last byte has been read.
#include "rows_internal.hpp"

#include <cstdio>
#include <vector>
#include <zlib.h>

namespace npio {
inline namespace v1 {
namespace detail {

namespace {

std::string hex(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

class member_stream final : public byte_stream {
public:
  member_stream(std::shared_ptr<const zip::source> src, const zip::entry& e)
      : src_(std::move(src)), e_(e) {
    if (e_.method == zip::method_deflate) {
      if (inflateInit2(&z_, -15) != Z_OK) throw error(errc::limit_exceeded, "out of memory (zlib)");
      z_live_ = true;
      in_.resize(std::size_t(256) << 10);
    } else if (e_.method != zip::method_stored) {
      throw error(errc::unsupported,
                  "streaming reads support stored and deflated members, not compression method " +
                      std::to_string(e_.method) + " (use npz_file::at)",
                  src_->label(), e_.name);
    }
  }
  member_stream(const member_stream&) = delete;
  member_stream& operator=(const member_stream&) = delete;
  ~member_stream() override {
    if (z_live_) inflateEnd(&z_);
  }

  std::uint64_t left() override { return e_.usize - out_; } // declared, checked by check_member
  std::size_t read(std::byte* dst, std::size_t n) override {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, e_.usize - out_));
    if (n == 0) return 0;
    if (e_.method == zip::method_stored) {
      src_->read(e_.data_offset + out_, std::span(dst, n));
    } else {
      z_.next_out = reinterpret_cast<Bytef*>(dst);
      std::size_t left = n;
      while (left > 0) {
        refill();
        const auto step = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
        z_.avail_out = step;
        const int r = inflate(&z_, Z_NO_FLUSH);
        const std::size_t made = step - z_.avail_out;
        left -= made;
        if (r == Z_STREAM_END) {
          ended_ = true;
          break;
        }
        if (r != Z_OK && !(r == Z_BUF_ERROR && made > 0))
          throw error(errc::zip_bad_archive, "invalid deflate data", src_->label(), e_.name,
                      e_.data_offset + in_pos_);
        if (made == 0 && z_.avail_in == 0 && in_pos_ == e_.csize) break;
      }
      if (left > 0)
        throw error(errc::zip_bad_archive,
                    "deflate data ends after " + std::to_string(out_ + n - left) + " of " +
                        std::to_string(e_.usize) + " declared bytes",
                    src_->label(), e_.name);
    }
    crc_ = zip::crc32(crc_, std::span<const std::byte>(dst, n));
    out_ += n;
    return n;
  }

  void finish() override {
    // Bytes the rows did not need (none in a well-formed member) still count.
    std::vector<std::byte> rest(std::size_t(64) << 10);
    while (out_ < e_.usize)
      read(rest.data(), rest.size());
    if (z_live_ && !ended_) {
      // Every declared byte is out: only the end of the stream may remain,
      // as npz_file::at requires (found by fuzz/fuzz_npy_reader.cpp).
      for (;;) {
        refill();
        std::byte probe[1];
        z_.next_out = reinterpret_cast<Bytef*>(probe);
        z_.avail_out = 1;
        const int r = inflate(&z_, Z_NO_FLUSH);
        if (z_.avail_out == 0)
          throw error(errc::zip_bomb,
                      "deflate data inflates past the declared size " + std::to_string(e_.usize),
                      src_->label(), e_.name);
        if (r == Z_STREAM_END) break;
        if ((r != Z_OK && r != Z_BUF_ERROR) || (z_.avail_in == 0 && in_pos_ == e_.csize))
          throw error(errc::zip_bad_archive,
                      "deflate data does not end after its " + std::to_string(e_.usize) +
                          " declared bytes",
                      src_->label(), e_.name, e_.data_offset + in_pos_);
      }
      ended_ = true;
    }
    if (crc_ != e_.crc)
      throw error(errc::zip_crc,
                  "CRC-32 mismatch: directory says " + hex(e_.crc) + ", data has " + hex(crc_),
                  src_->label(), e_.name);
  }

private:
  // More compressed bytes into in_ once zlib has used the last.
  void refill() {
    if (z_.avail_in != 0 || in_pos_ == e_.csize) return;
    const auto k =
        static_cast<std::size_t>(std::min<std::uint64_t>(in_.size(), e_.csize - in_pos_));
    src_->read(e_.data_offset + in_pos_, std::span(in_.data(), k));
    in_pos_ += k;
    z_.next_in = reinterpret_cast<Bytef*>(in_.data());
    z_.avail_in = static_cast<uInt>(k);
  }

  std::shared_ptr<const zip::source> src_;
  zip::entry e_;
  z_stream z_{};
  bool z_live_ = false;
  bool ended_ = false; // inflate said Z_STREAM_END
  std::vector<std::byte> in_;
  std::uint64_t in_pos_ = 0, out_ = 0;
  std::uint32_t crc_ = 0;
};

} // namespace

std::unique_ptr<byte_stream> open_member_stream(std::shared_ptr<const zip::source> src,
                                                const zip::entry& e) {
  return std::make_unique<member_stream>(std::move(src), e);
}

} // namespace detail
} // namespace v1
} // namespace npio
