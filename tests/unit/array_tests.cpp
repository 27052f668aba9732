// The array model: construction, views, typed access and its errors, mdview,
// from/wrap, copies and astype. Values come from NumPy's files (astype.tsv,
// the golden manifest) or from the definitions NumPy documents (strides).

#include "golden_support.hpp"

#include <complex>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <numeric>

namespace {

using namespace npio_test;
using npio::errc;
using npio::order;
using npio::shape_t;

npio::array golden(const std::string& name) {
  return npio::load(golden_dir() / (name + ".npy"));
}

std::string compare_masked(const npio::dtype& dt, std::span<const std::byte> got,
                           std::span<const std::byte> want) {
  // x87 long doubles use 10 of their 16 bytes; NumPy leaves the rest undefined
  const bool ld =
      (dt.kind() == 'f' && dt.itemsize() == 16) || (dt.kind() == 'c' && dt.itemsize() == 32);
  if (!ld || got.size() != want.size()) return first_difference(got, want);
  const bool big = dt.order() == npio::byte_order::big;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::size_t in = i % 16;
    if ((big ? in >= 6 : in < 10) && got[i] != want[i])
      return "differs at byte " + std::to_string(i);
  }
  return {};
}

TEST(Array, AstypeLikeNumpy) {
  const auto rows = read_tsv(golden_dir() / "astype.tsv");
  ASSERT_GT(rows.size(), 300u);
  failures fails;
  for (const auto& row : rows) {
    const std::string name = row["src"] + " -> " + row["dst_str"];
    fails.run(name, [&] {
      npio::array src = npio::load(golden_dir() / row["src"]);
      npio::array want = npio::load(golden_dir() / row["expected"]);
      npio::array got = src.astype(npio::dtype::parse(row["dst_str"]));
      GOLDEN_CHECK_EQ(fails, name, got.dtype().str(), row["dst_str"]);
      GOLDEN_CHECK_EQ(fails, name, got.shape(), want.shape());
      GOLDEN_CHECK_EQ(fails, name, compare_masked(got.dtype(), got.tobytes(), want.tobytes()),
                      std::string());
    });
  }
  fails.report();
}

TEST(Array, DefaultIsEmptyFloat64) {
  npio::array a;
  EXPECT_EQ(a.dtype().str(), "<f8");
  EXPECT_EQ(a.shape(), shape_t{0});
  EXPECT_EQ(a.size(), 0);
}

TEST(Array, NewArraysAreZeroedWithNumpysStrides) {
  // np.zeros((2, 3, 4), '<f8').strides == (96, 32, 8); order='F': (8, 16, 48)
  npio::array c(npio::dtype::parse("<f8"), {2, 3, 4});
  EXPECT_EQ(c.strides(), (shape_t{96, 32, 8}));
  EXPECT_TRUE(c.is_c_contiguous());
  EXPECT_FALSE(c.is_f_contiguous());
  npio::array f(npio::dtype::parse(">i2"), {2, 3, 4}, order::f);
  EXPECT_EQ(f.strides(), (shape_t{2, 4, 12}));
  EXPECT_TRUE(f.is_f_contiguous());
  EXPECT_EQ(f.nbytes(), 48u);
  for (auto b : c.tobytes())
    EXPECT_EQ(b, std::byte{0});
  EXPECT_EQ(npio::contiguous_strides({2, 3, 4}, 8), (shape_t{96, 32, 8}));
  EXPECT_EQ(npio::contiguous_strides({2, 3, 4}, 2, order::f), (shape_t{2, 4, 12}));
  npio::array zero_d(npio::dtype::parse("<c16"), {});
  EXPECT_EQ(zero_d.size(), 1);
  EXPECT_EQ(zero_d.ndim(), 0u);
  EXPECT_TRUE(zero_d.is_c_contiguous() && zero_d.is_f_contiguous());
  npio::array empty(npio::dtype::parse("<f8"), {3, 0});
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(empty.nbytes(), 0u);
  EXPECT_EQ(code_of([] { npio::array x(npio::dtype::parse("<f8"), {-1}); }), errc::bad_shape);
  EXPECT_EQ(code_of([] {
              npio::array x(npio::dtype::parse("<f8"), {1ll << 62, 1ll << 62});
            }),
            errc::size_overflow);
  // a zero dimension does not excuse the others (NumPy: "array is too big";
  // the strides would overflow)
  EXPECT_EQ(code_of([] {
              npio::array x(npio::dtype::parse("<f8"), {0, 429496716, 4294967196});
            }),
            errc::size_overflow);
  EXPECT_EQ(npio::array(npio::dtype::parse("<f8"), {0, 1ll << 29, 1ll << 29}).strides(),
            (npio::shape_t{8ll << 58, 8ll << 29, 8}));
}

TEST(Array, NdarrayConstructorOverABuffer) {
  // np.ndarray((2, 3), '<i2', buffer, offset=2, strides=(8, 2)) over 20 bytes
  std::vector<std::int16_t> mem(10);
  std::iota(mem.begin(), mem.end(), 0);
  auto buf = npio::buffer::wrap(mem.data(), mem.size() * 2);
  npio::array a(npio::dtype::parse("<i2"), {2, 3}, buf, 2, shape_t{8, 2});
  EXPECT_EQ(a.at<std::int16_t>(0, 0), 1);
  EXPECT_EQ(a.at<std::int16_t>(1, 2), 7);
  EXPECT_FALSE(a.is_c_contiguous());
  EXPECT_EQ(a.tobytes().size(), 12u);
  mem[5] = 99; // not a copy
  EXPECT_EQ(a.at<std::int16_t>(1, 0), 99);
  // Fortran order without strides
  npio::array f(npio::dtype::parse("<i2"), {2, 3}, buf, 0, std::nullopt, order::f);
  EXPECT_EQ(f.at<std::int16_t>(1, 0), 1);
  EXPECT_EQ(f.at<std::int16_t>(0, 1), 2);
  // an element outside the buffer
  EXPECT_EQ(code_of([&] {
              npio::array x(npio::dtype::parse("<i2"), {2, 3}, buf, 10, shape_t{8, 2});
            }),
            errc::out_of_range);
  EXPECT_EQ(code_of([&] { npio::array x(npio::dtype::parse("<i2"), {11}, buf); }),
            errc::out_of_range);
  EXPECT_EQ(code_of([&] { npio::array x(npio::dtype::parse("<i2"), {2}, buf, -2); }),
            errc::out_of_range);
  // negative strides that stay inside
  npio::array r(npio::dtype::parse("<i2"), {10}, buf, 18, shape_t{-2});
  EXPECT_EQ(r.at<std::int16_t>(0), 9);
  EXPECT_EQ(r.at<std::int16_t>(9), 0);
}

TEST(Array, IndexingSlicingTranspose) {
  npio::array a = golden("le_i4.3c"); // (2, 3, 4)
  const auto v = a.copy();
  auto at = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return v.at<std::int32_t>(i, j, k);
  };
  npio::array row = a[1];
  EXPECT_EQ(row.shape(), (shape_t{3, 4}));
  EXPECT_EQ(row.at<std::int32_t>(2, 3), at(1, 2, 3));
  EXPECT_EQ(a[-1].at<std::int32_t>(0, 0), at(1, 0, 0));
  EXPECT_EQ(a.at<std::int32_t>(-1, -1, -1), at(1, 2, 3));
  npio::array s = a.slice(2, 1, 4, 2); // a[:, :, 1:4:2]
  EXPECT_EQ(s.shape(), (shape_t{2, 3, 2}));
  EXPECT_EQ(s.at<std::int32_t>(1, 2, 1), at(1, 2, 3));
  npio::array rev = a.slice(1, 2, -4, -1); // a[:, 2::-1]
  EXPECT_EQ(rev.shape(), (shape_t{2, 3, 4}));
  EXPECT_EQ(rev.at<std::int32_t>(0, 0, 0), at(0, 2, 0));
  npio::array none = a.slice(0, 1, 1);
  EXPECT_EQ(none.shape(), (shape_t{0, 3, 4}));
  npio::array t = a.transpose();
  EXPECT_EQ(t.shape(), (shape_t{4, 3, 2}));
  EXPECT_EQ(t.at<std::int32_t>(3, 1, 0), at(0, 1, 3));
  EXPECT_TRUE(t.is_f_contiguous());
  EXPECT_EQ(t.data(), a.data()); // a view
  EXPECT_EQ(code_of([&] { (void)a[2]; }), errc::out_of_range);
  EXPECT_EQ(code_of([&] { (void)a[-3]; }), errc::out_of_range);
  EXPECT_EQ(code_of([&] { (void)a.at<std::int32_t>(0, 3, 0); }), errc::out_of_range);
  EXPECT_EQ(code_of([&] { (void)a.at<std::int32_t>(0, 0); }), errc::out_of_range);
  EXPECT_EQ(code_of([&] { (void)a.slice(3, 0, 1); }), errc::out_of_range);
  EXPECT_EQ(code_of([&] { (void)a.slice(0, 0, 1, 0); }), errc::invalid_argument);
}

TEST(Array, ReshapeIsAViewWhenContiguous) {
  npio::array a = golden("le_f8.3c");
  npio::array r = a.reshape({4, 6});
  EXPECT_EQ(r.data(), a.data());
  EXPECT_EQ(r.tobytes(), a.tobytes());
  npio::array f = golden("le_f8.3f");
  npio::array rf = f.reshape({24});
  EXPECT_EQ(rf.tobytes(), f.tobytes()); // C order of the logical elements, as NumPy
  EXPECT_EQ(code_of([&] { (void)a.reshape({5, 5}); }), errc::bad_shape);
}

TEST(Array, FieldsOfStructuredArrays) {
  npio::array a = golden("be_st_simple.1d");
  npio::array x = a.field("x");
  EXPECT_EQ(x.dtype().str(), ">f8");
  EXPECT_EQ(x.shape(), a.shape());
  EXPECT_EQ(x.strides(), (shape_t{static_cast<std::int64_t>(a.itemsize())}));
  EXPECT_EQ(code_of([&] { (void)a.field("nope"); }), errc::out_of_range);
  npio::array t = golden("le_st_titles.1d");
  EXPECT_TRUE(t.field("t").equal(t.field("Temperature"))); // NumPy also indexes by title
  npio::array s = golden("le_st_subarray.2c");
  EXPECT_EQ(s.field("m").shape(), (shape_t{3, 4, 2, 3})); // subarray fields add dimensions
  // NumPy: IndexError for a field of a plain array
  EXPECT_EQ(code_of([&] { (void)golden("le_f8.1d").field("x"); }), errc::out_of_range);
}

TEST(Array, TypedAccessErrors) {
  npio::array a = golden("be_f8.2c");
  EXPECT_EQ(code_of([&] { (void)a.at<float>(0, 0); }), errc::type_mismatch);
  EXPECT_EQ(code_of([&] { (void)a.at<std::int64_t>(0, 0); }), errc::type_mismatch);
  EXPECT_EQ(code_of([&] { (void)a.view<double>(); }), errc::misaligned); // big-endian
  EXPECT_NO_THROW((void)a.to_native().view<double>());
  EXPECT_EQ(code_of([&] { (void)a.item<double>(); }), errc::out_of_range);
  EXPECT_EQ(a[1][2].item<double>(), a.at<double>(1, 2));
  npio::array n = a.to_native();
  EXPECT_EQ(code_of([&] { (void)n.slice(1, 0, 4, 2).view<double>(); }),
            errc::misaligned); // strided
  EXPECT_EQ(code_of([&] { (void)n.view<float>(); }), errc::type_mismatch);
  EXPECT_EQ(code_of([&] { (void)golden("le_M8_ns.1d").at<double>(0); }), errc::type_mismatch);
  EXPECT_NO_THROW((void)golden("le_M8_ns.1d").at<std::int64_t>(0));
  EXPECT_EQ(code_of([&] { (void)golden("le_st_simple.1d").at<double>(0); }), errc::type_mismatch);
  npio::array ro = npio::load(golden_dir() / "le_f8.1d.npy", {.mmap_mode = npio::mmap_mode::r});
  EXPECT_EQ(code_of([&] { ro.set<double>(1.0, 0); }), errc::not_writeable);
  EXPECT_EQ(code_of([&] { (void)ro.mutable_data(); }), errc::not_writeable);
  EXPECT_EQ(code_of([&] { (void)ro.mutable_view<double>(); }), errc::not_writeable);
  EXPECT_NO_THROW((void)ro.view<double>()); // read-only data reads (issue 11)
  EXPECT_NO_THROW((void)std::as_const(ro).view<double>());
}

TEST(Array, BigEndianAndMisalignedAccess) {
  // set/at on big-endian data store big-endian bytes
  npio::array a(npio::dtype::parse(">i4"), {2});
  a.set<std::int32_t>(0x01020304, 1);
  const auto b = a.tobytes();
  EXPECT_EQ(b[4], std::byte{1});
  EXPECT_EQ(b[7], std::byte{4});
  EXPECT_EQ(a.at<std::int32_t>(1), 0x01020304);
  npio::array z(npio::dtype::parse(">c8"), {1});
  z.set<std::complex<float>>({1.5f, -2.0f}, 0);
  EXPECT_EQ(z.item<std::complex<float>>(), std::complex<float>(1.5f, -2.0f));
  EXPECT_EQ(z.to_native().item<std::complex<float>>(), std::complex<float>(1.5f, -2.0f));
  // a misaligned view over a caller's buffer: np.ndarray(3, '<f8', buf, offset=1)
  std::vector<std::byte> mem(32);
  auto buf = npio::buffer::wrap(mem.data(), mem.size());
  npio::array m(npio::dtype::parse("<f8"), {3}, buf, 1);
  EXPECT_FALSE(m.is_aligned());
  m.set<double>(2.5, 2);
  EXPECT_EQ(m.at<double>(2), 2.5);
  EXPECT_EQ(code_of([&] { (void)m.view<double>(); }), errc::misaligned);
  EXPECT_EQ(code_of([&] { (void)m.mdview<double, 1>(); }), errc::misaligned);
  EXPECT_EQ(m.copy().view<double>()[2], 2.5);
}

TEST(Array, MdviewOfStridedArrays) {
  npio::array f = golden("le_i8.2f").to_native(); // Fortran order (3, 4)
  auto md = std::as_const(f).mdview<std::int64_t, 2>();
  EXPECT_EQ(md.extent(0), 3);
  EXPECT_EQ(md.stride(0), 1);
  EXPECT_EQ(md.stride(1), 3);
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 4; ++j)
      EXPECT_EQ(md(i, j), f.at<std::int64_t>(i, j));
  auto t = f.transpose().mutable_mdview<std::int64_t, 2>();
  t(1, 2) = 77;
  EXPECT_EQ(f.at<std::int64_t>(2, 1), 77);
  EXPECT_EQ(code_of([&] { (void)f.mdview<std::int64_t, 3>(); }), errc::invalid_argument);
  EXPECT_EQ(code_of([&] { (void)golden("be_i8.2f").mdview<std::int64_t, 2>(); }), errc::misaligned);
}

TEST(Array, FromAndWrap) {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  npio::array c = npio::array::from(v, shape_t{2, 3});
  EXPECT_EQ(c.at<float>(1, 0), 4.0f);
  npio::array f = npio::array::from(v, shape_t{2, 3}, order::f);
  EXPECT_TRUE(f.is_f_contiguous());
  EXPECT_TRUE(f.equal(c)); // the same logical array in another layout
  EXPECT_EQ(f.at<float>(1, 0), 4.0f);
  EXPECT_EQ(code_of([&] { (void)npio::array::from(v, shape_t{4}); }), errc::bad_shape);
  std::vector<double> mem = {1, 2, 3, 4};
  npio::array w = npio::array::wrap(mem.data(), {2, 2});
  mem[3] = 40;
  EXPECT_EQ(w.at<double>(1, 1), 40.0);
  w.set<double>(-1, 0, 0);
  EXPECT_EQ(mem[0], -1.0);
  const double* cp = mem.data();
  npio::array cw = npio::array::wrap(cp, {4});
  EXPECT_FALSE(cw.writeable());
  EXPECT_EQ(code_of([&] { cw.set<double>(0, 0); }), errc::not_writeable);
  // saving a wrapped array writes what NumPy would for the same values
  npio::array g = golden("le_f8.1d");
  const auto vals = g.view<double>();
  std::vector<double> copy(vals.begin(), vals.end());
  EXPECT_EQ(first_difference(npio::save_bytes(npio::array::wrap(copy.data(), {5})),
                             read_file(golden_dir() / "le_f8.1d.npy")),
            "");
}

TEST(Array, CopyInFortranOrderSavesAsFortran) {
  npio::array c = golden("be_c16.3c");
  npio::array f = c.copy(order::f);
  EXPECT_TRUE(f.is_f_contiguous());
  EXPECT_FALSE(f.is_c_contiguous());
  EXPECT_TRUE(f.equal(c));
  const auto h = npio::read_header(npio::save_bytes(f));
  EXPECT_TRUE(h.fortran_order);
  EXPECT_EQ(h.shape, c.shape());
  EXPECT_TRUE(npio::load(npio::save_bytes(f)).array().equal(c));
}

TEST(Array, EqualComparesDtypeShapeAndBytes) {
  npio::array a = golden("le_i4.2c");
  npio::array b = a.copy();
  EXPECT_TRUE(a.equal(b));
  b.set<std::int32_t>(b.at<std::int32_t>(2, 3) + 1, 2, 3);
  EXPECT_FALSE(a.equal(b));
  EXPECT_FALSE(a.equal(a.reshape({4, 3})));
  EXPECT_FALSE(a.equal(a.astype(npio::dtype::parse(">i4")))); // other dtype
  EXPECT_TRUE(a.equal(a.copy(order::f)));
  EXPECT_FALSE(a.equal(golden("le_u4.2c")));
}

TEST(Array, ForEachChunkConcatenatesToTobytes) {
  for (const char* name : {"be_c32.3f", "le_st_nested.vnc", "le_U5.3c", "le_f8.e30"}) {
    npio::array a = golden(name);
    for (auto o : {order::c, order::f}) {
      for (std::size_t chunk : {1u, 7u, 64u, 1u << 20}) {
        std::vector<std::byte> all;
        a.for_each_chunk(
            o, [&](std::span<const std::byte> s) { all.insert(all.end(), s.begin(), s.end()); },
            chunk);
        EXPECT_EQ(first_difference(all, a.tobytes(o)), "") << name << " chunk " << chunk;
      }
    }
  }
}

TEST(Array, AstypeDatetimeAndBytesKeepTheirValues) {
  npio::array t = golden("be_M8_ns.2c");
  npio::array n = t.astype(npio::dtype::parse("<M8[ns]"));
  EXPECT_EQ(n.dtype().str(), "<M8[ns]");
  EXPECT_EQ(first_difference(n.tobytes(), read_file(golden_dir() / "be_M8_ns.2c.native.bin")), "");
  npio::array u = golden("be_U5.1d");
  EXPECT_EQ(first_difference(u.astype(npio::dtype::parse("<U5")).tobytes(),
                             read_file(golden_dir() / "be_U5.1d.native.bin")),
            "");
  npio::array s = golden("S7.2f");
  EXPECT_TRUE(s.astype(s.dtype()).equal(s));
}

} // namespace
