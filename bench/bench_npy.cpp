// .npy load, save and mmap benchmarks, each beside the plain POSIX floor
// (read()/write() of the same bytes). bench/run.sh runs this and
// bench/npy_numpy.py on the same files and prints the ratios; see
// docs/performance.md.
//
// Environment:
//   NPIO_BENCH_DIR    directory with big.npy and small/NNNNN.npy, made by
//                     `npy_numpy.py setup` (default: ./bench-data)
// Files written by the save cases go to NPIO_BENCH_DIR/out/ and are removed.
#include <algorithm>
#include <benchmark/benchmark.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <npio/io.hpp>
#include <npio/load_into.hpp>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct config {
  fs::path dir;
  fs::path big;
  std::vector<std::string> small; // plain strings: no path work in the timed loop
  fs::path out;
};

const config& cfg() {
  static const config c = [] {
    config r;
    const char* d = std::getenv("NPIO_BENCH_DIR");
    r.dir = d ? d : "bench-data";
    r.big = r.dir / "big.npy";
    if (!fs::exists(r.big))
      throw std::runtime_error(r.big.string() + " missing: run bench/npy_numpy.py setup DIR");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(r.dir / "small"))
      files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files)
      r.small.push_back(f.string());
    r.out = r.dir / "out";
    fs::create_directories(r.out);
    return r;
  }();
  return c;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::size_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("fstat");
  return static_cast<std::size_t>(st.st_size);
}

void read_all(int fd, std::byte* p, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, p, std::min<std::size_t>(n, std::size_t(1) << 30));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail("read");
    p += got, n -= static_cast<std::size_t>(got);
  }
}

void write_all(int fd, const std::byte* p, std::size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(fd, p, std::min<std::size_t>(n, std::size_t(1) << 30));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) fail("write");
    p += put, n -= static_cast<std::size_t>(put);
  }
}

// Fresh memory the way NumPy's allocator gets it for big arrays: 64-byte
// aligned (2 MiB here, so whole huge pages) with madvise(MADV_HUGEPAGE).
struct fresh_buffer {
  std::byte* p = nullptr;
  std::size_t n = 0;
  explicit fresh_buffer(std::size_t size) : n(size) {
    const std::size_t huge = std::size_t(2) << 20;
    void* v = nullptr;
    if (::posix_memalign(&v, size >= huge ? huge : 64, size ? size : 1) != 0) fail("alloc");
    p = static_cast<std::byte*>(v);
    if (size >= huge) ::madvise(p, size, MADV_HUGEPAGE);
  }
  fresh_buffer(fresh_buffer&& o) noexcept : p(std::exchange(o.p, nullptr)), n(o.n) {}
  ~fresh_buffer() { std::free(p); }
  fresh_buffer(const fresh_buffer&) = delete;
  fresh_buffer& operator=(const fresh_buffer&) = delete;
};

// Warm the page cache (and fault in nothing else) before the first timing.
void warm(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + p.string());
  static std::vector<std::byte> chunk(std::size_t(1) << 20);
  while (::read(fd, chunk.data(), chunk.size()) > 0) {
  }
  ::close(fd);
}

// ---- load of the big file into fresh memory ------------------------------

void load_fresh_npio(benchmark::State& state) {
  const auto& c = cfg();
  warm(c.big);
  (void)npio::load(c.big); // untimed: the first big allocation of a process pays for reclaim
  std::size_t bytes = 0;
  for (auto _ : state) {
    npio::array a = npio::load(c.big);
    bytes = a.nbytes();
    benchmark::DoNotOptimize(a.data());
    state.PauseTiming(); // freeing 1 GiB is not part of a load (NumPy's timing excludes it too)
    a = npio::array();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}

void load_fresh_read(benchmark::State& state) {
  const auto& c = cfg();
  warm(c.big);
  (void)npio::load(c.big); // untimed warm-up, as in load_fresh_npio
  std::size_t bytes = 0;
  for (auto _ : state) {
    const int fd = ::open(c.big.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open");
    bytes = file_size(fd);
    auto* buf = new fresh_buffer(bytes);
    read_all(fd, buf->p, bytes);
    ::close(fd);
    benchmark::DoNotOptimize(buf->p);
    state.PauseTiming();
    delete buf;
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}

// ---- load of the big file into a caller's reused buffer -------------------

void load_reused_npio(benchmark::State& state) {
  const auto& c = cfg();
  warm(c.big);
  npio::array dst = npio::load(c.big); // right dtype and shape, memory already faulted in
  for (auto _ : state) {
    npio::load_into(c.big, dst);
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(dst.nbytes()) * state.iterations());
}

void load_reused_read(benchmark::State& state) {
  const auto& c = cfg();
  warm(c.big);
  std::size_t n = 0;
  {
    const int fd = ::open(c.big.c_str(), O_RDONLY | O_CLOEXEC);
    n = file_size(fd);
    ::close(fd);
  }
  fresh_buffer buf(n);
  std::memset(buf.p, 0, n);
  for (auto _ : state) {
    const int fd = ::open(c.big.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open");
    read_all(fd, buf.p, n);
    ::close(fd);
    benchmark::DoNotOptimize(buf.p);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(n) * state.iterations());
}

// ---- save -----------------------------------------------------------------
// Each iteration writes a new file: the previous one is removed untimed (an
// unlinked file's dirty pages are dropped, so writeback does not pile up).

void save_npio(benchmark::State& state) {
  const auto& c = cfg();
  const npio::array a = npio::load(c.big);
  const fs::path out = c.out / "save_npio.npy";
  // Untimed warm-up: here the first big write of a process is several times
  // slower than the next ones (page cache reclaim), for NumPy as for npio.
  for (int i = 0; i < 2; ++i)
    npio::save(out, a), fs::remove(out);
  for (auto _ : state) {
    npio::save(out, a);
    state.PauseTiming();
    fs::remove(out);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(a.nbytes()) * state.iterations());
}

// big.npy's bytes, header included, in fresh memory.
fresh_buffer read_big(const config& c) {
  const int in = ::open(c.big.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("open " + c.big.string());
  fresh_buffer buf(file_size(in));
  read_all(in, buf.p, buf.n);
  ::close(in);
  return buf;
}

// Times write_file() making `out` anew (n bytes), as save_npio times a save.
template <class F>
void time_new_files(benchmark::State& state, const std::string& out, std::size_t n,
                    F&& write_file) {
  for (int i = 0; i < 2; ++i) // untimed warm-up, as in save_npio
    write_file(), ::unlink(out.c_str());
  for (auto _ : state) {
    write_file();
    state.PauseTiming();
    ::unlink(out.c_str());
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(n) * state.iterations());
}

// The same bytes (header and data) with open/write/close; Prealloc: fallocate
// first, as NumPy's tofile does.
template <bool Prealloc> void save_write(benchmark::State& state) {
  const auto& c = cfg();
  const fresh_buffer buf = read_big(c);
  const std::size_t n = buf.n;
  const std::string out = (c.out / "save_write.npy").string();
  auto write_file = [&] {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open");
    if (Prealloc && ::fallocate(fd, 0, 0, static_cast<off_t>(n)) != 0) fail("fallocate");
    write_all(fd, buf.p, n);
    ::close(fd);
  };
  time_new_files(state, out, n, write_file);
}

// Could two threads write one new file faster than one write() stream? The
// same bytes, fallocate first, the two halves (split on 2 MiB) written by two
// threads at once: Map false with pwrite() each, Map true by copying into a
// shared writable mapping of the file. The overwrite's bound (see table.py)
// is NumPy's overwrite over the fastest way here of writing a new file.
template <bool Map> void save_two_threads(benchmark::State& state) {
  const auto& c = cfg();
  const fresh_buffer buf = read_big(c);
  const std::size_t n = buf.n;
  const std::string out = (c.out / "save_two_threads.npy").string();
  const std::size_t half = n / 2 & ~((std::size_t(2) << 20) - 1);
  auto write_file = [&] {
    const int fd = ::open(out.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open");
    if (::fallocate(fd, 0, 0, static_cast<off_t>(n)) != 0) fail("fallocate");
    std::byte* map = nullptr;
    if (Map) {
      void* m = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (m == MAP_FAILED) fail("mmap");
      map = static_cast<std::byte*>(m);
    }
    auto part = [&](std::size_t from, std::size_t to) {
      if (Map) {
        std::memcpy(map + from, buf.p + from, to - from);
        return;
      }
      for (std::size_t at = from; at < to;) {
        const ssize_t put = ::pwrite(fd, buf.p + at, std::min<std::size_t>(to - at, 1 << 30),
                                     static_cast<off_t>(at));
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) fail("pwrite");
        at += static_cast<std::size_t>(put);
      }
    };
    std::thread second(part, half, n);
    part(0, half);
    second.join();
    if (Map) ::munmap(map, n);
    ::close(fd);
  };
  time_new_files(state, out, n, write_file);
}

// ---- save over an existing file ----------------------------------------------
// As when a program rewrites yesterday's checkpoint: the file being replaced
// was written back (fsync, untimed), so freeing it costs what freeing blocks
// on disk costs (ext4 with discard: about 1.2 s a GiB here). np.save pays that
// in open(O_TRUNC); npio::save returns once the new file is renamed into
// place and frees the old one on its release thread. Timed: the caller's
// wall clock. The counter cpu_with_release is the process CPU time of the
// save plus flush_releases (the release thread's work included), since
// google-benchmark's own cpu_time counts only this thread.

double process_cpu() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void sync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + p.string());
  if (::fsync(fd) != 0) fail("fsync");
  ::close(fd);
}

void overwrite_npio(benchmark::State& state) {
  const auto& c = cfg();
  const npio::array a = npio::load(c.big);
  const fs::path out = c.out / "overwrite_npio.npy";
  npio::save(out, a);
  for (int i = 0; i < 2; ++i) { // untimed warm-up, as in save_npio
    sync_file(out);
    npio::save(out, a);
    npio::flush_releases();
  }
  double cpu = 0, release = 0;
  for (auto _ : state) {
    state.PauseTiming();
    sync_file(out);
    npio::flush_releases();
    const double c0 = process_cpu();
    state.ResumeTiming();
    npio::save(out, a);
    state.PauseTiming();
    const auto r0 = std::chrono::steady_clock::now();
    npio::flush_releases();
    release += std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
    cpu += process_cpu() - c0;
    state.ResumeTiming();
  }
  fs::remove(out);
  npio::flush_releases();
  state.counters["cpu_with_release"] = cpu / static_cast<double>(state.iterations());
  // What freeing the old file took on the release thread after save returned
  // (the part of NumPy's overwrite that npio moves off the caller's path).
  state.counters["release_wall"] = release / static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(a.nbytes()) * state.iterations());
}

// The floor of a plain overwrite: open(O_TRUNC) + write, as np.save does.
void overwrite_write(benchmark::State& state) {
  const auto& c = cfg();
  const fresh_buffer buf = read_big(c);
  const std::size_t n = buf.n;
  const fs::path out = c.out / "overwrite_write.npy";
  auto write_file = [&] {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open");
    write_all(fd, buf.p, n);
    ::close(fd);
  };
  write_file();
  for (int i = 0; i < 2; ++i) // untimed warm-up, as in save_npio
    sync_file(out), write_file();
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    sync_file(out);
    const double c0 = process_cpu();
    state.ResumeTiming();
    write_file();
    state.PauseTiming();
    cpu += process_cpu() - c0;
    state.ResumeTiming();
  }
  fs::remove(out);
  state.counters["cpu_with_release"] = cpu / static_cast<double>(state.iterations());
}

// ---- mmap open (open + map + unmap + close; NumPy's figure is open only) ---

void mmap_open_load(benchmark::State& state) {
  const auto& c = cfg();
  npio::load_options o;
  o.mmap_mode = npio::mmap_mode::r;
  for (auto _ : state) {
    npio::array a = npio::load(c.big, o);
    benchmark::DoNotOptimize(a.data());
  }
}

void mmap_open_memmap(benchmark::State& state) {
  const auto& c = cfg();
  for (auto _ : state) {
    npio::array a = npio::open_memmap(c.big, {.mode = npio::mmap_mode::r});
    benchmark::DoNotOptimize(a.data());
  }
}

// The system calls of load(mmap_mode r) and nothing else: open, fstat, one
// 4 KiB pread of the header, mmap of the whole file, munmap, close.
void mmap_open_syscalls(benchmark::State& state) {
  const auto& c = cfg();
  const std::string path = c.big.string();
  std::byte head[4096];
  for (auto _ : state) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open");
    const std::size_t n = file_size(fd);
    if (::pread(fd, head, sizeof head, 0) <= 0) fail("pread");
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) fail("mmap");
    benchmark::DoNotOptimize(p);
    ::munmap(p, n);
    ::close(fd);
  }
}

// ---- many small files (each iteration loads every file once) --------------

void small_load_npio(benchmark::State& state) {
  const auto& c = cfg();
  std::vector<fs::path> paths(c.small.begin(), c.small.end());
  for (const auto& p : paths)
    warm(p);
  for (auto _ : state) {
    for (const auto& p : paths) {
      npio::array a = npio::load(p);
      benchmark::DoNotOptimize(a.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(paths.size()) * state.iterations());
}

// open + fstat + read into fresh memory + close: the system-call floor.
void small_load_read(benchmark::State& state) {
  const auto& c = cfg();
  for (auto _ : state) {
    for (const auto& p : c.small) {
      const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail("open");
      const std::size_t n = file_size(fd);
      std::unique_ptr<std::byte[]> buf(new std::byte[n]);
      read_all(fd, buf.get(), n);
      ::close(fd);
      benchmark::DoNotOptimize(buf.get());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(c.small.size()) * state.iterations());
}

// Big cases: few iterations each (each moves 1 GiB); run.sh adds repetitions.
// NPIO_BENCH_BIG_ITERS and NPIO_BENCH_SMALL_ITERS (passes over all small files) override.
int register_all() {
  auto iters = [](const char* env, int dflt) {
    const char* s = std::getenv(env);
    return static_cast<benchmark::IterationCount>(s ? std::max(1, std::atoi(s)) : dflt);
  };
  const auto big = iters("NPIO_BENCH_BIG_ITERS", 3);
  const auto save = iters("NPIO_BENCH_BIG_ITERS", 2);
  const auto small = iters("NPIO_BENCH_SMALL_ITERS", 2);
  using fn = void (*)(benchmark::State&);
  const struct {
    const char* name;
    fn f;
    benchmark::IterationCount n; // 0: let the library choose
    benchmark::TimeUnit unit;
  } cases[] = {
      {"load_fresh/npio", load_fresh_npio, big, benchmark::kMillisecond},
      {"load_fresh/read", load_fresh_read, big, benchmark::kMillisecond},
      {"load_reused/npio", load_reused_npio, big, benchmark::kMillisecond},
      {"load_reused/read", load_reused_read, big, benchmark::kMillisecond},
      {"save/npio", save_npio, save, benchmark::kMillisecond},
      {"save/write", save_write<false>, save, benchmark::kMillisecond},
      {"save/write_fallocate", save_write<true>, save, benchmark::kMillisecond},
      {"save/pwrite_2threads", save_two_threads<false>, save, benchmark::kMillisecond},
      {"save/mmap_2threads", save_two_threads<true>, save, benchmark::kMillisecond},
      {"overwrite/npio", overwrite_npio, save, benchmark::kMillisecond},
      {"overwrite/write", overwrite_write, save, benchmark::kMillisecond},
      {"mmap_open/npio_load", mmap_open_load, 0, benchmark::kMicrosecond},
      {"mmap_open/npio_open_memmap", mmap_open_memmap, 0, benchmark::kMicrosecond},
      {"mmap_open/syscalls", mmap_open_syscalls, 0, benchmark::kMicrosecond},
      {"small_load/npio", small_load_npio, small, benchmark::kMillisecond},
      {"small_load/read", small_load_read, small, benchmark::kMillisecond},
  };
  for (const auto& c : cases) {
    // Process CPU time: npio's release thread (overwrite) counts too.
    auto* b = benchmark::RegisterBenchmark(c.name, c.f)
                  ->UseRealTime()
                  ->MeasureProcessCPUTime()
                  ->Unit(c.unit);
    if (c.n) b->Iterations(c.n);
  }
  return 0;
}

} // namespace

static const int registered = register_all();
