// npy_reader on files whose header promises more than they hold: nothing is
// allocated for bytes that are not there (found by fuzz/fuzz_npy_reader.cpp).
#include "golden_support.hpp"

#include <gtest/gtest.h>
#include <npio/npio.hpp>

using namespace npio_test;

namespace {

// A .npy of `shape` float64 holding only `data_bytes` of its data.
fs::path short_file(const temp_dir& d, const npio::shape_t& shape, std::size_t data_bytes) {
  const auto p = d.path() / "short.npy";
  std::string f = npio::format_header(npio::dtype::parse("<f8"), shape, false);
  f.append(data_bytes, '\x01');
  write_file(p, to_bytes(f));
  return p;
}

} // namespace

TEST(NpyReaderHostile, AChunkLargerThanTheFileIsTruncatedBeforeItIsAllocated) {
  // 2^40 rows claimed, 16 bytes present: a chunk of 2^37 rows (1 TiB) used to
  // be allocated before reading (std::bad_alloc, or a terabyte mapping).
  temp_dir d;
  const auto p = short_file(d, {std::int64_t(1) << 40}, 16);
  npio::npy_reader r(p);
  EXPECT_EQ(r.rows(), std::int64_t(1) << 40);
  try {
    (void)r.next(std::int64_t(1) << 37);
    ADD_FAILURE() << "no error";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::truncated);
    EXPECT_EQ(std::string(e.what()),
              p.string() + ": file seems not fully written: expected 8796093022208 bytes of "
                           "array data, found 16");
    EXPECT_EQ(e.file(), p.string());
  }
  EXPECT_EQ(r.position(), 0);
}

TEST(NpyReaderHostile, TheRowsPresentAreReadThenTruncated) {
  temp_dir d;
  const auto p = short_file(d, {1000, 2}, 3 * 16 + 5); // 3 rows and 5 bytes
  npio::npy_reader r(p);
  auto c = r.next(3);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->shape(), (npio::shape_t{3, 2}));
  try {
    (void)r.next(1 << 20);
    ADD_FAILURE() << "no error";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::truncated);
    EXPECT_EQ(std::string(e.what()),
              p.string() + ": file seems not fully written: expected 16000 bytes of array "
                           "data, found 53");
  }
}

TEST(NpyReaderHostile, MembersClaimingMoreRowsAreTruncated) {
  // A member holds what its header says, or less: the reader stops at the
  // member's (declared, bomb-checked) size, with file and member named, stored or deflated.
  temp_dir d;
  std::string text =
      npio::format_header(npio::dtype::parse("<f8"), {std::int64_t(1) << 40, 2}, false);
  text.append(64, '\x02'); // 4 rows
  for (const bool compress : {false, true}) {
    SCOPED_TRACE(compress);
    const auto p = d.path() / (compress ? "deflated.npz" : "stored.npz");
    const std::vector<npio::npz_member> members = {npio::raw_member{"x.npy", to_bytes(text)}};
    npio::savez_options o;
    o.compress = compress;
    npio::savez(p, std::span<const npio::npz_member>(members), o);
    auto r = npio::npz_file::open(p).reader("x");
    EXPECT_EQ(r.rows(), std::int64_t(1) << 40);
    EXPECT_EQ(r.next(4)->shape(), (npio::shape_t{4, 2}));
    try {
      (void)r.next(std::int64_t(1) << 36); // 1 TiB
      ADD_FAILURE() << "no error";
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), npio::errc::truncated);
      EXPECT_EQ(e.file(), p.string());
      EXPECT_EQ(e.member(), "x.npy");
    }
  }
}
