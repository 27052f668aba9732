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
                           "array data, found 16 (at byte 144)");
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
                           "data, found 53 (at byte 181)");
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

namespace {

std::uint32_t crc32_of(std::span<const std::byte> b) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const std::byte x : b) {
    c ^= std::to_integer<std::uint32_t>(x);
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put32(bytes& b, std::size_t at, std::uint32_t v) {
  for (int k = 0; k < 4; ++k)
    b[at + std::size_t(k)] = std::byte((v >> (8 * k)) & 0xFF);
}

} // namespace

TEST(NpyReaderHostile, ADeflatedMemberThatInflatesPastItsDeclaredSizeFailsAtTheEnd) {
  // The member's directory entries declare the size and CRC-32 of a .npy, but
  // its deflate stream goes on for 100 more bytes. npz_file::at calls that a
  // bomb; the reader used to stop at the declared size, find the CRC right and
  // report success (found by fuzz/fuzz_npy_reader.cpp).
  temp_dir d;
  const auto npy = npio::save_bytes(npio::array::from(std::vector<std::int32_t>{1, 2, 3, 4}));
  bytes longer(npy.begin(), npy.end());
  longer.resize(npy.size() + 100, std::byte{7});
  const std::vector<npio::npz_member> members = {npio::raw_member{"x.npy", longer}};
  const auto p = d.path() / "m.npz";
  npio::savez_compressed(p, std::span<const npio::npz_member>(members));
  auto z = read_file(p);
  // Local header: CRC at 14, sizes at 18 (compressed) and 22; central: 16, 24.
  ASSERT_EQ(z[0], std::byte{'P'});
  std::size_t central = 0;
  for (std::size_t i = 0; i + 4 <= z.size(); ++i)
    if (z[i] == std::byte{'P'} && z[i + 1] == std::byte{'K'} && z[i + 2] == std::byte{1} &&
        z[i + 3] == std::byte{2})
      central = i;
  ASSERT_NE(central, 0u);
  const std::uint32_t crc = crc32_of(npy);
  put32(z, 14, crc);
  put32(z, 22, std::uint32_t(npy.size()));
  put32(z, central + 16, crc);
  put32(z, central + 24, std::uint32_t(npy.size()));
  const auto q = d.path() / "bomb.npz";
  write_file(q, z);
  const auto f = npio::npz_file::open(q);
  EXPECT_EQ(npio::capture([&] { return f.at("x"); }).code(), npio::errc::zip_bomb);
  auto r = f.reader("x");
  ASSERT_EQ(r.next(10)->shape(), (npio::shape_t{4})); // the declared bytes are fine
  try {
    (void)r.next(10);
    ADD_FAILURE() << "no error";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::zip_bomb);
    EXPECT_EQ(e.file(), q.string());
    EXPECT_EQ(e.member(), "x.npy");
    EXPECT_NE(std::string(e.what()).find("inflates past the declared size 144"), std::string::npos)
        << e.what();
  }
}
