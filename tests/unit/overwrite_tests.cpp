// Overwriting a file: the writers return once the new file is in place and a
// background thread frees the old one (issue #12). Killed writers leave the
// old or the new file and temporary files the next save removes; the freed
// space shows in statvfs once flush_releases returns; symbolic links are
// written through; other processes keep their view of the old file.

#include "child_process.hpp"
#include "golden_support.hpp"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <random>
#include <span>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace npio_test;
using test_child::in_child;

// Large enough (2 MiB) that the old file is handed to the release thread.
constexpr std::int64_t big_n = 1 << 18;

npio::array filled(double v, std::int64_t n = big_n) {
  std::vector<double> d(static_cast<std::size_t>(n), v);
  return npio::array::from(d, npio::shape_t{n});
}

// The value every element of the .npy at `p` holds; NaN when they differ.
double uniform_value(const fs::path& p) {
  const npio::array a = npio::load(p);
  const auto v = a.view<double>();
  if (v.empty()) return -1;
  for (double x : v)
    if (x != v[0]) return std::nan("");
  return v[0];
}

bool has_temp(const temp_dir& dir) {
  for (const auto& e : dir.entries())
    if (e.find(".npio-tmp.") != std::string::npos || e.find(".tmp") != std::string::npos)
      return true;
  return false;
}

std::uint64_t free_bytes(const fs::path& p) {
  struct statvfs s {};
  if (::statvfs(p.c_str(), &s) != 0) throw std::runtime_error("statvfs failed");
  return static_cast<std::uint64_t>(s.f_bfree) * s.f_frsize;
}

TEST(Overwrite, ReplacesContentAndLeavesNoTemporaryFile) {
  temp_dir dir;
  const auto p = dir / "x.npy";
  for (int i = 0; i < 8; ++i) {
    npio::save(p, filled(i));
    EXPECT_EQ(uniform_value(p), i);
  }
  npio::flush_releases();
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"x.npy"});
}

TEST(Overwrite, EveryWriterOverABigFile) {
  temp_dir dir;
  const auto z = dir / "z.npz";
  npio::savez(z, {npio::named_array("a", filled(1))});
  npio::savez(z, {npio::named_array("a", filled(2))});
  EXPECT_EQ(npio::npz_file::open(z).at("a").view<double>()[7], 2);
  npio::savez_compressed(z, {npio::named_array("a", filled(3))});
  EXPECT_EQ(npio::npz_file::open(z).at("a").view<double>()[7], 3);
  npio::npz_append(z, "b", filled(4));
  auto f = npio::npz_file::open(z);
  EXPECT_EQ(f.at("a").view<double>()[7], 3);
  EXPECT_EQ(f.at("b").view<double>()[7], 4);
  const auto p = dir / "w.npy";
  npio::save(p, filled(5));
  {
    npio::npy_writer w(p, npio::dtype::parse("<f8"), npio::shape_t{big_n});
    const auto a = filled(6);
    w.write(a.tobytes());
    w.commit();
  }
  EXPECT_EQ(uniform_value(p), 6);
  npio::flush_releases();
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"w.npy", "z.npz"}));
}

TEST(Overwrite, SpaceIsFreedOnceFlushReleasesReturns) {
  temp_dir dir;
  const auto p = dir / "big.npy";
  constexpr std::int64_t n = std::int64_t(256) << 17; // 256 MiB of float64
  {
    npio::save_options o;
    o.sync = true; // on disk, as yesterday's checkpoint is
    npio::save(p, filled(1.5, n), o);
  }
  const std::uint64_t before = free_bytes(dir.path());
  npio::save(p, filled(2.5, 16));
  npio::flush_releases();
  const std::uint64_t after = free_bytes(dir.path());
  // Other processes write to this disk too: ask for half of the 256 MiB.
  EXPECT_GE(after, before + (std::uint64_t(128) << 20))
      << "free bytes before " << before << ", after " << after;
  EXPECT_EQ(uniform_value(p), 2.5);
}

TEST(Overwrite, ThroughASymbolicLinkWritesItsTarget) {
  temp_dir dir;
  fs::create_directory(dir / "real");
  const auto target = dir / "real" / "data.npy";
  const auto link = dir / "link.npy";
  npio::save(target, filled(1));
  fs::create_symlink(fs::path("real") / "data.npy", link);
  npio::save(link, filled(2));
  npio::savez(dir / "real" / "z.npz", {npio::named_array("a", filled(3))});
  fs::create_symlink(fs::path("real") / "z.npz", dir / "z.npz");
  npio::savez(dir / "z.npz", {npio::named_array("a", filled(4))});
  npio::flush_releases();
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(fs::is_symlink(dir / "z.npz"));
  EXPECT_EQ(uniform_value(target), 2);
  EXPECT_EQ(npio::npz_file::open(dir / "real" / "z.npz").at("a").view<double>()[0], 4);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"link.npy", "real", "z.npz"}));
  EXPECT_EQ(fs::directory_iterator(dir / "real") == fs::directory_iterator(), false);
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir / "real")) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 2u) << "a temporary file was left beside the target";
}

TEST(Overwrite, AnotherProcessKeepsItsViewOfTheOldFile) {
  temp_dir dir;
  const auto p = dir / "x.npy";
  npio::save(p, filled(7));
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    try {
      npio::load_options o;
      o.mmap_mode = npio::mmap_mode::r;
      const npio::array mapped = npio::load(p, o);
      const int fd = ::open(p.c_str(), O_RDONLY);
      (void)!::write(ready[1], "r", 1);
      char c;
      (void)!::read(go[0], &c, 1);
      // The file was replaced and (as far as the writer can) freed meanwhile.
      for (double x : mapped.view<double>())
        if (x != 7) code = 2;
      std::vector<double> back(static_cast<std::size_t>(big_n));
      const ssize_t want = static_cast<ssize_t>(back.size() * sizeof(double));
      const off_t size = ::lseek(fd, 0, SEEK_END);
      if (::pread(fd, back.data(), back.size() * sizeof(double), size - want) != want) code = 3;
      for (double x : back)
        if (x != 7) code = 4;
    } catch (...) {
      code = 5;
    }
    ::_exit(code);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  npio::save(p, filled(8));
  npio::flush_releases();
  EXPECT_EQ(uniform_value(p), 8);
  (void)!::write(go[1], "g", 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: mapping changed, 3/4: descriptor's data changed";
  for (int f : {ready[0], ready[1], go[0], go[1]})
    ::close(f);
}

TEST(Overwrite, KilledAtRandomPointsLeavesOldOrNewAndNoTemporaryFiles) {
  temp_dir dir;
  const auto p = dir / "x.npy";
  npio::save(p, filled(0));
  std::mt19937 rng(12);
  std::fflush(nullptr);
  double last = 0;
  for (int round = 0; round < 24; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Alternates whole-file values, so a torn file cannot pass for either.
      for (int i = 1;; ++i) {
        try {
          npio::save(p, filled(i));
          if (i % 3 == 0) npio::savez(dir / "z.npz", {npio::named_array("a", filled(i))});
        } catch (...) {
          ::_exit(3);
        }
      }
    }
    ::usleep(std::uniform_int_distribution<useconds_t>(0, 40000)(rng));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own";
    const double v = uniform_value(p);
    EXPECT_TRUE(v == std::floor(v) && v >= 0) << "round " << round << ": torn file, value " << v;
    last = v;
  }
  // The next save to the directory (of another file) removes what the killed
  // writers left; a file another live process is writing stays.
  const auto foreign = dir / ".other.npy.npio-tmp.0123456789abcdef";
  {
    // A live writer's temporary file: created and locked by a child that waits.
    int ready[2], go[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(go), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int fd = ::open(foreign.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(2);
      (void)!::write(ready[1], "r", 1);
      char c;
      (void)!::read(go[0], &c, 1);
      ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    npio::save(dir / "other.npy", filled(1, 4));
    EXPECT_TRUE(fs::exists(foreign)) << "a live writer's temporary file was removed";
    (void)!::write(go[1], "g", 1);
    ::waitpid(pid, nullptr, 0);
    for (int f : {ready[0], ready[1], go[0], go[1]})
      ::close(f);
  }
  std::vector<std::string> want{"other.npy", "x.npy"};
  if (fs::exists(dir / "z.npz")) want.push_back("z.npz");
  npio::save(dir / "other.npy", filled(2, 4)); // its writer has gone now
  EXPECT_EQ(dir.entries(), want);
  EXPECT_EQ(uniform_value(p), last);
  npio::flush_releases();
}

TEST(Overwrite, StaleTemporaryFilesInALargeDirectory) {
  // Past 32 KiB of entries a directory is read by a process's first write to
  // it and then at most once a second (docs/design.md, "Writing").
  temp_dir dir;
  for (int i = 0; i < 1500; ++i)
    std::ofstream(dir / ("a-file-with-a-rather-long-name-" + std::to_string(i)));
  struct stat st {};
  ASSERT_EQ(::stat(dir.path().c_str(), &st), 0);
  ASSERT_GT(st.st_size, 32 << 10) << "not a large directory on this filesystem";
  const auto stale = [&](const char* hex) {
    const auto p = dir / (std::string(".x.npy.npio-tmp.") + hex);
    std::ofstream(p) << "partial";
    return p;
  };
  const auto first = stale("0000000000000001");
  npio::save(dir / "x.npy", filled(1, 4));
  EXPECT_FALSE(fs::exists(first)) << "the first write to the directory reads it";
  const auto second = stale("0000000000000002");
  ::usleep(1100 * 1000);
  npio::save(dir / "x.npy", filled(2, 4));
  EXPECT_FALSE(fs::exists(second)) << "a second later the directory is read again";
  EXPECT_EQ(uniform_value(dir / "x.npy"), 2);
}

TEST(Overwrite, AForkedChildSavesAndFlushesOnItsOwn) {
  temp_dir dir;
  const auto p = dir / "x.npy", q = dir / "y.npy";
  npio::save(p, filled(1));
  npio::save(q, filled(1));
  npio::save(p, filled(2)); // a release may be pending at the fork
  const int code = in_child([&] {
    npio::save(q, filled(3));
    npio::save(q, filled(4));
    npio::flush_releases();
    return uniform_value(q) == 4 ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
  npio::flush_releases();
  EXPECT_EQ(uniform_value(p), 2);
  EXPECT_EQ(uniform_value(q), 4);
}

TEST(Overwrite, ManyOverwritesStayBounded) {
  // More overwrites than may be pending: the writer waits, never piles up.
  temp_dir dir;
  for (int i = 0; i < 12; ++i)
    npio::save(dir / ("f" + std::to_string(i % 3) + ".npy"), filled(i));
  npio::flush_releases();
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"f0.npy", "f1.npy", "f2.npy"}));
  EXPECT_FALSE(has_temp(dir));
}

// cachestat(2) of an open file (Linux 6.5): pages cached, and dirty. Returns
// false where the kernel has no cachestat.
bool cache_counts(int fd, std::uint64_t& cached, std::uint64_t& dirty) {
  struct {
    std::uint64_t off = 0, len = 0;
  } range;
  struct {
    std::uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } c{};
  if (::syscall(451, fd, &range, &c, 0) != 0) return false;
  cached = c.cache;
  dirty = c.dirty;
  return true;
}

// Reads an open file to its end (so its pages are cached).
void read_through(int fd) {
  std::vector<char> sink(1 << 20);
  while (::read(fd, sink.data(), sink.size()) > 0) {
  }
}

// The file at `p` open read-only, written back (fsync) and read through:
// clean and cached, as yesterday's checkpoint read again today. -1 on error.
int hold_written_back(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::fsync(fd) != 0) {
    ::close(fd);
    return -1;
  }
  read_through(fd);
  return fd;
}

TEST(Overwrite, DropsTheCacheOfACleanOldFileOnly) {
  // The writes of the new file reuse the pages of the old one's cache, as
  // O_TRUNC gives them to np.save: a clean old file's cached pages are
  // dropped as the new file is written. A dirty one's are left alone
  // (dropping would start writing back a file about to go). The old file is
  // held open here, so its pages can be counted after the rename.
  temp_dir dir;
  const fs::path p = dir / "c.npy";
  npio::save(p, filled(1));
  const int held = hold_written_back(p);
  ASSERT_GE(held, 0);
  std::uint64_t cached = 0, dirty = 0;
  const bool have_cachestat = cache_counts(held, cached, dirty);
  if (have_cachestat) {
    EXPECT_GT(cached, 256u);
    EXPECT_EQ(dirty, 0u);
  }
  npio::save(p, filled(2));
  EXPECT_EQ(uniform_value(p), 2);
  if (have_cachestat) {
    ASSERT_TRUE(cache_counts(held, cached, dirty));
    EXPECT_LT(cached, 16u) << "the clean old file's cache was not dropped";
  }
  ::close(held);
  // A dirty old file (just written, not yet written back): its pages stay
  // dirty, no writeback of them is started.
  const int held2 = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(held2, 0);
  std::uint64_t dirty_before = 0;
  if (have_cachestat) {
    ASSERT_TRUE(cache_counts(held2, cached, dirty_before));
  }
  npio::save(p, filled(3));
  if (have_cachestat) {
    ASSERT_TRUE(cache_counts(held2, cached, dirty));
    EXPECT_GT(dirty_before, 256u);
    EXPECT_GE(dirty, dirty_before / 2) << "writeback of the dirty old file was started";
  }
  EXPECT_EQ(uniform_value(p), 3);
  ::close(held2);
  npio::flush_releases();
  EXPECT_FALSE(has_temp(dir));
}

TEST(Overwrite, DropsALargeOldFilesCacheAheadOfTheWrites) {
  // Over 32 MiB a helper thread drops the old file's cache a piece (16 MiB)
  // ahead of the writes; a writer abandoned halfway stops and joins it, and
  // leaves the old file whole.
  temp_dir dir;
  const fs::path p = dir / "l.npy";
  constexpr std::int64_t n = (std::int64_t(200) << 20) / 8; // 200 MiB of float64
  npio::save(p, filled(1, n));
  const int held = hold_written_back(p);
  ASSERT_GE(held, 0);
  {
    npio::npy_writer w(p, npio::dtype::parse("<f8"), npio::shape_t{n});
    const std::vector<double> part(std::size_t(96) << 17, 7.0); // 96 MiB
    w.write(std::as_bytes(std::span(part)));
  } // abandoned: not committed
  EXPECT_EQ(uniform_value(p), 1);
  EXPECT_FALSE(has_temp(dir));
  // The pages the helper dropped are read again: the old file is intact.
  ASSERT_EQ(::lseek(held, 0, SEEK_SET), 0);
  read_through(held);
  std::uint64_t cached = 0, dirty = 0;
  const bool have_cachestat = cache_counts(held, cached, dirty);
  npio::save(p, filled(2, n));
  EXPECT_EQ(uniform_value(p), 2);
  if (have_cachestat) {
    ASSERT_TRUE(cache_counts(held, cached, dirty));
    EXPECT_LT(cached, 64u) << "the large old file's cache was not dropped";
  }
  ::close(held);
  npio::flush_releases();
  EXPECT_FALSE(has_temp(dir));
}

TEST(Overwrite, DropsOnlyAsMuchOfTheOldCacheAsTheNewFileNeeds) {
  // The writes reuse as many pages as the new file has (in whole 64 KiB); the
  // rest of the old file's cache is freed with it on the release thread.
  temp_dir dir;
  const fs::path p = dir / "m.npy";
  constexpr std::int64_t old_n = (std::int64_t(64) << 20) / 8; // 64 MiB of float64
  auto cached_old_file = [&](int& fd, std::uint64_t& cached) {
    npio::save(p, filled(1, old_n));
    npio::flush_releases();
    fd = hold_written_back(p);
    std::uint64_t dirty = 0;
    return fd >= 0 && cache_counts(fd, cached, dirty);
  };
  int held = -1;
  std::uint64_t before = 0, after = 0, dirty = 0;
  if (!cached_old_file(held, before)) {
    ::close(held);
    GTEST_SKIP() << "no cachestat(2) in this kernel";
  }
  EXPECT_GT(before, 15000u); // 16384 pages of 4 KiB
  npio::save(p, filled(2, 128));
  ASSERT_TRUE(cache_counts(held, after, dirty));
  EXPECT_GE(after + 16, before) << "a 1 KiB save dropped more than 64 KiB of the old cache";
  EXPECT_EQ(uniform_value(p), 2);
  ::close(held);

  ASSERT_TRUE(cached_old_file(held, before));
  npio::save(p, filled(3, (std::int64_t(24) << 20) / 8)); // 24 MiB over 64 MiB
  ASSERT_TRUE(cache_counts(held, after, dirty));
  EXPECT_LE(after + (std::uint64_t(24) << 8), before) // 24 MiB in 4 KiB pages
      << "the pages the writes needed were not dropped";
  EXPECT_GE(after, std::uint64_t(39) << 8) // 64 - 24 - 1 MiB
      << "pages past the new file's end were dropped";
  EXPECT_EQ(uniform_value(p), 3);
  ::close(held);
  npio::flush_releases();
  EXPECT_FALSE(has_temp(dir));
}

TEST(Overwrite, ConcurrentWritersFillTheQueue) {
  // Four threads overwriting their own big files: each save drops its old
  // file's cache as it writes and hands the old file to the release thread,
  // whose queue of 4 fills (closes wait for room). Readers see an old or a
  // new file whole.
  temp_dir dir;
  constexpr int writers = 4, rounds = 6;
  for (int w = 0; w < writers; ++w)
    npio::save(dir / ("f" + std::to_string(w) + ".npy"), filled(0));
  std::atomic<bool> torn{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      const fs::path p = dir / ("f" + std::to_string(w) + ".npy");
      for (int r = 1; r <= rounds; ++r) {
        npio::save(p, filled(r));
        const double v = uniform_value(dir / ("f" + std::to_string((w + 1) % writers) + ".npy"));
        if (!(v >= 0 && v <= rounds)) torn = true;
      }
    });
  for (auto& t : threads)
    t.join();
  npio::flush_releases();
  EXPECT_FALSE(torn);
  for (int w = 0; w < writers; ++w)
    EXPECT_EQ(uniform_value(dir / ("f" + std::to_string(w) + ".npy")), rounds);
  EXPECT_FALSE(has_temp(dir));
}

} // namespace
