// load_into: NumPy-written files (tests/data/generate_load_into.py) read into
// caller memory must leave exactly the bytes np.load's array holds.
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <limits>
#include <npio/load_into.hpp>
#include <string>
#include <vector>

namespace {

const std::string dir = std::string(NPIO_GOLDEN_DIR) + "/load_into/";

std::vector<std::byte> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

// A zero-filled destination shaped like the file, from the header alone.
npio::array destination_for(const std::string& name, std::size_t max_header = 10000) {
  const auto h = npio::read_header(slurp(dir + name + ".npy"), max_header);
  return npio::array(h.dtype, h.shape, h.fortran_order ? npio::order::f : npio::order::c);
}

void expect_numpy_bytes(const std::string& name, const npio::array& dst) {
  const auto want = slurp(dir + name + ".bin");
  ASSERT_EQ(dst.nbytes(), want.size()) << name;
  EXPECT_TRUE(want.empty() || std::memcmp(dst.data(), want.data(), want.size()) == 0) << name;
}

template <class F> npio::error error_of(F&& f) {
  try {
    f();
  } catch (const npio::error& e) {
    return e;
  }
  ADD_FAILURE() << "no npio::error thrown";
  return npio::error(npio::errc::ok, "");
}

} // namespace

TEST(load_into, reads_numpy_files_into_caller_memory) {
  for (const char* name : {"f8_1d", "i4_be_2d", "f4_fortran", "u2_0d", "f8_empty", "struct", "U3",
                           "long_header", "v2"}) {
    SCOPED_TRACE(name);
    npio::array dst = destination_for(name);
    npio::load_into(dir + name + ".npy", dst);
    expect_numpy_bytes(name, dst);
  }
}

TEST(load_into, reuses_the_same_buffer) {
  npio::array dst = destination_for("f8_1d");
  const std::byte* before = dst.data();
  for (int i = 0; i < 3; ++i)
    npio::load_into(dir + "f8_1d.npy", dst);
  EXPECT_EQ(dst.data(), before);
  expect_numpy_bytes("f8_1d", dst);
  EXPECT_DOUBLE_EQ(dst.at<double>(7), 1.0);
}

TEST(load_into, into_a_callers_wrapped_memory) {
  std::vector<std::int32_t> mem(12, -1);
  auto dst = npio::array::wrap(mem.data(), {3, 4});
  // The file is big-endian: no conversion is made, so the dtypes must match.
  auto e = error_of([&] { npio::load_into(dir + "i4_be_2d.npy", dst); });
  EXPECT_EQ(e.code(), npio::errc::type_mismatch);
  EXPECT_EQ(e.detail(), "file has dtype >i4, destination has <i4");
  npio::array be(npio::dtype::parse(">i4"), {3, 4}, npio::buffer::wrap(mem.data(), 48));
  npio::load_into(dir + "i4_be_2d.npy", be);
  expect_numpy_bytes("i4_be_2d", be);
}

TEST(load_into, huge_header_needs_a_lifted_limit) {
  npio::array dst = destination_for("huge_header", 1u << 20);
  auto e = error_of([&] { npio::load_into(dir + "huge_header.npy", dst); });
  EXPECT_EQ(e.code(), npio::errc::header_too_large);
  EXPECT_EQ(e.file(), dir + "huge_header.npy");
  npio::load_options o;
  o.max_header_size = 1u << 20;
  npio::load_into(dir + "huge_header.npy", dst, o);
  expect_numpy_bytes("huge_header", dst);
}

TEST(load_into, errors) {
  const std::string f8 = dir + "f8_1d.npy";
  {
    npio::array dst(npio::dtype::parse("<f4"), {1000});
    auto e = error_of([&] { npio::load_into(f8, dst); });
    EXPECT_EQ(e.code(), npio::errc::type_mismatch);
    EXPECT_EQ(e.detail(), "file has dtype <f8, destination has <f4");
    EXPECT_EQ(e.file(), f8);
  }
  {
    npio::array dst(npio::dtype::parse("<f8"), {10, 100});
    auto e = error_of([&] { npio::load_into(f8, dst); });
    EXPECT_EQ(e.code(), npio::errc::bad_shape);
    EXPECT_EQ(e.detail(), "file has shape (1000,), destination has (10, 100)");
  }
  {
    npio::array big(npio::dtype::parse("<f8"), {2000});
    npio::array strided = big.slice(0, 0, 2000, 2);
    auto e = error_of([&] { npio::load_into(f8, strided); });
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "destination is not C-contiguous, as the file's data is");
  }
  {
    npio::array c_order(npio::dtype::parse("<f4"), {2, 3, 4}, npio::order::c);
    auto e = error_of([&] { npio::load_into(dir + "f4_fortran.npy", c_order); });
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "destination is not Fortran-contiguous, as the file's data is");
  }
  {
    const std::vector<double> mem(1000);
    auto dst = npio::array::wrap(mem.data(), {1000});
    auto e = error_of([&] { npio::load_into(f8, dst); });
    EXPECT_EQ(e.code(), npio::errc::not_writeable);
  }
  {
    npio::array dst(npio::dtype::parse("<f8"), {1000});
    auto e = error_of([&] { npio::load_into(dir + "truncated.npy", dst); });
    EXPECT_EQ(e.code(), npio::errc::truncated);
    EXPECT_EQ(e.file(), dir + "truncated.npy");
    e = error_of([&] { npio::load_into(dir + "bad_magic.npy", dst); });
    EXPECT_EQ(e.code(), npio::errc::bad_magic);
    EXPECT_EQ(e.file(), dir + "bad_magic.npy");
    e = error_of([&] { npio::load_into(dir + "no_such_file.npy", dst); });
    EXPECT_EQ(e.code(), npio::errc::io_error);
    EXPECT_EQ(e.detail(), "cannot open: No such file or directory");
    EXPECT_EQ(e.file(), dir + "no_such_file.npy");
    npio::load_options o;
    o.max_data_bytes = 7999;
    e = error_of([&] { npio::load_into(f8, dst, o); });
    EXPECT_EQ(e.code(), npio::errc::limit_exceeded);
  }
  {
    npio::array dst(npio::dtype::parse("|O"), {2});
    auto r = npio::try_load_into(dir + "object.npy", dst);
    EXPECT_EQ(r.code(), npio::errc::type_mismatch);
  }
  {
    npio::array dst(npio::dtype::parse("<f8"), {1000});
    EXPECT_TRUE(npio::try_load_into(f8, dst).has_value());
    EXPECT_EQ(npio::try_load_into(dir + "truncated.npy", dst).code(), npio::errc::truncated);
  }
}
