// "Nothing lost": a save that fails midway leaves the old file intact.
// (a) the disk fills up (RLIMIT_FSIZE in a forked child), (b) the data source
// throws while an npy_writer is streaming, (c) the process is killed mid-write.
// The old file is always one NumPy wrote (a golden file), so these tests do
// not depend on npio's writer being right to tell whether anything was lost.

#include "child_process.hpp"
#include "golden_support.hpp"

#include <csignal>
#include <cstring>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace npio_test;
using npio::errc;

/// A directory holding "data.npy", a copy of a NumPy-written golden file.
struct old_file {
  temp_dir dir;
  fs::path path = dir / "data.npy";
  bytes before;
  std::vector<std::string> entries;
  old_file() {
    fs::copy_file(golden_dir() / "le_f8.2c.npy", path);
    before = read_file(path);
    entries = dir.entries();
  }
  void expect_intact(bool allow_stray_temp = false) const {
    EXPECT_EQ(first_difference(read_file(path), before), "") << "the old file changed";
    npio::array a = npio::load(path);
    EXPECT_EQ(first_difference(a.tobytes(), read_file(golden_dir() / "le_f8.2c.bin")), "");
    if (!allow_stray_temp) {
      EXPECT_EQ(dir.entries(), entries) << "stray files left behind";
    }
  }
};

using test_child::in_child;

void limit_file_size(rlim_t bytes) {
  std::signal(SIGXFSZ, SIG_IGN); // write() then fails with EFBIG instead of killing us
  rlimit rl{bytes, bytes};
  if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(102);
}

// Exit codes of the children: 0 the save failed with io_error as it must.
constexpr int saved_anyway = 1, wrong_error = 2;

TEST(AtomicSave, DiskFullDuringSaveKeepsTheOldFile) {
  old_file f;
  const int rc = in_child([&] {
    limit_file_size(64 * 1024);
    npio::array big(npio::dtype::of<double>(), {1 << 20}); // 8 MiB, far over the limit
    try {
      npio::save(f.path, big);
    } catch (const npio::error& e) {
      return e.code() == errc::io_error ? 0 : wrong_error;
    }
    return saved_anyway;
  });
  EXPECT_EQ(rc, 0) << "1: the save did not fail; 2: it failed with another code than io_error";
  f.expect_intact();
}

TEST(AtomicSave, DiskFullDuringWriterKeepsTheOldFile) {
  old_file f;
  const int rc = in_child([&] {
    limit_file_size(64 * 1024);
    const std::vector<std::byte> chunk(256 * 1024, std::byte{7});
    try {
      npio::npy_writer w(f.path, npio::dtype::of<double>(), {1 << 17}); // 1 MiB of data
      for (int i = 0; i < 4; ++i)
        w.write(chunk);
      w.commit();
    } catch (const npio::error& e) {
      return e.code() == errc::io_error ? 0 : wrong_error;
    }
    return saved_anyway;
  });
  EXPECT_EQ(rc, 0) << "1: the writer did not fail; 2: it failed with another code than io_error";
  f.expect_intact();
}

TEST(AtomicSave, DiskFullWithTheErrorMessageNamingTheFile) {
  old_file f;
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const int rc = in_child([&] {
    ::close(pipefd[0]);
    limit_file_size(4096);
    npio::array big(npio::dtype::of<float>(), {1 << 16});
    try {
      npio::save(f.path, big);
    } catch (const npio::error& e) {
      const std::string msg = e.what();
      (void)!::write(pipefd[1], msg.data(), msg.size());
      return 0;
    }
    return saved_anyway;
  });
  ::close(pipefd[1]);
  std::string msg;
  char buf[256];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;)
    msg.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(msg.find(f.path.string()), std::string::npos) << msg;
  f.expect_intact();
}

TEST(AtomicSave, ExceptionFromTheDataSourceKeepsTheOldFile) {
  old_file f;
  const std::vector<std::byte> some(800, std::byte{1});
  try {
    npio::npy_writer w(f.path, npio::dtype::of<double>(), {1000});
    w.write(some);
    throw std::runtime_error("the data source failed");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the data source failed");
  }
  f.expect_intact();
}

TEST(AtomicSave, WriterDestroyedWithoutCommitKeepsTheOldFile) {
  old_file f;
  {
    npio::npy_writer w(f.path, npio::dtype::of<double>(), {3, 4});
    w.write(read_file(golden_dir() / "le_f8.2f.bin")); // complete, but never committed
    EXPECT_EQ(w.remaining(), 0u);
  }
  f.expect_intact();
}

TEST(AtomicSave, CommitOfTooFewBytesFailsAndKeepsTheOldFile) {
  old_file f;
  {
    npio::npy_writer w(f.path, npio::dtype::of<double>(), {3, 4});
    const std::vector<std::byte> part(95);
    w.write(part);
    EXPECT_EQ(w.remaining(), 1u);
    try {
      w.commit();
      ADD_FAILURE() << "commit of an incomplete array succeeded";
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), errc::truncated) << e.what();
    }
  }
  f.expect_intact();
}

TEST(AtomicSave, WritingTooManyBytesFails) {
  old_file f;
  {
    npio::npy_writer w(f.path, npio::dtype::of<double>(), {2});
    const std::vector<std::byte> part(17);
    try {
      w.write(part);
      ADD_FAILURE() << "the writer accepted more bytes than the array holds";
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), errc::out_of_range) << e.what();
    }
  }
  f.expect_intact();
}

TEST(AtomicSave, KilledWriterKeepsTheOldFile) {
  old_file f;
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    try {
      npio::npy_writer w(f.path, npio::dtype::of<double>(), {1 << 16});
      const std::vector<std::byte> half(8 << 15, std::byte{9});
      w.write(half);
      (void)!::write(pipefd[1], "h", 1); // half written: kill me now
      for (;;)
        ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(pipefd[1]);
  char c = 0;
  const ssize_t n = ::read(pipefd[0], &c, 1);
  ::close(pipefd[0]);
  ASSERT_EQ(n, 1) << "the child failed before writing half";
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // A killed process cannot remove its temporary file, but the target is untouched.
  f.expect_intact(/*allow_stray_temp=*/true);
  for (const auto& e : f.dir.entries()) {
    if (e == "data.npy") continue;
    EXPECT_NE(e, "data.npy.npy");
  }
}

TEST(AtomicSave, KilledSaveNeverLeavesATornFile) {
  // npio::save of a large array over the file, again and again, killed at
  // some moment: the file is always either the old one or a complete new one.
  old_file f;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      npio::array big(npio::dtype::of<double>(), {1 << 22}); // 32 MiB of zeros
      for (;;)
        npio::save(f.path, big);
    } catch (...) {
      ::_exit(3);
    }
  }
  ::usleep(300 * 1000);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the saving child died on its own";
  const auto now = read_file(f.path);
  if (now == f.before) return;
  // a complete new file: what NumPy would load as 4194304 zeros
  npio::array a = npio::load(f.path);
  EXPECT_EQ(a.shape(), npio::shape_t{1 << 22});
  EXPECT_EQ(a.dtype().str(), "<f8");
  const auto v = a.view<double>();
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0; }));
}

TEST(AtomicSave, SuccessfulWriterIsByteIdenticalToNumpy) {
  old_file f;
  const auto target = f.dir / "fresh.npy";
  const auto data = read_file(golden_dir() / "le_f8.2c.bin");
  {
    npio::npy_writer w(target, npio::dtype::parse("<f8"), {3, 4});
    w.write(std::span<const std::byte>(data).subspan(0, 40));
    EXPECT_FALSE(fs::exists(target)) << "visible before commit";
    w.write(std::span<const std::byte>(data).subspan(40));
    EXPECT_FALSE(fs::exists(target)) << "visible before commit";
    w.commit();
  }
  EXPECT_EQ(first_difference(read_file(target), read_file(golden_dir() / "le_f8.2c.npy")), "");
  fs::remove(target);
  EXPECT_EQ(f.dir.entries(), f.entries) << "no temporary file may remain";
}

TEST(AtomicSave, SuccessfulSaveReplacesTheFile) {
  old_file f;
  npio::array a = npio::load(golden_dir() / "be_st_nested.3f.npy");
  npio::save(f.path, a);
  EXPECT_EQ(first_difference(read_file(f.path), read_file(golden_dir() / "be_st_nested.3f.npy")),
            "");
  EXPECT_EQ(f.dir.entries(), f.entries) << "no temporary file may remain";
}

TEST(AtomicSave, FortranWriterMatchesNumpy) {
  old_file f;
  npio::array src = npio::load(golden_dir() / "be_i4.3f.npy");
  {
    npio::npy_writer w(f.path, src.dtype(), src.shape(), /*fortran_order=*/true);
    const auto data = src.tobytes(npio::order::f);
    for (std::size_t off = 0; off < data.size(); off += 5)
      w.write(std::span<const std::byte>(data).subspan(
          off, std::min<std::size_t>(5, data.size() - off)));
    w.commit();
  }
  EXPECT_EQ(first_difference(read_file(f.path), read_file(golden_dir() / "be_i4.3f.npy")), "");
}

TEST(AtomicSave, SaveThroughASymlinkWritesItsTarget) {
  // np.save opens the path with 'wb', which follows a symbolic link: the link
  // stays, the file it points to gets the new array. The atomic rename must
  // replace that file, not the link.
  temp_dir dir;
  fs::create_directory(dir / "store");
  fs::copy_file(golden_dir() / "le_f8.2c.npy", dir / "store" / "real.npy");
  fs::create_symlink(fs::path("store") / "real.npy", dir / "link.npy");
  npio::save(dir / "link.npy", npio::load(golden_dir() / "be_i4.1d.npy"));
  EXPECT_TRUE(fs::is_symlink(dir / "link.npy"));
  EXPECT_EQ(first_difference(read_file(dir / "store" / "real.npy"),
                             read_file(golden_dir() / "be_i4.1d.npy")),
            "");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"link.npy", "store"}));
  EXPECT_EQ(fs::directory_iterator(dir / "store")->path().filename(), "real.npy");
  // and with npy_writer
  {
    npio::npy_writer w(dir / "link.npy", npio::dtype::parse("<f8"), {3, 4});
    w.write(read_file(golden_dir() / "le_f8.2c.bin"));
    w.commit();
  }
  EXPECT_TRUE(fs::is_symlink(dir / "link.npy"));
  EXPECT_EQ(first_difference(read_file(dir / "store" / "real.npy"),
                             read_file(golden_dir() / "le_f8.2c.npy")),
            "");
}

TEST(AtomicSave, PermissionsLikeOpenWb) {
  // np.save's open('wb') keeps an existing file's mode and creates new files
  // with 0666 & ~umask.
  old_file f;
  fs::permissions(f.path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  npio::save(f.path, npio::load(golden_dir() / "u1.1d.npy"));
  EXPECT_EQ(fs::status(f.path).permissions() & fs::perms::mask,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  const mode_t old_mask = ::umask(027);
  npio::save(f.dir / "new.npy", npio::load(golden_dir() / "u1.1d.npy"));
  ::umask(old_mask);
  EXPECT_EQ(fs::status(f.dir / "new.npy").permissions() & fs::perms::mask,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST(AtomicSave, SaveIntoAMissingDirectoryFails) {
  temp_dir dir;
  npio::array a = npio::load(golden_dir() / "le_f8.1d.npy");
  try {
    npio::save(dir / "no" / "such" / "dir" / "x.npy", a);
    ADD_FAILURE() << "saved into a missing directory";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::io_error);
    EXPECT_NE(std::string(e.what()).find("x.npy"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(AtomicSave, SaveOverADirectoryFailsAndKeepsIt) {
  temp_dir dir;
  fs::create_directory(dir / "x.npy");
  fs::copy_file(golden_dir() / "le_f8.1d.npy", dir / "x.npy" / "inside.npy");
  npio::array a = npio::load(golden_dir() / "le_f8.1d.npy");
  try {
    npio::save(dir / "x.npy", a);
    ADD_FAILURE() << "saved over a directory";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::io_error);
  }
  EXPECT_TRUE(fs::is_directory(dir / "x.npy"));
  EXPECT_TRUE(fs::exists(dir / "x.npy" / "inside.npy"));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"x.npy"});
}

} // namespace
