// Archives past 4 GiB: a member larger than 4 GiB (zip64 sizes) followed by a
// member that starts past 4 GiB (zip64 offset), stored and deflated, read back by
// npio, NumPy and `unzip -t`. Takes minutes and ~10 GiB of disk: these tests run
// only with NPIO_LONG_TESTS=1 (ctest label `long`; `make test` leaves them out).
#include "npz_test_util.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <npio/npz.hpp>

using namespace npz_test;
namespace fs = std::filesystem;

namespace {

bool long_tests() {
  const char* v = std::getenv("NPIO_LONG_TESTS");
  return v && std::string(v) == "1";
}

const char* numpy_big_check = R"(
import sys
import numpy as np
z = np.load(sys.argv[1])
assert z.files == ['big', 'small'], z.files
small = z['small']
assert small.dtype == np.int64 and list(small) == list(range(10)), small
big = z['big']
assert big.shape == (int(sys.argv[2]),) and big.dtype == np.uint8, big.shape
nz = np.flatnonzero(big)
assert list(nz) == [0, int(sys.argv[2]) - 1], nz
print('OK')
)";

void check_big(const fs::path& dir, bool compress) {
  const std::int64_t n = (std::int64_t(4) << 30) + (std::int64_t(4) << 20);
  npio::array big(npio::dtype::parse("|u1"), {n});
  big.set<std::uint8_t>(1, 0);
  big.set<std::uint8_t>(2, n - 1);
  std::vector<std::int64_t> s(10);
  for (int i = 0; i < 10; ++i)
    s[static_cast<std::size_t>(i)] = i;
  const auto small = npio::array::from(s, npio::shape_t{10});
  const auto path = dir / (compress ? "big_deflate.npz" : "big_stored.npz");
  npio::savez_options o;
  o.compress = compress;
  o.level = 1;
  npio::savez(path, {{"big", big}, {"small", small}}, o);

  // npio: zip64 sizes and offsets, mapped where stored.
  npio::load_options lo;
  lo.mmap_mode = npio::mmap_mode::r;
  const auto z = npio::npz_file::open(path, lo);
  ASSERT_EQ(z.members().size(), 2u);
  EXPECT_GT(z.members()[0].uncompressed_size, 0xFFFFFFFFull);
  EXPECT_GT(z.members()[1].data_offset, compress ? 0ull : 0xFFFFFFFFull);
  EXPECT_TRUE(z.at("small").equal(small));
  const auto back = z.at("big");
  ASSERT_EQ(back.shape(), big.shape());
  EXPECT_EQ(back.at<std::uint8_t>(0), 1);
  EXPECT_EQ(back.at<std::uint8_t>(n - 1), 2);
  EXPECT_EQ(back.at<std::uint8_t>(n / 2), 0);
  if (!compress) {
    EXPECT_FALSE(back.writeable()); // mapped, not copied
  }

  const auto script = dir / "check.py";
  std::ofstream(script) << numpy_big_check;
  std::string out, cmd = NPIO_PYTHON;
  cmd += " ";
  cmd += quote(script);
  cmd += " ";
  cmd += quote(path);
  cmd += " ";
  cmd += std::to_string(n);
  cmd += " 2>&1";
  EXPECT_EQ(run(cmd, &out), 0) << out;
  EXPECT_EQ(out, "OK\n");
  EXPECT_EQ(run("unzip -tq " + quote(path) + " 2>&1", &out), 0) << out;
  fs::remove(path);
}

} // namespace

TEST(npz_long, stored_archive_over_4GiB) {
  if (!long_tests()) GTEST_SKIP() << "set NPIO_LONG_TESTS=1 (ctest -L long)";
  const auto dir = temp_dir("long_stored");
  check_big(dir, false);
  fs::remove_all(dir);
}

TEST(npz_long, deflated_archive_over_4GiB) {
  if (!long_tests()) GTEST_SKIP() << "set NPIO_LONG_TESTS=1 (ctest -L long)";
  const auto dir = temp_dir("long_deflate");
  check_big(dir, true);
  fs::remove_all(dir);
}
