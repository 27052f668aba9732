// Appends and partial reads against plain system calls (issue 11), with max RSS.
//   npio_bench_rows append DIR        1,000 appends of 1 KiB rows vs 1,000 write()s
//   npio_bench_rows slice DIR [GiB]   rows from a sparse GiB-sized .npy (default 10)
//                                     by load_rows and npy_reader vs pread of the same bytes
// Each measurement runs in a child process so that its max RSS is its own, 7
// times; the median wall and CPU times are shown.
// The files are created in DIR and removed afterwards.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <npio/npio.hpp>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

namespace {

struct measured {
  double seconds = 0;     // wall time of f
  double cpu_seconds = 0; // CPU time of f (user + system), the child's own
  long max_rss_kib = 0;
};

double cpu_now() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs f in a child `reps` times; returns the median wall and CPU times (the
// machine is shared: a median, not a best) and the largest max RSS.
measured in_child(const std::function<void()>& f, int reps = 7) {
  measured best{0, 0, 0};
  std::vector<double> walls, cpus;
  for (int i = 0; i < reps; ++i) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) std::abort();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipefd[0]);
      const auto t0 = clk::now();
      const double c0 = cpu_now();
      try {
        f();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "bench: %s\n", e.what());
        ::_exit(1);
      }
      const double s[2] = {std::chrono::duration<double>(clk::now() - t0).count(), cpu_now() - c0};
      if (::write(pipefd[1], s, sizeof s) != sizeof s) ::_exit(1);
      ::_exit(0);
    }
    ::close(pipefd[1]);
    double s[2] = {0, 0};
    const bool ok = ::read(pipefd[0], s, sizeof s) == sizeof s;
    ::close(pipefd[0]);
    int status = 0;
    rusage ru{};
    ::wait4(pid, &status, 0, &ru);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "bench: child failed\n");
      std::exit(1);
    }
    walls.push_back(s[0]);
    cpus.push_back(s[1]);
    best.max_rss_kib = std::max(best.max_rss_kib, ru.ru_maxrss);
  }
  best.seconds = median(walls);
  best.cpu_seconds = median(cpus);
  return best;
}

void write_all(int fd, const void* p, std::size_t n) {
  if (::write(fd, p, n) != static_cast<ssize_t>(n)) std::abort();
}

int bench_append(const fs::path& dir) {
  constexpr int rows = 1000;
  const npio::shape_t row_shape{256}; // 256 float32: 1 KiB
  std::vector<float> row(256, 1.5f);
  const npio::array one = npio::array::from(row);
  const auto p = dir / "append.npy", q = dir / "plain.bin";
  const auto f4 = npio::dtype::parse("<f4");
  struct mode {
    const char* name;
    std::function<void()> run;
    std::vector<double> wall, cpu, wall_ratio, cpu_ratio;
  };
  auto appender = [&](std::size_t buffer) {
    return [&, buffer] {
      fs::remove(p);
      npio::append_options o;
      o.buffer_bytes = buffer;
      npio::npy_appender a(p, o, f4, row_shape);
      for (int i = 0; i < rows; ++i)
        a.append(one);
    };
  };
  std::vector<mode> modes;
  modes.push_back({"plain write()s",
                   [&] {
                     const int fd =
                         ::open(q.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                     for (int i = 0; i < rows; ++i)
                       write_all(fd, row.data(), 1024);
                     ::close(fd);
                   },
                   {},
                   {},
                   {},
                   {}});
  // The default: a 64 KiB buffer, flushed by the destructor.
  modes.push_back({"npy_appender (default: 64 KiB buffer)",
                   appender(npio::append_options{}.buffer_bytes),
                   {},
                   {},
                   {},
                   {}});
  // Python's io.DEFAULT_BUFFER_SIZE
  modes.push_back({"npy_appender, buffer_bytes = 8 KiB", appender(8 << 10), {}, {}, {}, {}});
  modes.push_back({"npy_appender, buffer_bytes = 0 (write-through)", appender(0), {}, {}, {}, {}});
  modes.push_back({"npio::append x 1,000 (open, lock, rows, header)",
                   [&] {
                     fs::remove(p);
                     npio::save(p, npio::array(f4, {0, 256}));
                     for (int i = 0; i < rows; ++i)
                       npio::append(p, one);
                   },
                   {},
                   {},
                   {},
                   {}});
  // Round by round, every mode once, so that each ratio compares runs made
  // moments apart on this shared machine; medians over the rounds.
  constexpr int rounds = 9;
  for (int r = 0; r < rounds; ++r)
    for (auto& m : modes) {
      const measured t = in_child(m.run, 1);
      m.wall.push_back(t.seconds);
      m.cpu.push_back(t.cpu_seconds);
      m.wall_ratio.push_back(t.seconds / modes[0].wall.back());
      m.cpu_ratio.push_back(t.cpu_seconds / modes[0].cpu.back());
    }
  if (npio::read_header(p).shape != npio::shape_t{rows, 256}) return 1;
  std::printf("append: 1,000 rows of 1 KiB; medians of %d rounds (ratios: to the plain write()s "
              "of the same round)\n",
              rounds);
  std::printf("  %-48s %9s %6s %9s %6s\n", "", "wall us", "", "CPU us", "");
  for (const auto& m : modes)
    std::printf("  %-48s %9.1f %5.2fx %9.1f %5.2fx\n", m.name, median(m.wall) * 1e6,
                median(m.wall_ratio), median(m.cpu) * 1e6, median(m.cpu_ratio));
  fs::remove(p);
  fs::remove(q);
  return 0;
}

int bench_slice(const fs::path& dir, double gib) {
  const auto p = dir / "big.npy";
  const std::uint64_t cols = 1024; // float32: 4 KiB rows
  const auto nrows = static_cast<std::int64_t>(gib * double(1ull << 30) / double(cols * 4));
  {
    // A sparse file: the header, then a hole the size of the data.
    const std::string head =
        npio::format_header(npio::dtype::parse("<f4"), {nrows, std::int64_t(cols)}, false);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    write_all(fd, head.data(), head.size());
    if (::ftruncate(fd, static_cast<off_t>(head.size() + std::uint64_t(nrows) * cols * 4)) != 0)
      std::abort();
    ::close(fd);
  }
  const auto h = npio::read_header(p);
  const std::int64_t b = nrows / 2, n = 64 * 1024; // 256 MiB of rows from the middle
  const std::uint64_t bytes = std::uint64_t(n) * cols * 4;
  // The process itself (libraries, stack): what every child starts with.
  const measured idle = in_child([&] { (void)npio::read_header(p); });
  const measured pread = in_child([&] {
    // Uninitialized like load_rows's buffer: pages are faulted in by the read.
    const std::unique_ptr<std::byte[]> buf(new std::byte[bytes]);
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    std::uint64_t got = 0;
    while (got < bytes) {
      const ssize_t r = ::pread(fd, buf.get() + got, bytes - got,
                                static_cast<off_t>(h.data_offset + b * cols * 4 + got));
      if (r <= 0) std::abort();
      got += std::uint64_t(r);
    }
    ::close(fd);
  });
  const measured rows = in_child([&] {
    const npio::array a = npio::load_rows(p, b, b + n);
    if (a.nbytes() != bytes) std::abort();
  });
  const measured stream = in_child([&] {
    // 256 MiB of rows in 4 MiB chunks from the start: one chunk in memory at a time.
    npio::npy_reader r(p);
    std::int64_t seen = 0;
    while (seen < n) {
      auto c = r.next(1024);
      if (!c) std::abort();
      seen += c->shape()[0];
    }
  });
  std::printf("rows [%lld, %lld) of a %.1f GiB float32 (%lld, %llu) .npy: %.0f MiB (median of 7)\n",
              (long long)b, (long long)(b + n), gib, (long long)nrows, (unsigned long long)cols,
              double(bytes) / (1 << 20));
  const long base = idle.max_rss_kib, slice = long(bytes >> 10);
  std::printf("  process alone: max RSS %ld KiB; below, RSS beyond it and the slice\n", base);
  std::printf("  pread into a buffer      %8.1f ms  +%ld KiB\n", pread.seconds * 1e3,
              pread.max_rss_kib - base - slice);
  std::printf("  load_rows                %8.1f ms  +%ld KiB  %.2fx pread's time\n",
              rows.seconds * 1e3, rows.max_rss_kib - base - slice, rows.seconds / pread.seconds);
  std::printf("  npy_reader, 4 MiB chunks %8.1f ms  +%ld KiB beyond one chunk  %.2fx\n",
              stream.seconds * 1e3, stream.max_rss_kib - base - 4096,
              stream.seconds / pread.seconds);
  fs::remove(p);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: npio_bench_rows append|slice DIR [GiB]\n");
    return 2;
  }
  const std::string what = argv[1];
  const fs::path dir = argv[2];
  fs::create_directories(dir);
  if (what == "append") return bench_append(dir);
  if (what == "slice") return bench_slice(dir, argc > 3 ? std::atof(argv[3]) : 10.0);
  std::fprintf(stderr, "npio_bench_rows: unknown benchmark %s\n", argv[1]);
  return 2;
}
