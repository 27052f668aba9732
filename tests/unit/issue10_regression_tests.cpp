// Issue #10: npy_writer and open_memmap(w+) check a shape with the one rule
// the reader uses (src/shape_size.hpp), before anything is written, so that a
// zero dimension no longer hides an overflow that np.load (and npio::load)
// refuse. NumPy refuses these shapes too: np.empty((0, 2**62, 2**62)) raises
// "array is too big".

#include "golden_support.hpp"

#include <gtest/gtest.h>
#include <npio/npio.hpp>

namespace {

using namespace npio_test;
using npio::errc;
using npio::shape_t;

constexpr std::int64_t big = std::int64_t(1) << 62;

const std::vector<shape_t> refused = {
    {0, big, big},                                        // too many elements, hidden by the 0
    {big, 0, big},                                        //
    {0, std::int64_t(1) << 31, std::int64_t(1) << 31, 2}, // 2**63 elements
    {0, std::int64_t(1) << 61},                           // 2**61 * 8 bytes: too large
};

TEST(issue10, npy_writer_refuses_overflow_behind_zero_dim) {
  for (const auto& shape : refused) {
    temp_dir d;
    EXPECT_EQ(code_of([&] { npio::npy_writer w(d / "a.npy", npio::dtype::parse("<f8"), shape); }),
              errc::size_overflow);
    EXPECT_TRUE(d.entries().empty()) << "nothing is written";
  }
  temp_dir d;
  EXPECT_EQ(code_of([&] {
              npio::npy_writer w(d / "a.npy", npio::dtype::parse("<f8"), {2, -1});
            }),
            errc::bad_shape);
  EXPECT_TRUE(d.entries().empty());
}

TEST(issue10, npy_writer_writes_what_load_reads) {
  // The largest empty shape the rule allows: written, then read back.
  temp_dir d;
  const shape_t shape{0, std::int64_t(1) << 30, std::int64_t(1) << 29};
  {
    npio::npy_writer w(d / "a.npy", npio::dtype::parse("<f8"), shape);
    EXPECT_EQ(w.remaining(), 0u);
    w.commit();
  }
  const npio::array a = npio::load(d / "a.npy");
  EXPECT_EQ(a.shape(), shape);
  EXPECT_EQ(a.nbytes(), 0u);
}

TEST(issue10, npy_writer_subarray_dtype_joins_the_shape) {
  // It wrote shape (2,) of <f8 in the header, then 64 bytes of data.
  temp_dir d;
  const auto dt = npio::dtype::from_descr("('<f8', (4,))");
  {
    npio::npy_writer w(d / "a.npy", dt, {2});
    EXPECT_EQ(w.remaining(), 64u);
    std::vector<double> v(8);
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<double>(i);
    w.write(std::as_bytes(std::span(v)));
    w.commit();
  }
  const npio::array a = npio::load(d / "a.npy");
  EXPECT_EQ(a.shape(), (shape_t{2, 4}));
  EXPECT_EQ(a.dtype().str(), "<f8");
  EXPECT_EQ(a.view<double>()[7], 7.0);
  EXPECT_EQ(code_of([&] { npio::npy_writer w(d / "b.npy", dt, {0, big}); }), errc::size_overflow);
  EXPECT_FALSE(fs::exists(d / "b.npy"));
}

TEST(issue10, open_memmap_w_plus_refuses_before_writing) {
  for (const auto& shape : refused) {
    temp_dir d;
    EXPECT_EQ(code_of([&] {
                (void)npio::open_memmap(d / "m.npy", {.mode = npio::mmap_mode::w_plus,
                                                      .dtype = npio::dtype::parse("<f8"),
                                                      .shape = shape});
              }),
              errc::size_overflow);
    EXPECT_TRUE(d.entries().empty()) << "no file is left on disk";
  }
  // An existing file stays as it was.
  temp_dir d;
  const npio::array old = npio::array::from(std::vector<double>{1.5, 2.5}, shape_t{2});
  npio::save(d / "m.npy", old);
  const bytes before = read_file(d / "m.npy");
  EXPECT_EQ(code_of([&] {
              (void)npio::open_memmap(d / "m.npy", {.mode = npio::mmap_mode::w_plus,
                                                    .dtype = npio::dtype::parse("<f8"),
                                                    .shape = shape_t{0, big, big}});
            }),
            errc::size_overflow);
  EXPECT_EQ(read_file(d / "m.npy"), before);
  EXPECT_EQ(d.entries(), std::vector<std::string>{"m.npy"});
  // A subarray dtype's dimensions count too: (0, 2**62) of ('<f8', (4,)).
  EXPECT_EQ(code_of([&] {
              (void)npio::open_memmap(d / "s.npy",
                                      {.mode = npio::mmap_mode::w_plus,
                                       .dtype = npio::dtype::from_descr("('<f8', (4,))"),
                                       .shape = shape_t{0, big}});
            }),
            errc::size_overflow);
  EXPECT_FALSE(fs::exists(d / "s.npy"));
}

TEST(issue10, open_memmap_w_plus_empty_shape_maps) {
  temp_dir d;
  const shape_t shape{0, std::int64_t(1) << 30, std::int64_t(1) << 29};
  const npio::array m = npio::open_memmap(
      d / "m.npy",
      {.mode = npio::mmap_mode::w_plus, .dtype = npio::dtype::parse("<f8"), .shape = shape});
  EXPECT_EQ(m.shape(), shape);
  const npio::array back = npio::load(d / "m.npy");
  EXPECT_EQ(back.shape(), shape);
}

} // namespace
