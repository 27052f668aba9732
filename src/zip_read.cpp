// Reading zip archives: end records, central directory, local headers, and
// member data (stored, deflate, bzip2, lzma) with CRC-32 checks. Every number
// from the file is checked against the bytes present before it is used.
#include "parallel.hpp"
#include "zip.hpp"

#include <algorithm>
#include <atomic>
#include <bzlib.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <libdeflate.h>
#include <lzma.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>
#include <zlib.h>

namespace npio {
inline namespace v1 {
namespace detail::zip {
namespace {

std::uint16_t get16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                    (std::to_integer<unsigned>(p[1]) << 8));
}
std::uint32_t get32(const std::byte* p) noexcept {
  return static_cast<std::uint32_t>(get16(p)) | (static_cast<std::uint32_t>(get16(p + 2)) << 16);
}
std::uint64_t get64(const std::byte* p) noexcept {
  return static_cast<std::uint64_t>(get32(p)) | (static_cast<std::uint64_t>(get32(p + 4)) << 32);
}
bool sig(const std::byte* p, std::uint32_t s) noexcept {
  return get32(p) == s;
}

constexpr std::uint32_t sig_local = 0x04034b50;
constexpr std::uint32_t sig_central = 0x02014b50;
constexpr std::uint32_t sig_end = 0x06054b50;
constexpr std::uint32_t sig_end64 = 0x06064b50;
constexpr std::uint32_t sig_locator64 = 0x07064b50;
constexpr std::size_t end_size = 22, locator_size = 20, end64_size = 56;
constexpr std::size_t central_size = 46, local_size = 30;

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

[[noreturn]] void fail(errc code, const std::string& detail, const source& src,
                       const std::string& member = {},
                       std::optional<std::uint64_t> offset = std::nullopt) {
  throw error(code, detail, src.label(), member, offset);
}

// ---- sources ----------------------------------------------------------------

class file_source final : public source {
public:
  file_source(int fd, std::uint64_t size, std::string label)
      : fd_(fd), size_(size), label_(std::move(label)) {}
  ~file_source() override { close(); }
  std::uint64_t size() const noexcept override { return size_; }
  int fd() const noexcept override { return fd_; }
  const std::string& label() const noexcept override { return label_; }
  void close() noexcept override {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void read(std::uint64_t offset, std::span<std::byte> out) const override {
    if (fd_ < 0) throw error(errc::io_error, "archive is closed", label_);
    if (offset > size_ || out.size() > size_ - offset)
      throw error(errc::truncated,
                  "archive ends before " + std::to_string(out.size()) + " bytes at offset " +
                      std::to_string(offset),
                  label_, {}, offset);
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t want = std::min<std::size_t>(out.size() - done, std::size_t(1) << 30);
      const ssize_t n = ::pread(fd_, out.data() + done, want, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw error(errc::io_error, std::string("read failed: ") + std::strerror(errno), label_, {},
                    offset + done);
      }
      if (n == 0)
        throw error(errc::truncated, "archive ends early (file shrank while open)", label_, {},
                    offset + done);
      done += static_cast<std::size_t>(n);
    }
  }

private:
  mutable std::mutex mu_;
  int fd_;
  std::uint64_t size_;
  std::string label_;
};

class memory_source final : public source {
public:
  memory_source(std::vector<std::byte> b, std::string label)
      : bytes_(std::move(b)), label_(std::move(label)) {}
  std::uint64_t size() const noexcept override { return bytes_.size(); }
  const std::byte* memory() const noexcept override { return bytes_.data(); }
  const std::string& label() const noexcept override { return label_; }
  void read(std::uint64_t offset, std::span<std::byte> out) const override {
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
      throw error(errc::truncated,
                  "archive ends before " + std::to_string(out.size()) + " bytes at offset " +
                      std::to_string(offset),
                  label_, {}, offset);
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  }

private:
  std::vector<std::byte> bytes_;
  std::string label_;
};

// ---- directory ----------------------------------------------------------------

struct end_record {
  std::uint64_t entries = 0, cd_size = 0, cd_offset = 0;
  std::uint64_t position = 0; // of the first end record (zip64 end record when present)
  std::string comment;
};

end_record find_end(const source& src) {
  const std::uint64_t size = src.size();
  if (size < end_size)
    fail(errc::zip_bad_archive,
         "not a zip archive: too short for an end of central directory record", src);
  const std::uint64_t window = std::min<std::uint64_t>(size, end_size + 0xFFFF);
  std::vector<std::byte> tail(static_cast<std::size_t>(window));
  src.read(size - window, tail);
  // The end record is the last signature whose comment fits; CPython takes
  // the last signature found, so fall back to that.
  std::optional<std::size_t> found, exact;
  for (std::size_t i = tail.size() - end_size + 1; i-- > 0;) {
    if (!sig(tail.data() + i, sig_end)) continue;
    if (!found) found = i;
    if (i + end_size + get16(tail.data() + i + 20) == tail.size()) {
      exact = i;
      break;
    }
  }
  if (!found)
    fail(errc::zip_bad_archive, "not a zip archive: no end of central directory record", src);
  const std::size_t at = exact ? *exact : *found;
  const std::byte* e = tail.data() + at;
  end_record r;
  r.position = size - window + at;
  const std::size_t clen = std::min<std::size_t>(get16(e + 20), tail.size() - at - end_size);
  r.comment.assign(reinterpret_cast<const char*>(e + end_size), clen);
  if (get16(e + 4) != 0 || get16(e + 6) != 0)
    fail(errc::zip_bad_archive, "archives that span several disks are not supported", src, {},
         r.position);
  r.entries = get16(e + 10);
  r.cd_size = get32(e + 12);
  r.cd_offset = get32(e + 16);
  // zip64: a locator right before the end record points at the zip64 end record.
  if (r.position >= locator_size) {
    std::byte loc[locator_size];
    src.read(r.position - locator_size, loc);
    if (sig(loc, sig_locator64)) {
      if (get32(loc + 4) != 0 || get32(loc + 16) > 1)
        fail(errc::zip_bad_archive, "archives that span several disks are not supported", src, {},
             r.position - locator_size);
      // CPython expects the zip64 end record right before the locator; the
      // locator's own offset is tried too (it differs when bytes are prepended
      // or the record has an extensible data sector).
      std::byte rec[end64_size];
      std::optional<std::uint64_t> at64;
      const std::uint64_t before = r.position - locator_size;
      if (before >= end64_size) {
        src.read(before - end64_size, rec);
        if (sig(rec, sig_end64)) at64 = before - end64_size;
      }
      if (!at64) {
        const std::uint64_t off = get64(loc + 8);
        if (off <= before && before - off >= end64_size) {
          src.read(off, rec);
          if (sig(rec, sig_end64)) at64 = off;
        }
      }
      if (!at64)
        fail(errc::zip_bad_archive, "zip64 end of central directory record not found", src, {},
             before);
      if (get32(rec + 16) != 0 || get32(rec + 20) != 0)
        fail(errc::zip_bad_archive, "archives that span several disks are not supported", src, {},
             *at64);
      r.entries = get64(rec + 32);
      r.cd_size = get64(rec + 40);
      r.cd_offset = get64(rec + 48);
      r.position = *at64;
    }
  }
  return r;
}

struct extra_block {
  std::uint16_t id;
  std::span<const std::byte> data;
};

// Splits an extra field into blocks. Errors: zip_bad_archive.
std::vector<extra_block> split_extra(std::span<const std::byte> x, const source& src,
                                     const std::string& name) {
  std::vector<extra_block> out;
  std::size_t i = 0;
  while (x.size() - i >= 4) {
    const std::uint16_t id = get16(x.data() + i), len = get16(x.data() + i + 2);
    if (len > x.size() - i - 4)
      fail(errc::zip_bad_archive,
           "corrupt extra field " + hex32(id).substr(6) + " (size " + std::to_string(len) + ")",
           src, name);
    out.push_back({id, x.subspan(i + 4, len)});
    i += 4 + std::size_t(len);
  }
  return out;
}

void parse_central_extra(entry& e, std::span<const std::byte> x, std::uint32_t csize32,
                         std::uint32_t usize32, std::uint32_t offset32, const source& src) {
  for (const auto& b : split_extra(x, src, e.name)) {
    if (b.id == extra_zip64) {
      // Only the fields whose 32-bit value is saturated appear, in this order.
      std::size_t at = 0;
      auto take = [&](const char* what) {
        if (b.data.size() - at < 8)
          fail(errc::zip_bad_archive,
               std::string("corrupt zip64 extra field: ") + what + " not found", src, e.name);
        const std::uint64_t v = get64(b.data.data() + at);
        at += 8;
        return v;
      };
      if (usize32 == zip64_marker32) e.usize = take("file size");
      if (csize32 == zip64_marker32) e.csize = take("compressed size");
      if (offset32 == zip64_marker32) e.local_offset = take("header offset");
    } else if (b.id == extra_chunks && b.data.size() >= 13 && (b.data.size() - 9) % 4 == 0 &&
               std::to_integer<int>(b.data[0]) == 1) {
      e.chunk_usize = get64(b.data.data() + 1);
      const std::size_t n = (b.data.size() - 9) / 4;
      e.chunk_csizes.resize(n);
      for (std::size_t k = 0; k < n; ++k)
        e.chunk_csizes[k] = get32(b.data.data() + 9 + 4 * k);
    }
  }
}

// Keeps the chunk table only when it describes the member exactly.
void validate_chunks(entry& e) {
  bool ok =
      e.method == method_deflate && e.chunk_usize > 0 && !e.chunk_csizes.empty() && e.usize > 0;
  if (ok) {
    const std::uint64_t n = (e.usize + e.chunk_usize - 1) / e.chunk_usize;
    std::uint64_t sum = 0;
    for (auto c : e.chunk_csizes)
      sum += c;
    ok = n == e.chunk_csizes.size() && sum == e.csize;
  }
  if (!ok) {
    e.chunk_usize = 0;
    e.chunk_csizes.clear();
  }
}

} // namespace

// ---- public (detail) API --------------------------------------------------------

std::shared_ptr<source> open_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw error(errc::io_error, std::string("cannot open: ") + std::strerror(errno), path.string());
  return open_fd(fd, path);
}

std::shared_ptr<source> open_fd(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw error(errc::io_error, "not a regular file", path.string());
  }
  return std::make_shared<file_source>(fd, static_cast<std::uint64_t>(st.st_size), path.string());
}

std::shared_ptr<source> from_memory(std::vector<std::byte> bytes, std::string label) {
  return std::make_shared<memory_source>(std::move(bytes), std::move(label));
}

directory read_directory(const source& src) {
  const end_record end = find_end(src);
  directory d;
  d.comment = end.comment;
  d.end_offset = end.position;
  if (end.cd_offset > end.position || end.cd_size > end.position - end.cd_offset)
    fail(errc::zip_bad_archive,
         "central directory (offset " + std::to_string(end.cd_offset) + ", size " +
             std::to_string(end.cd_size) + ") lies outside the archive",
         src, {}, end.position);
  // Bytes before the archive proper (a self-extractor stub) shift every offset.
  d.prefix = end.position - end.cd_size - end.cd_offset;
  d.cd_offset = end.cd_offset + d.prefix;
  d.cd_size = end.cd_size;
  std::vector<std::byte> cd(static_cast<std::size_t>(d.cd_size));
  src.read(d.cd_offset, cd);

  std::size_t p = 0;
  while (p < cd.size()) {
    const std::uint64_t at = d.cd_offset + p;
    if (cd.size() - p < central_size || !sig(cd.data() + p, sig_central))
      fail(errc::zip_bad_archive, "bad central directory entry", src, {}, at);
    const std::byte* h = cd.data() + p;
    const std::size_t nlen = get16(h + 28), xlen = get16(h + 30), clen = get16(h + 32);
    if (cd.size() - p - central_size < nlen + xlen + clen)
      fail(errc::zip_bad_archive, "central directory entry runs past the directory", src, {}, at);
    entry e;
    e.version_made = get16(h + 4);
    e.version_needed = get16(h + 6);
    e.flags = get16(h + 8);
    e.method = get16(h + 10);
    e.mtime = get16(h + 12);
    e.mdate = get16(h + 14);
    e.crc = get32(h + 16);
    const std::uint32_t c32 = get32(h + 20), u32 = get32(h + 24), o32 = get32(h + 42);
    e.csize = c32;
    e.usize = u32;
    e.local_offset = o32;
    e.external_attr = get32(h + 38);
    e.name.assign(reinterpret_cast<const char*>(h + central_size), nlen);
    parse_central_extra(e, std::span<const std::byte>(h + central_size + nlen, xlen), c32, u32, o32,
                        src);
    validate_chunks(e);
    if (e.local_offset > d.cd_offset - d.prefix)
      fail(errc::zip_bad_archive,
           "local header offset " + std::to_string(e.local_offset) +
               " is past the central directory",
           src, e.name, at);
    e.local_offset += d.prefix;
    d.entries.push_back(std::move(e));
    p += central_size + nlen + xlen + clen;
  }
  if (end.entries != d.entries.size() && end.entries != (d.entries.size() & 0xFFFF))
    fail(errc::zip_bad_archive,
         "end record counts " + std::to_string(end.entries) + " entries, directory has " +
             std::to_string(d.entries.size()),
         src, {}, end.position);

  // Local headers: names must agree, data must end before the directory.
  std::unordered_set<std::string_view> names;
  for (auto& e : d.entries) {
    if (!names.insert(e.name).second)
      fail(errc::zip_duplicate, "duplicate member name '" + e.name + "'", src, e.name);
    std::byte lh[local_size];
    if (d.cd_offset - e.local_offset < local_size)
      fail(errc::zip_bad_archive, "local header runs into the central directory", src, e.name,
           e.local_offset);
    src.read(e.local_offset, lh);
    if (!sig(lh, sig_local))
      fail(errc::zip_bad_archive, "bad local header signature", src, e.name, e.local_offset);
    const std::size_t nlen = get16(lh + 26), xlen = get16(lh + 28);
    const std::uint64_t room = d.cd_offset - e.local_offset - local_size;
    if (nlen + xlen > room)
      fail(errc::zip_bad_archive, "local header runs into the central directory", src, e.name,
           e.local_offset);
    std::string lname(nlen, '\0');
    src.read(e.local_offset + local_size, std::as_writable_bytes(std::span(lname)));
    if (lname != e.name)
      fail(errc::zip_bad_archive,
           "file name in directory '" + e.name + "' and header '" + lname + "' differ", src, e.name,
           e.local_offset);
    e.data_offset = e.local_offset + local_size + nlen + xlen;
    if (e.csize > d.cd_offset - e.data_offset)
      fail(errc::zip_bad_archive,
           "member data (" + std::to_string(e.csize) + " bytes at offset " +
               std::to_string(e.data_offset) + ") runs past the central directory",
           src, e.name, e.data_offset);
  }
  // Entries may not share bytes (overlapping entries make small archives
  // inflate to huge sizes without any single member being large).
  std::vector<const entry*> order;
  order.reserve(d.entries.size());
  for (const auto& e : d.entries)
    order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const entry* a, const entry* b) { return a->local_offset < b->local_offset; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const entry& a = *order[i - 1];
    const entry& b = *order[i];
    if (a.data_offset + a.csize > b.local_offset)
      fail(errc::zip_duplicate, "member overlaps '" + a.name + "'", src, b.name, b.local_offset);
  }
  return d;
}

void check_member(const source& src, const entry& e, std::uint64_t max_bytes) {
  if (e.flags & 0x1) fail(errc::unsupported, "encrypted members are not supported", src, e.name);
  switch (e.method) {
  case method_stored:
    if (e.csize != e.usize)
      fail(errc::zip_bad_archive,
           "stored member sizes differ (compressed " + std::to_string(e.csize) + ", uncompressed " +
               std::to_string(e.usize) + ")",
           src, e.name);
    break;
  case method_deflate:
    if (e.usize / deflate_max_ratio > e.csize)
      fail(errc::zip_bomb,
           "declared size " + std::to_string(e.usize) + " is more than deflate can produce from " +
               std::to_string(e.csize) + " bytes",
           src, e.name);
    break;
  case method_bzip2:
  case method_lzma:
    break;
  default:
    fail(errc::zip_method,
         "compression method " + std::to_string(e.method) +
             " is not supported (stored, deflate, bzip2 and lzma are)",
         src, e.name);
  }
  if (e.usize > max_bytes)
    fail(errc::zip_bomb,
         "member is " + std::to_string(e.usize) + " bytes, over the limit of " +
             std::to_string(max_bytes) + " (max_data_bytes)",
         src, e.name);
}

std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> b) noexcept {
  return b.empty() ? crc : libdeflate_crc32(crc, b.data(), b.size());
}

namespace {

std::uint32_t crc_combine(std::uint32_t a, std::uint32_t b, std::uint64_t blen) {
  return static_cast<std::uint32_t>(crc32_combine(a, b, static_cast<z_off_t>(blen)));
}

void check_crc(const source& src, const entry& e, std::uint32_t got) {
  if (got != e.crc)
    fail(errc::zip_crc,
         "CRC-32 mismatch: directory says " + hex32(e.crc) + ", data has " + hex32(got), src,
         e.name);
}

// Large reads go in pieces so that reading and checksumming overlap across threads.
constexpr std::size_t piece_bytes = std::size_t(8) << 20;

void read_stored(const source& src, const entry& e, std::span<std::byte> out, unsigned threads) {
  // Each piece is read in small steps and checksummed while still in cache.
  constexpr std::size_t step = std::size_t(256) << 10;
  const std::size_t n = (out.size() + piece_bytes - 1) / piece_bytes;
  std::vector<std::uint32_t> crcs(n);
  parallel_for(n, threads, [&](std::size_t i) {
    auto part = out.subspan(i * piece_bytes, std::min(piece_bytes, out.size() - i * piece_bytes));
    std::uint32_t c = 0;
    for (std::size_t at = 0; at < part.size(); at += step) {
      auto s = part.subspan(at, std::min(step, part.size() - at));
      src.read(e.data_offset + i * piece_bytes + at, s);
      c = crc32(c, s);
    }
    crcs[i] = c;
  });
  std::uint32_t crc = 0;
  for (std::size_t i = 0; i < n; ++i)
    crc = i == 0 ? crcs[0]
                 : crc_combine(crc, crcs[i], std::min(piece_bytes, out.size() - i * piece_bytes));
  check_crc(src, e, n ? crc : 0);
}

struct decompressor_deleter {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};
using decompressor_ptr = std::unique_ptr<libdeflate_decompressor, decompressor_deleter>;
decompressor_ptr make_decompressor() {
  decompressor_ptr d(libdeflate_alloc_decompressor());
  if (!d) throw error(errc::limit_exceeded, "out of memory (deflate decompressor)");
  return d;
}

// Inflates one whole raw deflate stream into exactly out.size() bytes.
void inflate_whole(const source& src, const entry& e, std::span<const std::byte> in,
                   std::span<std::byte> out, std::uint64_t out_base) {
  auto d = make_decompressor();
  std::size_t in_used = 0, out_got = 0;
  const auto r = libdeflate_deflate_decompress_ex(d.get(), in.data(), in.size(), out.data(),
                                                  out.size(), &in_used, &out_got);
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
    fail(errc::zip_bomb, "deflate data inflates past the declared size " + std::to_string(e.usize),
         src, e.name);
  if (r != LIBDEFLATE_SUCCESS)
    fail(errc::zip_bad_archive, "invalid deflate data", src, e.name, e.data_offset);
  if (out_got != out.size())
    fail(errc::zip_bad_archive,
         "deflate data ends after " + std::to_string(out_base + out_got) + " of " +
             std::to_string(e.usize) + " declared bytes",
         src, e.name);
}

// Streams a (large) deflate member from a file with zlib, in bounded memory.
void inflate_stream(const source& src, const entry& e, std::span<std::byte> out) {
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) throw error(errc::limit_exceeded, "out of memory (zlib)");
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&z};
  std::vector<std::byte> in(std::size_t(4) << 20);
  std::uint64_t read_pos = 0;
  std::size_t produced = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (z.avail_in == 0) {
      if (read_pos == e.csize)
        fail(errc::zip_bad_archive,
             "deflate data ends after " + std::to_string(produced) + " of " +
                 std::to_string(e.usize) + " declared bytes",
             src, e.name);
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), e.csize - read_pos));
      src.read(e.data_offset + read_pos, std::span(in.data(), n));
      read_pos += n;
      z.next_in = reinterpret_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(n);
    }
    if (produced == out.size()) {
      // Output is full: only the end of the stream may remain.
      std::byte probe[1];
      z.next_out = reinterpret_cast<Bytef*>(probe);
      z.avail_out = 1;
      ret = inflate(&z, Z_NO_FLUSH);
      if (z.avail_out == 0)
        fail(errc::zip_bomb,
             "deflate data inflates past the declared size " + std::to_string(e.usize), src,
             e.name);
    } else {
      const std::size_t room = std::min<std::size_t>(out.size() - produced, 1u << 30);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      z.avail_out = static_cast<uInt>(room);
      ret = inflate(&z, Z_NO_FLUSH);
      produced += room - z.avail_out;
    }
    if (ret == Z_BUF_ERROR && z.avail_in == 0) continue;
    if (ret != Z_OK && ret != Z_STREAM_END)
      fail(errc::zip_bad_archive, "invalid deflate data", src, e.name, e.data_offset);
  }
  if (produced != out.size())
    fail(errc::zip_bad_archive,
         "deflate data ends after " + std::to_string(produced) + " of " + std::to_string(e.usize) +
             " declared bytes",
         src, e.name);
}

// A non-final chunk of an npio member ends with an empty non-final stored
// block (00 00 00 ff ff); setting its BFINAL bit makes the chunk a complete stream.
constexpr unsigned char sync_marker[5] = {0x00, 0x00, 0x00, 0xFF, 0xFF};

// A thread's buffer for one chunk's compressed bytes.
std::vector<std::byte>& chunk_buffer() {
  thread_local std::vector<std::byte> in;
  return in;
}
constexpr std::size_t kept_chunk_buffer = std::size_t(4) << 20;

// Each worker reads its chunk's compressed bytes into a buffer of its own
// (reused from chunk to chunk, so it stays in cache and is never faulted in
// again) and inflates it there: reading overlaps inflating, and no buffer of
// the whole member is allocated and zeroed. Returns false, having checked
// nothing, when the chunks are not an npio member's (the caller inflates the
// member whole).
bool inflate_chunked(const source& src, const entry& e, std::span<std::byte> out,
                     unsigned threads) {
  const std::size_t n = e.chunk_csizes.size();
  std::vector<std::uint64_t> cstart(n + 1, 0);
  for (std::size_t k = 0; k < n; ++k)
    cstart[k + 1] = cstart[k] + e.chunk_csizes[k];
  std::vector<std::uint32_t> crcs(n);
  std::atomic<bool> bad{false};
  const std::size_t cu = static_cast<std::size_t>(e.chunk_usize);
  const std::byte* mem = src.memory();
  parallel_for(n, threads, [&](std::size_t k) {
    if (bad) return;
    thread_local decompressor_ptr d = make_decompressor();
    std::vector<std::byte>& in = chunk_buffer();
    const std::size_t csize = e.chunk_csizes[k];
    if (csize < sizeof sync_marker) {
      bad = true;
      return;
    }
    if (in.size() < csize) in.resize(csize);
    if (mem)
      std::memcpy(in.data(), mem + e.data_offset + cstart[k], csize);
    else
      src.read(e.data_offset + cstart[k], std::span(in.data(), csize));
    if (k + 1 < n) {
      std::byte* marker = in.data() + csize - sizeof sync_marker;
      if (std::memcmp(marker, sync_marker, sizeof sync_marker) != 0) {
        bad = true;
        return;
      }
      *marker = std::byte{1};
    }
    auto part = out.subspan(k * cu, std::min(cu, out.size() - k * cu));
    std::size_t used = 0;
    const auto r = libdeflate_deflate_decompress_ex(d.get(), in.data(), csize, part.data(),
                                                    part.size(), &used, nullptr);
    if (r != LIBDEFLATE_SUCCESS || used != csize) {
      bad = true;
      return;
    }
    crcs[k] = crc32(0, part);
  });
  // The calling thread keeps its buffer for the next member, unless a chunk
  // made it large (the workers' buffers end with them).
  if (std::vector<std::byte>& in = chunk_buffer(); in.size() > kept_chunk_buffer)
    std::vector<std::byte>().swap(in);
  if (bad) return false;
  std::uint32_t crc = crcs[0];
  for (std::size_t k = 1; k < n; ++k)
    crc = crc_combine(crc, crcs[k], std::min(cu, out.size() - k * cu));
  check_crc(src, e, crc);
  return true;
}

// Members past this many compressed bytes in a file are inflated with zlib in
// bounded memory instead of being read whole for libdeflate.
// NPIO_ZIP_STREAM_ABOVE (bytes) lowers it, so that tests reach the streaming path.
std::uint64_t whole_buffer_limit() {
  static const std::uint64_t limit = [] {
    const char* v = std::getenv("NPIO_ZIP_STREAM_ABOVE");
    return v ? std::strtoull(v, nullptr, 10) : std::uint64_t(1) << 30;
  }();
  return limit;
}

void read_deflate(const source& src, const entry& e, std::span<std::byte> out, unsigned threads) {
  if (e.chunk_csizes.size() > 1 && inflate_chunked(src, e, out, threads)) return;
  const std::byte* mem = src.memory();
  if (!mem && e.csize > whole_buffer_limit()) {
    inflate_stream(src, e, out);
    check_crc(src, e, crc32(0, out));
    return;
  }
  std::vector<std::byte> copy;
  std::span<const std::byte> in;
  if (mem) {
    in = std::span(mem + e.data_offset, static_cast<std::size_t>(e.csize));
  } else {
    copy.resize(static_cast<std::size_t>(e.csize));
    src.read(e.data_offset, copy);
    in = copy;
  }
  inflate_whole(src, e, in, out, 0);
  check_crc(src, e, crc32(0, out));
}

// bzip2 and lzma: decoded into growing pieces first, never past the declared size.
template <class Step>
std::vector<std::vector<std::byte>> decode_pieces(const source& src, const entry& e,
                                                  std::uint64_t skip, Step&& step) {
  std::vector<std::vector<std::byte>> pieces;
  std::vector<std::byte> in(std::size_t(1) << 20);
  std::uint64_t pos = skip, total = 0;
  std::span<const std::byte> avail;
  bool done = false;
  while (!done) {
    if (avail.empty() && pos < e.csize) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), e.csize - pos));
      src.read(e.data_offset + pos, std::span(in.data(), n));
      pos += n;
      avail = std::span<const std::byte>(in.data(), n);
    }
    const bool input_done = avail.empty() && pos == e.csize;
    if (pieces.empty() || pieces.back().size() == pieces.back().capacity()) {
      const std::uint64_t left = e.usize - total;
      const std::size_t cap =
          static_cast<std::size_t>(std::min<std::uint64_t>(left + 1, std::size_t(4) << 20));
      pieces.emplace_back();
      pieces.back().reserve(cap);
    }
    auto& piece = pieces.back();
    const std::size_t before = piece.size();
    piece.resize(piece.capacity());
    std::size_t consumed = 0, produced = 0;
    done = step(avail, std::span(piece.data() + before, piece.size() - before), input_done,
                consumed, produced);
    piece.resize(before + produced);
    avail = avail.subspan(consumed);
    total += produced;
    if (total > e.usize)
      fail(errc::zip_bomb, "data inflates past the declared size " + std::to_string(e.usize), src,
           e.name);
    if (!done && produced == 0 && consumed == 0 && input_done)
      fail(errc::zip_bad_archive,
           "compressed data ends after " + std::to_string(total) + " of " +
               std::to_string(e.usize) + " declared bytes",
           src, e.name);
  }
  if (total != e.usize)
    fail(errc::zip_bad_archive,
         "compressed data ends after " + std::to_string(total) + " of " + std::to_string(e.usize) +
             " declared bytes",
         src, e.name);
  return pieces;
}

std::vector<std::vector<std::byte>> read_bzip2(const source& src, const entry& e) {
  bz_stream z{};
  if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
    throw error(errc::limit_exceeded, "out of memory (bzip2)");
  struct guard {
    bz_stream* z;
    ~guard() { BZ2_bzDecompressEnd(z); }
  } g{&z};
  return decode_pieces(
      src, e, 0,
      [&](std::span<const std::byte> in, std::span<std::byte> out, bool, std::size_t& consumed,
          std::size_t& produced) {
        z.next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
        z.avail_in = static_cast<unsigned>(std::min<std::size_t>(in.size(), 1u << 30));
        z.next_out = reinterpret_cast<char*>(out.data());
        z.avail_out = static_cast<unsigned>(std::min<std::size_t>(out.size(), 1u << 30));
        const unsigned ai = z.avail_in, ao = z.avail_out;
        const int r = BZ2_bzDecompress(&z);
        consumed = ai - z.avail_in;
        produced = ao - z.avail_out;
        if (r != BZ_OK && r != BZ_STREAM_END)
          fail(errc::zip_bad_archive, "invalid bzip2 data", src, e.name, e.data_offset);
        return r == BZ_STREAM_END;
      });
}

std::vector<std::vector<std::byte>> read_lzma(const source& src, const entry& e) {
  // CPython's layout: u8 major, u8 minor, u16 properties size, properties.
  std::byte head[4];
  if (e.csize < 4) fail(errc::zip_bad_archive, "lzma header missing", src, e.name, e.data_offset);
  src.read(e.data_offset, head);
  const std::uint16_t psize = get16(head + 2);
  if (psize != 5 || e.csize < 4u + psize)
    fail(errc::zip_bad_archive, "bad lzma properties header", src, e.name, e.data_offset);
  std::byte props[5];
  src.read(e.data_offset + 4, props);
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, nullptr}, {LZMA_VLI_UNKNOWN, nullptr}};
  if (lzma_properties_decode(&filters[0], nullptr, reinterpret_cast<const std::uint8_t*>(props),
                             5) != LZMA_OK)
    fail(errc::zip_bad_archive, "bad lzma properties", src, e.name, e.data_offset);
  // The dictionary is allocated up front from the properties: never more than
  // the member can use (a hostile header may ask for 4 GiB).
  auto* lz = static_cast<lzma_options_lzma*>(filters[0].options);
  lz->dict_size = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
      lz->dict_size, LZMA_DICT_SIZE_MIN, std::max<std::uint64_t>(e.usize, LZMA_DICT_SIZE_MIN)));
  lzma_stream z = LZMA_STREAM_INIT;
  const lzma_ret ir = lzma_raw_decoder(&z, filters);
  std::free(filters[0].options);
  if (ir != LZMA_OK) fail(errc::zip_bad_archive, "bad lzma properties", src, e.name, e.data_offset);
  struct guard {
    lzma_stream* z;
    ~guard() { lzma_end(z); }
  } g{&z};
  std::uint64_t total = 0;
  return decode_pieces(src, e, 4 + psize,
                       [&](std::span<const std::byte> in, std::span<std::byte> out, bool input_done,
                           std::size_t& consumed, std::size_t& produced) {
                         z.next_in = reinterpret_cast<const std::uint8_t*>(in.data());
                         z.avail_in = in.size();
                         z.next_out = reinterpret_cast<std::uint8_t*>(out.data());
                         z.avail_out = out.size();
                         const lzma_ret r = lzma_code(&z, input_done ? LZMA_FINISH : LZMA_RUN);
                         consumed = in.size() - z.avail_in;
                         produced = out.size() - z.avail_out;
                         total += produced;
                         if (r == LZMA_STREAM_END) return true;
                         // Without an end marker the stream stops at the declared size.
                         if (total == e.usize && input_done && consumed == 0) return true;
                         if (r != LZMA_OK && r != LZMA_BUF_ERROR)
                           fail(errc::zip_bad_archive, "invalid lzma data", src, e.name,
                                e.data_offset);
                         return false;
                       });
}

} // namespace

std::span<std::byte> read_member(const source& src, const entry& e, const allocator& alloc,
                                 unsigned threads) {
  auto take = [&] {
    auto out = alloc(static_cast<std::size_t>(e.usize));
    if (out.size() != e.usize)
      throw error(errc::invalid_argument, "output size does not match the member", src.label(),
                  e.name);
    return out;
  };
  switch (e.method) {
  case method_stored: {
    auto out = take();
    // Pieces of 8 MiB on every thread: page faults and copies from the page
    // cache scale with cores, and each piece is checksummed while in cache.
    read_stored(src, e, out, threads);
    return out;
  }
  case method_deflate: {
    auto out = take();
    read_deflate(src, e, out, threads);
    return out;
  }
  case method_bzip2:
  case method_lzma: {
    const auto pieces = e.method == method_bzip2 ? read_bzip2(src, e) : read_lzma(src, e);
    auto out = take();
    std::size_t at = 0;
    for (const auto& p : pieces) {
      if (!p.empty()) std::memcpy(out.data() + at, p.data(), p.size());
      at += p.size();
    }
    check_crc(src, e, crc32(0, out));
    return out;
  }
  default:
    check_member(src, e, ~std::uint64_t(0));
    return {};
  }
}

std::vector<std::byte> read_prefix(const source& src, const entry& e, std::size_t n) {
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n, e.usize));
  std::vector<std::byte> out(want);
  if (want == 0) return out;
  if (e.method == method_stored) {
    src.read(e.data_offset, out);
    return out;
  }
  if (e.method != method_deflate) {
    // bzip2 and lzma are rare in archives: decode the member, keep the start.
    std::vector<std::byte> all;
    read_member(src, e, [&](std::size_t m) {
      all.resize(m);
      return std::span<std::byte>(all);
    });
    all.resize(want);
    return all;
  }
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) throw error(errc::limit_exceeded, "out of memory (zlib)");
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&z};
  std::vector<std::byte> in(std::size_t(64) << 10);
  std::uint64_t pos = 0;
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(want);
  while (z.avail_out > 0) {
    if (z.avail_in == 0) {
      if (pos == e.csize) break;
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), e.csize - pos));
      src.read(e.data_offset + pos, std::span(in.data(), k));
      pos += k;
      z.next_in = reinterpret_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(k);
    }
    const int r = inflate(&z, Z_NO_FLUSH);
    if (r == Z_STREAM_END) break;
    if (r != Z_OK && !(r == Z_BUF_ERROR && z.avail_in == 0))
      fail(errc::zip_bad_archive, "invalid deflate data", src, e.name, e.data_offset);
  }
  if (z.avail_out != 0)
    fail(errc::zip_bad_archive,
         "deflate data ends after " + std::to_string(want - z.avail_out) + " of " +
             std::to_string(e.usize) + " declared bytes",
         src, e.name);
  return out;
}

bool safe_name(std::string_view name) noexcept {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return false;
  if (name.size() >= 2 && name[1] == ':') return false; // C:...
  std::size_t i = 0;
  while (i <= name.size()) {
    const std::size_t j = std::min(name.find('/', i), name.size());
    const auto part = name.substr(i, j - i);
    if (part.empty() && j != name.size()) return false; // "a//b"
    if (part == ".." || part == ".") return false;
    i = j + 1;
  }
  return true;
}

} // namespace detail::zip
} // namespace v1
} // namespace npio
