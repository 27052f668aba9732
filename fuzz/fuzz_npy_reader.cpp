// Fuzzes npy_reader, the chunked reader of a .npy file or an .npz member.
// The first input byte picks the source and the chunk size: bit 0 clear, the
// rest is a .npy file (held in a memfd, opened by its /proc path as a user's
// file would be); bit 0 set, the rest is an .npz archive and every .npy member
// is streamed (stored members read in place, deflated ones inflated). Bits 1-7
// give the rows per chunk: v < 64 asks for 1 + v rows, else 2^(v - 64) rows.
//
// Beyond "no crash, no sanitizer report": every chunk has the header's shape
// with min(n, rows left) along the growth axis and position() advances by it;
// a stream read to the end gives exactly the file's data bytes, and the array
// that load (or npz_file::at) returns for the same bytes, in the same order;
// a file load accepts, the reader reads to the end. Any mismatch aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <npio/io.hpp>
#include <npio/npz.hpp>
#include <npio/rows.hpp>
#include <optional>
#include <span>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

// .npz members: at() loads a whole member, so keep bombs cheap. A .npy file is
// read with the defaults (no max_data_bytes): the reader must not trust the
// header's sizes before the bytes are there.
npio::load_options npz_options() {
  npio::load_options o;
  o.max_data_bytes = std::uint64_t(64) << 20;
  return o;
}

// Reads every chunk, checking each against the header; returns the bytes read
// in file order, or nullopt when next() threw an npio::error. Stops (nullopt)
// after 4096 chunks: a huge row count of zero-byte rows is legal, just long.
std::optional<std::vector<std::byte>> drain(npio::npy_reader& r, std::int64_t n) {
  const npio::header& h = r.header();
  require(!h.dtype.has_object());
  require(r.axis() == (h.fortran_order && !h.shape.empty() ? h.shape.size() - 1 : 0));
  require(r.rows() == (h.shape.empty() ? 1 : h.shape[r.axis()]));
  require(r.position() == 0);
  std::vector<std::byte> out;
  try {
    for (int calls = 0; calls < 4096; ++calls) {
      const std::int64_t before = r.position();
      auto c = r.next(n);
      if (!c) {
        require(before == r.rows());
        require(out.size() == h.data_size);
        // At the end, next keeps saying so.
        require(!r.next(n).has_value());
        return out;
      }
      const std::int64_t k = std::min(n, r.rows() - before);
      require(k >= 1 && r.position() == before + k);
      npio::shape_t s = h.shape;
      if (!s.empty()) s[r.axis()] = k;
      require(c->shape() == s && c->dtype() == h.dtype);
      // A chunk is contiguous in the file's order.
      require(h.fortran_order ? c->is_f_contiguous() : c->is_c_contiguous());
      require(c->nbytes() <= h.data_size - out.size());
      out.insert(out.end(), c->data(), c->data() + c->nbytes());
    }
  } catch (const npio::error& e) {
    require(e.code() != npio::errc::ok && !e.detail().empty());
  }
  return std::nullopt;
}

std::vector<std::byte> file_order_bytes(const npio::array& a, bool fortran) {
  return a.tobytes(fortran ? npio::order::f : npio::order::c);
}

void fuzz_npy(std::span<const std::byte> bytes, std::int64_t n) {
  const int fd = ::memfd_create("fuzz_npy_reader", MFD_CLOEXEC);
  require(fd >= 0);
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    require(w > 0);
    done += static_cast<std::size_t>(w);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::optional<npio::npy_reader> r;
  try {
    r.emplace(path);
  } catch (const npio::error& e) {
    require(e.code() != npio::errc::ok && !e.detail().empty());
  }
  std::optional<std::vector<std::byte>> got;
  if (r) {
    // The header is read_header's of the same bytes.
    auto h = npio::try_read_header(bytes, 10000);
    require(h.has_value() && h->shape == r->header().shape && h->dtype == r->header().dtype &&
            h->data_offset == r->header().data_offset);
    got = drain(*r, n);
  }
  ::close(fd);

  auto loaded = npio::try_load(bytes);
  const bool is_array = loaded && loaded->is_array() && !loaded->array().dtype().has_object();
  if (got) {
    // What the reader streamed is the data load sees, byte for byte.
    require(is_array);
    const npio::header& h = r->header();
    require(got->empty() ||
            std::memcmp(got->data(), bytes.data() + h.data_offset, got->size()) == 0);
    require(file_order_bytes(loaded->array(), h.fortran_order) == *got);
  } else if (is_array && r && r->rows() / 4095 < n) {
    // A file load accepts streams to the end (unless it was cut short above).
    std::abort();
  }
}

void fuzz_npz(std::span<const std::byte> bytes, std::int64_t n) {
  try {
    const auto z = npio::npz_file::from_bytes(std::vector<std::byte>(bytes.begin(), bytes.end()),
                                              npz_options());
    for (const auto& key : z.files()) {
      std::optional<npio::npy_reader> r;
      try {
        r.emplace(z.reader(key));
      } catch (const npio::error& e) {
        require(e.code() != npio::errc::ok && !e.detail().empty());
        continue;
      }
      const auto got = drain(*r, n);
      if (!got) continue;
      // A member streamed to the end, CRC checked, is what at() loads.
      std::optional<npio::array> a;
      try {
        a.emplace(z.at(key));
      } catch (const npio::error& e) {
        std::fprintf(stderr, "streamed to the end, but at() says: %s\n", e.what());
        std::abort();
      }
      require(file_order_bytes(*a, r->header().fortran_order) == *got);
    }
  } catch (const npio::error& e) {
    require(e.code() != npio::errc::ok && !e.detail().empty());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  // 1 to 64 rows, or 2^0 to 2^62 rows: chunks far larger than the file.
  const unsigned v = data[0] >> 1;
  const std::int64_t n = v < 64 ? 1 + v : std::int64_t(1) << std::min(v - 64, 62u);
  if (data[0] & 1)
    fuzz_npz(bytes, n);
  else
    fuzz_npy(bytes, n);
  return 0;
}
