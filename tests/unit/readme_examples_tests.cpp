// The README's library example, compiled and run, so the documentation cannot rot.
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <npio/npio.hpp>

namespace {

struct in_temp_dir {
  std::filesystem::path old = std::filesystem::current_path();
  std::filesystem::path dir;
  in_temp_dir() {
    dir = std::filesystem::temp_directory_path() /
          ("npio-readme-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
           "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(dir);
    std::filesystem::current_path(dir);
  }
  ~in_temp_dir() {
    std::filesystem::current_path(old);
    std::filesystem::remove_all(dir);
  }
};

} // namespace

TEST(Readme, LibraryExampleRuns) {
  in_temp_dir tmp;
  // ---- begin README example (keep in sync) ----
  auto a = npio::array::from(std::vector<double>{1, 2, 3, 4, 5, 6}, npio::shape_t{2, 3});
  npio::save("matrix.npy", a);
  npio::array b = npio::load("matrix.npy");
  double x = b.at<double>(1, 2);
  std::span<const double> all = b.view<double>();

  npio::load_options opts;
  opts.mmap_mode = npio::mmap_mode::r;
  npio::array m = npio::load("matrix.npy", opts);
  npio::array w = npio::open_memmap("big.npy", npio::mmap_mode::w_plus, npio::dtype::parse("<f4"),
                                    npio::shape_t{1000, 1000});

  auto rec = npio::dtype::from_descr("[('id', '<i8'), ('pos', '>f4', (3,)), ('when', '<M8[ns]')]");

  if (auto r = npio::try_load("upload.npy"); !r) std::puts(r.error().what());
  // ---- end README example ----

  EXPECT_EQ(x, 6.0);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[4], 5.0);
  EXPECT_TRUE(m.equal(a));
  EXPECT_FALSE(m.writeable());
  EXPECT_TRUE(w.writeable());
  EXPECT_EQ(w.shape(), (npio::shape_t{1000, 1000}));
  EXPECT_EQ(std::filesystem::file_size("big.npy"), 128u + 4'000'000u);
  EXPECT_EQ(rec.itemsize(), 8u + 12u + 8u);
  EXPECT_EQ(rec.descr(), "[('id', '<i8'), ('pos', '>f4', (3,)), ('when', '<M8[ns]')]");
  auto r = npio::try_load("upload.npy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), npio::errc::io_error);
  EXPECT_EQ(std::string(r.error().what()), "upload.npy: cannot open: No such file or directory");
}
