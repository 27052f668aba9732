// Writing zip archives: local headers (zip64 whenever a size needs it, stored
// data padded to 64-byte file offsets so it can be mapped), deflate in
// independent chunks compressed in parallel and joined into one valid stream,
// central directory and end records (zip64 when needed).
#include "parallel.hpp"
#include "zip.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <zlib.h>

namespace npio {
inline namespace v1 {
namespace detail::zip {
namespace {

void put16(std::vector<std::byte>& v, std::uint64_t x) {
  v.push_back(std::byte(x & 0xFF));
  v.push_back(std::byte((x >> 8) & 0xFF));
}
void put32(std::vector<std::byte>& v, std::uint64_t x) {
  put16(v, x & 0xFFFF);
  put16(v, (x >> 16) & 0xFFFF);
}
void put64(std::vector<std::byte>& v, std::uint64_t x) {
  put32(v, x & 0xFFFFFFFF);
  put32(v, x >> 32);
}
void put_str(std::vector<std::byte>& v, std::string_view s) {
  for (char c : s)
    v.push_back(static_cast<std::byte>(c));
}

constexpr std::uint16_t dos_date_1980 = 0x21; // 1980-01-01, what CPython's ZipInfo uses
constexpr std::uint32_t attr_rw_user = 0600u << 16;
constexpr std::size_t align_data = 64;
constexpr std::size_t stored_piece = std::size_t(8) << 20;
constexpr std::size_t min_chunk = std::size_t(1) << 20;
constexpr std::size_t max_chunks = 16000; // the chunk table must fit one extra field
// Members at least this big (at levels 1-6) are probed: a sample of probe_bytes from
// their middle is compressed by ISA-L and by libdeflate, and ISA-L compresses the whole
// member when its output is at most fast_slack_percent larger (see docs/npz.md).
constexpr std::size_t probe_min_member = std::size_t(512) << 10;
constexpr std::size_t probe_bytes = std::size_t(256) << 10;
constexpr std::uint64_t fast_slack_percent = 1;
constexpr int fast_max_level = 6;

bool needs_utf8_flag(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

struct compressor_deleter {
  void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};

// Clears the BFINAL bit of the last block of a raw deflate stream (zlib's
// gzjoin technique: inflate with Z_BLOCK stops at every block boundary) and
// returns the number of padding bits after its end-of-block code.
unsigned clear_final_bit(std::vector<std::byte>& s, std::size_t usize,
                         std::vector<std::byte>& scratch) {
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) throw error(errc::limit_exceeded, "out of memory (zlib)");
  scratch.resize(usize + 1); // room past the end lets inflate reach the end code
  z.next_in = reinterpret_cast<Bytef*>(s.data());
  z.avail_in = static_cast<uInt>(s.size());
  z.next_out = reinterpret_cast<Bytef*>(scratch.data());
  z.avail_out = static_cast<uInt>(scratch.size());
  std::uint64_t last = 0; // bit position of the last block header
  int ret;
  unsigned pad = 0;
  while ((ret = inflate(&z, Z_BLOCK)) == Z_OK) {
    // 128: just after an end-of-block code; 64: that block was the last one.
    if ((z.data_type & 128) && !(z.data_type & 64))
      last = (s.size() - z.avail_in) * std::uint64_t(8) - static_cast<unsigned>(z.data_type & 7);
    if ((z.data_type & 128) && (z.data_type & 64)) pad = static_cast<unsigned>(z.data_type & 7);
  }
  const bool all_used = z.avail_in == 0;
  inflateEnd(&z);
  const auto bit = static_cast<unsigned>(last % 8);
  const auto at = static_cast<std::size_t>(last / 8);
  if (ret != Z_STREAM_END || !all_used || at >= s.size() ||
      !(std::to_integer<unsigned>(s[at]) >> bit & 1u))
    throw error(errc::invalid_argument, "internal error: cannot join deflate chunks");
  s[at] &= static_cast<std::byte>(~(1u << bit));
  return pad;
}

// Ends a chunk whose last block is no longer final so that the next chunk can
// follow: decoding resumes right after the end-of-block code, so the zero
// padding bits start an empty stored block that is completed here; then a
// byte-aligned empty stored block (the marker) closes the chunk. A reader that
// sets the marker's BFINAL bit can inflate the chunk on its own.
void end_chunk(std::vector<std::byte>& s, unsigned pad) {
  auto add = [&](std::initializer_list<unsigned char> bytes) {
    for (unsigned char c : bytes)
      s.push_back(std::byte{c});
  };
  if (pad >= 3)
    add({0x00, 0x00, 0xFF, 0xFF}); // header in the padding bits
  else if (pad > 0)
    add({0x00, 0x00, 0x00, 0xFF, 0xFF}); // header spills into a new byte
  add({0x00, 0x00, 0x00, 0xFF, 0xFF});
}

// One worker's compressors: libdeflate at the caller's level (best ratio per
// time at every level) and ISA-L's igzip (several times faster at levels 1-2,
// and byte-aligned flushes, so its chunks join without a second pass).
class chunk_compressor {
public:
  explicit chunk_compressor(int level) : level_(level) {}

  // Whole deflate stream of `in`, final when `last`, else ending with a
  // non-final empty stored block followed by the chunk marker (end_chunk).
  void libdeflate(std::span<const std::byte> in, bool last, std::vector<std::byte>& out) {
    if (!ld_) {
      ld_.reset(libdeflate_alloc_compressor(level_));
      if (!ld_) throw error(errc::limit_exceeded, "out of memory (deflate compressor)");
    }
    out.resize(libdeflate_deflate_compress_bound(ld_.get(), in.size()) + 16);
    const std::size_t n =
        libdeflate_deflate_compress(ld_.get(), in.data(), in.size(), out.data(), out.size());
    if (n == 0) throw error(errc::invalid_argument, "internal error: deflate output overflow");
    out.resize(n);
    if (!last) end_chunk(out, clear_final_bit(out, in.size(), scratch_));
  }

  // The same with ISA-L; false when its output would not fit (then use libdeflate).
  bool isal(std::span<const std::byte> in, bool last, std::vector<std::byte>& out) {
    const int level = level_ <= 1 ? 1 : 2;
    // A fresh (zeroed) buffer every call: ISA-L's hash table in level_buf keeps
    // entries from the previous chunk, which change the output (still valid) with
    // whichever chunks this worker compressed before, so the bytes written
    // depended on the thread count and scheduling.
    level_buf_.assign(std::max<std::size_t>(ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT),
                      std::byte{0});
    if (in.size() > 0xFFFFFFFFu - 4096) return false;
    isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.level = static_cast<std::uint32_t>(level);
    z.level_buf = reinterpret_cast<std::uint8_t*>(level_buf_.data());
    z.level_buf_size = static_cast<std::uint32_t>(level_buf_.size());
    out.resize(in.size() + in.size() / 16 + 1024);
    // ISA-L's API takes non-const input; it does not write to it.
    z.next_in = const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(in.data()));
    z.avail_in = static_cast<std::uint32_t>(in.size());
    z.next_out = reinterpret_cast<std::uint8_t*>(out.data());
    z.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), 0xFFFFFFFFu));
    z.end_of_stream = last ? 1 : 0;
    z.flush = last ? NO_FLUSH : FULL_FLUSH; // byte-aligned, no BFINAL
    if (isal_deflate_stateless(&z) != COMP_OK || z.avail_in != 0) return false;
    out.resize(out.size() - z.avail_out);
    if (!last)
      out.insert(out.end(), {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0xFF},
                             std::byte{0xFF}}); // the chunk marker
    return true;
  }

private:
  int level_;
  std::unique_ptr<libdeflate_compressor, compressor_deleter> ld_;
  std::vector<std::byte> level_buf_, scratch_;
};

// One unit of work: a stored piece (CRC only) or a deflate chunk.
struct task {
  std::size_t member = 0;
  std::uint64_t begin = 0, end = 0; // in the member's bytes (head then body)
  bool last = false;
};
struct done {
  bool ready = false;
  std::exception_ptr err;
  std::uint32_t crc = 0;
  std::vector<std::byte> data; // compressed bytes (deflate only)
};

struct plan {
  std::uint64_t usize = 0;
  std::size_t chunk = 0, first_task = 0, ntasks = 0;
  bool zip64 = false;
  bool probe = false;            // compressed, level 1-6 and big enough to choose ISA-L
  std::atomic<bool> fast{false}; // the probe chose ISA-L (read after `decided`)
  std::once_flag decided;
};

// The member's bytes [begin, end) as up to two spans (head part, body part).
std::pair<std::span<const std::byte>, std::span<const std::byte>>
slice(const member_source& m, std::uint64_t begin, std::uint64_t end) {
  const auto head = std::as_bytes(std::span(m.head));
  const std::uint64_t h = head.size();
  std::span<const std::byte> a, b;
  if (begin < h) a = head.subspan(begin, std::min(end, h) - begin);
  if (end > h) {
    const std::uint64_t b0 = std::max(begin, h) - h;
    b = m.body.subspan(static_cast<std::size_t>(b0), static_cast<std::size_t>(end - h - b0));
  }
  return {a, b};
}

// ---- the steps of writer::add ------------------------------------------------------

// Plans member m (chunk size, zip64, whether to probe ISA-L) and appends its
// tasks: deflate chunks, or stored pieces that only need a CRC.
void plan_member(const member_source& src, std::size_t m, const write_options& options, int level,
                 plan& p, std::vector<task>& tasks) {
  p.usize = src.head.size() + src.body.size();
  if (options.compress) {
    std::uint64_t c = options.chunk_bytes ? options.chunk_bytes : min_chunk;
    c = std::max<std::uint64_t>(c, (p.usize + max_chunks - 1) / max_chunks);
    p.chunk = static_cast<std::size_t>(std::min<std::uint64_t>(c, std::uint64_t(1) << 30));
    // deflate never grows data by more than 5 bytes per 64 KiB block, plus a chunk marker
    const std::uint64_t bound = p.usize + p.usize / 8192 + 64 * (p.usize / p.chunk + 1) + 64;
    p.zip64 = options.force_zip64 || bound >= zip64_marker32;
    p.probe = level >= 1 && level <= fast_max_level && p.usize >= probe_min_member;
  } else {
    p.chunk = stored_piece;
    p.zip64 = options.force_zip64 || p.usize >= zip64_marker32;
  }
  p.first_task = tasks.size();
  std::uint64_t b = 0;
  do {
    const std::uint64_t e = std::min<std::uint64_t>(b + p.chunk, p.usize);
    tasks.push_back({m, b, e, e == p.usize});
    b = e;
  } while (b < p.usize);
  p.ntasks = tasks.size() - p.first_task;
}

// Compresses a sample from the member's middle both ways; ISA-L wins when its
// output is at most fast_slack_percent larger.
void choose_compressor(const member_source& src, plan& p, chunk_compressor& c,
                       std::vector<std::byte>& sample, std::vector<std::byte>& out) {
  const std::uint64_t begin = (p.usize - probe_bytes) / 2;
  auto [a, b] = slice(src, begin, begin + probe_bytes);
  sample.assign(a.begin(), a.end());
  sample.insert(sample.end(), b.begin(), b.end());
  c.libdeflate(sample, true, out);
  const std::uint64_t best = out.size();
  if (c.isal(sample, true, out) && out.size() * 100 <= best * (100 + fast_slack_percent))
    p.fast = true;
}

// One task's CRC and, when compressing, its deflate chunk. `joined` is the
// worker's buffer for a chunk that spans the member's head and body.
void run_task(const task& t, const member_source& src, plan& p, bool compress,
              chunk_compressor& comp, std::vector<std::byte>& joined, done& r) {
  auto [a, b] = slice(src, t.begin, t.end);
  r.crc = crc32(crc32(0, a), b);
  if (!compress) return;
  if (p.probe) std::call_once(p.decided, [&] { choose_compressor(src, p, comp, joined, r.data); });
  std::span<const std::byte> in = b;
  if (!a.empty()) {
    joined.assign(a.begin(), a.end());
    joined.insert(joined.end(), b.begin(), b.end());
    in = joined;
  }
  if (!p.fast || !comp.isal(in, t.last, r.data)) comp.libdeflate(in, t.last, r.data);
}

// Tasks handed to a pool of workers, which run at most `window` tasks ahead of
// the one writer taking results in order (bounded memory).
class task_queue {
public:
  task_queue(std::size_t ntasks, unsigned threads)
      : results_(ntasks), window_(std::size_t(threads) * 3 + 2) {}
  task_queue(const task_queue&) = delete;
  task_queue& operator=(const task_queue&) = delete;
  ~task_queue() { shutdown(); }

  // Starts up to n workers, each running work() until next() is empty, and
  // returns how many started: as many as the system gave threads for (none
  // at all when it gives none; then the writer runs each task itself).
  template <class Work> std::size_t start(std::size_t n, Work work) {
    for (std::size_t t = 0; t < n; ++t) {
      try {
        pool_.emplace_back(work);
      } catch (const std::system_error&) {
        break;
      }
    }
    return pool_.size();
  }
  // Worker: the next task's index, once it is within the window; nullopt when
  // the tasks are done or the queue stopped.
  std::optional<std::size_t> next() {
    const std::size_t i = next_.fetch_add(1);
    if (i >= results_.size()) return std::nullopt;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || i < written_ + window_; });
    if (stop_) return std::nullopt;
    return i;
  }
  // Worker: publishes task i's result.
  void put(std::size_t i, done r) {
    {
      std::lock_guard lock(mu_);
      r.ready = true;
      results_[i] = std::move(r);
    }
    cv_.notify_all();
  }
  // Writer: waits for task i's result and takes it.
  done take(std::size_t i) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return results_[i].ready; });
    return std::move(results_[i]);
  }
  // Writer: task i is written, so the window moves on.
  void written() {
    {
      std::lock_guard lock(mu_);
      ++written_;
    }
    cv_.notify_all();
  }
  // Stops and joins the workers.
  void shutdown() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : pool_)
      if (t.joinable()) t.join();
  }

private:
  std::vector<done> results_;
  const std::size_t window_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t written_ = 0;
  std::atomic<std::size_t> next_{0};
  bool stop_ = false;
  std::vector<std::thread> pool_;
};

// Extra-field sizes of a local header: zip64 sizes, and for stored data the
// alignment record whose padding puts the data at a multiple of align_data.
struct local_layout {
  std::size_t extra_len = 0;
  std::size_t pad = 0;
};

local_layout layout_local(std::uint64_t at, std::size_t name_size, bool zip64, bool stored) {
  local_layout l;
  l.extra_len = zip64 ? 20 : 0;
  if (stored) {
    const std::uint64_t base = at + 30 + name_size + l.extra_len + 6;
    l.pad = static_cast<std::size_t>((align_data - base % align_data) % align_data);
    l.extra_len += 6 + l.pad;
  }
  return l;
}

// Fills the entry's fixed fields (as CPython's zipfile writes them) once its
// data is written.
void finish_entry(entry& e, const plan& p, std::uint32_t crc, std::uint64_t local,
                  std::uint64_t data_start, std::uint64_t data_end) {
  e.crc = crc;
  e.usize = p.usize;
  e.csize = data_end - data_start;
  e.local_offset = local;
  e.data_offset = data_start;
  e.chunk_usize = e.chunk_csizes.empty() ? 0 : p.chunk;
  e.flags = needs_utf8_flag(e.name) ? 0x800 : 0;
  e.version_needed = p.zip64 ? 45 : 20;
  e.version_made = static_cast<std::uint16_t>((3 << 8) | e.version_needed);
  e.mtime = 0;
  e.mdate = dos_date_1980;
  e.external_attr = attr_rw_user;
}

// The local file header of a finished entry.
std::vector<std::byte> local_header(const entry& e, bool zip64, const local_layout& l,
                                    bool stored) {
  std::vector<std::byte> h;
  h.reserve(30 + e.name.size() + l.extra_len);
  put32(h, 0x04034b50);
  put16(h, e.version_needed);
  put16(h, e.flags);
  put16(h, e.method);
  put16(h, e.mtime);
  put16(h, e.mdate);
  put32(h, e.crc);
  put32(h, zip64 ? zip64_marker32 : e.csize);
  put32(h, zip64 ? zip64_marker32 : e.usize);
  put16(h, e.name.size());
  put16(h, l.extra_len);
  put_str(h, e.name);
  if (zip64) {
    put16(h, extra_zip64);
    put16(h, 16);
    put64(h, e.usize);
    put64(h, e.csize);
  }
  if (stored) {
    put16(h, extra_align);
    put16(h, 2 + l.pad);
    put16(h, align_data);
    h.insert(h.end(), l.pad, std::byte{0});
  }
  return h;
}

} // namespace

writer::writer(int fd, std::string label, std::uint64_t offset, std::vector<entry> existing)
    : fd_(fd), label_(std::move(label)), pos_(offset), entries_(std::move(existing)) {}

void writer::write_at(std::uint64_t offset, std::span<const std::byte> bytes) {
  std::size_t done_bytes = 0;
  while (done_bytes < bytes.size()) {
    const std::size_t want = std::min<std::size_t>(bytes.size() - done_bytes, std::size_t(1) << 30);
    const ssize_t n =
        ::pwrite(fd_, bytes.data() + done_bytes, want, static_cast<off_t>(offset + done_bytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw error(errc::io_error, std::string("write failed: ") + std::strerror(errno), label_, {},
                  offset + done_bytes);
    }
    done_bytes += static_cast<std::size_t>(n);
  }
}

void writer::add(const std::vector<member_source>& members, const write_options& options) {
  const unsigned threads = options.threads ? options.threads : default_threads();
  const int level = std::clamp(options.level, 0, 12);
  std::vector<plan> plans(members.size()); // not movable (once_flag): sized once
  std::vector<task> tasks;
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (members[m].name.size() > 0xFFFF)
      throw error(errc::invalid_argument, "member name longer than 65535 bytes", label_,
                  members[m].name.substr(0, 64));
    plan_member(members[m], m, options, level, plans[m], tasks);
  }

  auto run = [&](std::size_t i, chunk_compressor& comp, std::vector<std::byte>& joined) {
    const task& t = tasks[i];
    done r;
    try {
      run_task(t, members[t.member], plans[t.member], options.compress, comp, joined, r);
    } catch (...) {
      r.err = std::current_exception();
    }
    return r;
  };
  task_queue queue(tasks.size(), threads);
  const std::size_t workers = queue.start(std::min<std::size_t>(threads, tasks.size()), [&] {
    chunk_compressor comp(level);
    std::vector<std::byte> joined;
    while (const auto i = queue.next())
      queue.put(*i, run(*i, comp, joined));
  });
  // Without workers (no thread to be had) the tasks run here, one by one.
  std::optional<chunk_compressor> own_comp;
  std::vector<std::byte> own_joined;
  auto result = [&](std::size_t i) {
    if (workers > 0) return queue.take(i);
    if (!own_comp) own_comp.emplace(level);
    return run(i, *own_comp, own_joined);
  };

  std::uint64_t all_bytes = 0, done_bytes = 0;
  for (const auto& p : plans)
    all_bytes += p.usize;
  for (std::size_t m = 0; m < members.size(); ++m) {
    const auto& src = members[m];
    const auto& p = plans[m];
    const bool stored = !options.compress;
    const local_layout layout = layout_local(pos_, src.name.size(), p.zip64, stored);
    const std::uint64_t local = pos_;
    const std::uint64_t data_start = local + 30 + src.name.size() + layout.extra_len;
    // The data first, task by task in order; the header last, once sizes and CRC are known.
    std::uint64_t at = data_start;
    std::uint32_t crc = 0;
    entry e;
    e.name = src.name;
    e.method = stored ? method_stored : method_deflate;
    for (std::size_t k = 0; k < p.ntasks; ++k) {
      const std::size_t i = p.first_task + k;
      done r = result(i);
      if (r.err) std::rethrow_exception(r.err);
      const task& t = tasks[i];
      const std::uint64_t len = t.end - t.begin;
      crc = k == 0
                ? r.crc
                : static_cast<std::uint32_t>(crc32_combine(crc, r.crc, static_cast<z_off_t>(len)));
      if (stored) {
        auto [a, b] = slice(src, t.begin, t.end);
        write_at(at, a);
        write_at(at + a.size(), b);
        at += len;
      } else {
        write_at(at, r.data);
        at += r.data.size();
        if (p.ntasks > 1) e.chunk_csizes.push_back(static_cast<std::uint32_t>(r.data.size()));
      }
      queue.written();
      done_bytes += len;
      if (options.progress) options.progress(done_bytes, all_bytes);
    }
    finish_entry(e, p, crc, local, data_start, at);
    if (!p.zip64 && (e.csize >= zip64_marker32 || e.usize >= zip64_marker32))
      throw error(errc::invalid_argument, "internal error: zip64 needed but not planned", label_,
                  e.name);
    write_at(local, local_header(e, p.zip64, layout, stored));
    pos_ = at;
    entries_.push_back(std::move(e));
  }
}

void writer::finish(const write_options& options) {
  std::vector<std::byte> cd;
  const std::uint64_t cd_offset = pos_;
  for (const auto& e : entries_) {
    const bool big_u = options.force_zip64 || e.usize >= zip64_marker32;
    const bool big_c = options.force_zip64 || e.csize >= zip64_marker32;
    const bool big_o = options.force_zip64 || e.local_offset >= zip64_marker32;
    std::vector<std::byte> x;
    if (big_u || big_c || big_o) {
      put16(x, extra_zip64);
      put16(x, 8 * (int(big_u) + int(big_c) + int(big_o)));
      if (big_u) put64(x, e.usize);
      if (big_c) put64(x, e.csize);
      if (big_o) put64(x, e.local_offset);
    }
    if (!e.chunk_csizes.empty()) {
      put16(x, extra_chunks);
      put16(x, 9 + 4 * e.chunk_csizes.size());
      x.push_back(std::byte{1});
      put64(x, e.chunk_usize);
      for (auto c : e.chunk_csizes)
        put32(x, c);
    }
    if (x.size() > 0xFFFF)
      throw error(errc::invalid_argument, "extra field too long", label_, e.name);
    const bool z64 = big_u || big_c || big_o;
    const std::uint16_t needed = std::max<std::uint16_t>(e.version_needed, z64 ? 45 : 20);
    put32(cd, 0x02014b50);
    put16(cd, (e.version_made & 0xFF00) | std::max<std::uint16_t>(e.version_made & 0xFF, needed));
    put16(cd, needed);
    put16(cd, e.flags);
    put16(cd, e.method);
    put16(cd, e.mtime);
    put16(cd, e.mdate);
    put32(cd, e.crc);
    put32(cd, big_c ? zip64_marker32 : e.csize);
    put32(cd, big_u ? zip64_marker32 : e.usize);
    put16(cd, e.name.size());
    put16(cd, x.size());
    put16(cd, 0); // comment
    put16(cd, 0); // disk
    put16(cd, 0); // internal attributes
    put32(cd, e.external_attr);
    put32(cd, big_o ? zip64_marker32 : e.local_offset);
    put_str(cd, e.name);
    cd.insert(cd.end(), x.begin(), x.end());
  }
  const std::uint64_t n = entries_.size(), cd_size = cd.size();
  const bool z64 = options.force_zip64 || n >= 0xFFFF || cd_size >= zip64_marker32 ||
                   cd_offset >= zip64_marker32;
  if (z64) {
    const std::uint64_t end64 = cd_offset + cd_size;
    put32(cd, 0x06064b50);
    put64(cd, 44);
    put16(cd, (3 << 8) | 45);
    put16(cd, 45);
    put32(cd, 0);
    put32(cd, 0);
    put64(cd, n);
    put64(cd, n);
    put64(cd, cd_size);
    put64(cd, cd_offset);
    put32(cd, 0x07064b50);
    put32(cd, 0);
    put64(cd, end64);
    put32(cd, 1);
  }
  put32(cd, 0x06054b50);
  put16(cd, 0);
  put16(cd, 0);
  put16(cd, std::min<std::uint64_t>(n, 0xFFFF));
  put16(cd, std::min<std::uint64_t>(n, 0xFFFF));
  put32(cd, std::min<std::uint64_t>(cd_size, zip64_marker32));
  put32(cd, std::min<std::uint64_t>(cd_offset, zip64_marker32));
  put16(cd, 0);
  write_at(cd_offset, cd);
  pos_ = cd_offset + cd.size();
}

} // namespace detail::zip
} // namespace v1
} // namespace npio
