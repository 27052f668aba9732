// When the system gives no threads (a process at its thread limit), every
// place that would start one does the work on the caller instead: the
// parallel read of a large load, the old file's cache dropper and release
// thread of an overwrite, and the archive writer's and reader's workers. Each
// test runs in a forked child whose seccomp filter makes thread creation fail
// with EAGAIN, as pthread_create does at RLIMIT_NPROC (which root ignores).

#include "child_process.hpp"
#include "golden_support.hpp"

#include <cstddef>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <numeric>
#include <system_error>
#include <thread>
#include <unistd.h>

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

namespace {

using namespace npio_test;
using test_child::in_child;

// Makes clone3, and clone with CLONE_THREAD, fail with EAGAIN in this process
// from now on (fork, a clone without CLONE_THREAD, stays allowed). Returns
// whether thread creation now fails.
bool refuse_threads() {
#if defined(__x86_64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_X86_64;
#else
  constexpr std::uint32_t arch = AUDIT_ARCH_AARCH64;
#endif
  constexpr std::uint32_t eagain = SECCOMP_RET_ERRNO | EAGAIN;
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, eagain),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])), // the flags' low half
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, eagain),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return false;
  try {
    std::thread([] {}).join();
    return false;
  } catch (const std::system_error&) {
    return true;
  }
}

int open_descriptors() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  while (const dirent* e = ::readdir(d))
    n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

// More than pread_parallel's 32 MiB, so that a load would read on threads and
// an overwrite would drop the old cache on a helper thread.
constexpr std::int64_t large_n = std::int64_t(40) << 17; // 40 MiB of float64

npio::array counting(std::int64_t n, double from) {
  std::vector<double> d(static_cast<std::size_t>(n));
  std::iota(d.begin(), d.end(), from);
  return npio::array::from(d, npio::shape_t{n});
}

bool counts_from(const npio::array& a, double from, std::int64_t n) {
  const auto v = a.view<double>();
  if (static_cast<std::int64_t>(v.size()) != n) return false;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != from + static_cast<double>(i)) return false;
  return true;
}

TEST(NoThreads, TheFilterRefusesThreadsInTheChildOnly) {
  EXPECT_EQ(in_child([] { return refuse_threads() ? 0 : 1; }), 0);
  std::thread([] {}).join(); // this process is untouched
}

TEST(NoThreads, ALargeLoadReadsEveryPartOnTheCaller) {
  temp_dir dir;
  const auto p = dir / "large.npy";
  npio::save(p, counting(large_n, 1));
  EXPECT_EQ(in_child([&] {
              if (!refuse_threads()) return 1;
              return counts_from(npio::load(p), 1, large_n) ? 0 : 2;
            }),
            0);
}

TEST(NoThreads, AnOverwriteDropsAndFreesTheOldFileOnTheCaller) {
  temp_dir dir;
  const auto p = dir / "x.npy";
  npio::save(p, counting(large_n, 1));
  npio::flush_releases();
  EXPECT_EQ(in_child([&] {
              if (!refuse_threads()) return 1;
              for (int round = 0; round < 3; ++round) {
                // Written back, so its cache is clean and dropped as the new
                // file is written (the helper thread's work, here inline).
                const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0 || ::fsync(fd) != 0) return 3;
                ::close(fd);
                const int before = open_descriptors();
                npio::save(p, counting(large_n, round + 2));
                // The release thread's close came on the caller: nothing
                // pending, no descriptor of the old file left open.
                if (open_descriptors() != before) return 4;
                npio::flush_releases();
                if (!counts_from(npio::load(p), round + 2, large_n)) return 5;
              }
              return 0;
            }),
            0);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"x.npy"});
}

TEST(NoThreads, ArchivesAreWrittenAndReadOnTheCaller) {
  temp_dir dir;
  const auto stored = dir / "stored.npz";
  const auto deflated = dir / "deflated.npz";
  EXPECT_EQ(in_child([&] {
              if (!refuse_threads()) return 1;
              // Members large enough to be compressed and read in chunks,
              // one task each, which the workers would share.
              npio::savez_compressed(deflated, {npio::named_array("a", counting(large_n, 1)),
                                                npio::named_array("b", counting(1000, 7))});
              npio::savez(stored, {npio::named_array("a", counting(large_n, 3))});
              const auto z = npio::npz_file::open(deflated);
              if (!counts_from(z.at("a"), 1, large_n) || !counts_from(z.at("b"), 7, 1000)) return 2;
              return counts_from(npio::npz_file::open(stored).at("a"), 3, large_n) ? 0 : 3;
            }),
            0);
  // The same archives, read here with threads.
  EXPECT_TRUE(counts_from(npio::npz_file::open(deflated).at("a"), 1, large_n));
  EXPECT_TRUE(counts_from(npio::npz_file::open(stored).at("a"), 3, large_n));
}

} // namespace
#endif
