// savez_compressed's choice between ISA-L and libdeflate: on every kind of data
// the archive stays within 2% of the size NumPy (zlib level 6) writes, NumPy and
// unzip read it, and the bytes do not depend on the number of threads.
#include "npz_test_util.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <npio/npz.hpp>
#include <sstream>

namespace fs = std::filesystem;
using namespace npz_test;

namespace {

// Arrays of several kinds (some where ISA-L matches zlib's size, some where only
// libdeflate does), each saved as KIND.npy and as NumPy's KIND.npz.
const char* make_data = R"(
import os, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
n = 1 << 18
kinds = {
    'random_f64': rng.random(n),
    'ints': rng.integers(0, 1000, n, dtype=np.int64),
    'arange': np.arange(n, dtype=np.int64),
    'sin_f32': np.sin(np.linspace(0, 100, n)).astype(np.float32),
    'sparse': np.where(rng.random(n) < 0.05, rng.random(n), 0.0),
    'walk': np.cumsum(rng.normal(size=n)),
    'image': (np.add.outer(np.arange(1024), np.arange(1024)) // 7 % 256).astype(np.uint8)
             + rng.integers(0, 3, (1024, 1024), dtype=np.uint8),
}
for k, a in kinds.items():
    np.save(os.path.join(d, k + '.npy'), a)
    np.savez_compressed(os.path.join(d, k + '.npz'), x=a)
print(' '.join(kinds))
)";

const char* check_ours = R"(
import sys
import numpy as np
a = np.load(sys.argv[1])['x']
b = np.load(sys.argv[2])
assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
print('OK')
)";

std::string python(const fs::path& dir, const char* script, const std::string& args) {
  std::ofstream(dir / "script.py") << script;
  std::string out;
  EXPECT_EQ(run(std::string(NPIO_PYTHON) + " " + quote(dir / "script.py") + " " + args, &out), 0)
      << out;
  return out;
}

} // namespace

TEST(npz_compress, size_within_two_percent_of_numpy_on_varied_data) {
  const auto dir = temp_dir("compress_kinds");
  std::istringstream kinds(python(dir, make_data, quote(dir)));
  int count = 0;
  for (std::string k; kinds >> k; ++count) {
    const auto a = npio::load(dir / (k + ".npy")).array();
    const auto ours = dir / (k + "_npio.npz");
    npio::savez_compressed(ours, {{"x", a}});
    const auto numpy_size = fs::file_size(dir / (k + ".npz"));
    EXPECT_LE(fs::file_size(ours) * 100, numpy_size * 102)
        << k << ": " << fs::file_size(ours) << " bytes vs NumPy's " << numpy_size;
    EXPECT_EQ(python(dir, check_ours, quote(ours) + " " + quote(dir / (k + ".npy"))), "OK\n") << k;
    std::string unzip;
    EXPECT_EQ(run("unzip -tq " + quote(ours) + " 2>&1", &unzip), 0) << k << ": " << unzip;
    // One thread or many, the same bytes.
    npio::savez_options one;
    one.compress = true;
    one.threads = 1;
    npio::savez(dir / (k + "_one.npz"), {{"x", a}}, one);
    EXPECT_EQ(read_file(dir / (k + "_one.npz")), read_file(ours)) << k;
    EXPECT_TRUE(npio::npz_file::open(ours).at("x").equal(a)) << k;
  }
  EXPECT_EQ(count, 7);
  fs::remove_all(dir);
}

TEST(npz_compress, every_level_round_trips_on_large_members) {
  const auto dir = temp_dir("compress_levels");
  python(dir, make_data, quote(dir));
  for (const char* k : {"random_f64", "sin_f32"}) {
    const auto a = npio::load(dir / (std::string(k) + ".npy")).array();
    for (int level : {0, 1, 2, 6, 7, 12}) {
      npio::savez_options o;
      o.compress = true;
      o.level = level;
      const auto p = dir / (std::string(k) + "_l" + std::to_string(level) + ".npz");
      npio::savez(p, {{"x", a}}, o);
      EXPECT_EQ(python(dir, check_ours, quote(p) + " " + quote(dir / (std::string(k) + ".npy"))),
                "OK\n")
          << k << " level " << level;
      EXPECT_TRUE(npio::npz_file::open(p).at("x").equal(a)) << k << " level " << level;
    }
  }
  fs::remove_all(dir);
}
