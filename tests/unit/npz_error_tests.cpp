// Hostile archives: each fails with its own code and exact message, never a crash.
#include "npz_test_util.hpp"

#include <cstdio>
#include <gtest/gtest.h>
#include <npio/npz.hpp>

using namespace npz_test;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t sig_local = 0x04034b50, sig_central = 0x02014b50, sig_end = 0x06054b50;

std::string hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

npio::array ints(std::size_t n) {
  std::vector<std::int32_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int32_t>(i * 7);
  return npio::array::from(v, npio::shape_t{std::int64_t(n)});
}

// An archive with members a.npy and b.npy, as bytes.
std::vector<std::byte> archive(bool compress, bool zip64 = false, std::size_t n = 40) {
  const auto dir = temp_dir("err_src");
  npio::savez_options o;
  o.compress = compress;
  o.force_zip64 = zip64;
  npio::savez(dir / "x.npz", {{"a", ints(n)}, {"b", ints(5)}}, o);
  auto b = read_file(dir / "x.npz");
  fs::remove_all(dir);
  return b;
}

struct layout {
  std::vector<std::size_t> local, central;
  std::size_t end;
};
layout find(const std::vector<std::byte>& b) {
  return {find_sig(b, sig_local), find_sig(b, sig_central), find_sig(b, sig_end).back()};
}
std::size_t data_of(const std::vector<std::byte>& b, std::size_t local) {
  return local + 30 + get16(b, local + 26) + get16(b, local + 28);
}

template <class F> npio::error catch_error(F&& f) {
  try {
    f();
  } catch (const npio::error& e) {
    return e;
  }
  ADD_FAILURE() << "no npio::error thrown";
  return npio::error(npio::errc::ok, "");
}

npio::error open_error(std::vector<std::byte> b) {
  return catch_error([&] { (void)npio::npz_file::from_bytes(std::move(b)); });
}

npio::error at_error(std::vector<std::byte> b, const std::string& key,
                     const npio::load_options& o = {}) {
  return catch_error([&] { (void)npio::npz_file::from_bytes(std::move(b), o).at(key); });
}

} // namespace

TEST(npz_errors, empty_and_truncated_archives) {
  auto e = open_error({});
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "not a zip archive: too short for an end of central directory record");
  auto b = archive(false);
  b.pop_back();
  e = open_error(b);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "not a zip archive: no end of central directory record");
  // Cut in the middle of the data, the end record kept: offsets no longer fit.
  auto full = archive(false);
  std::vector<std::byte> cut(full.begin(), full.begin() + 100);
  cut.insert(cut.end(), full.end() - 22, full.end());
  e = open_error(cut);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail().rfind("central directory (offset ", 0), 0u) << e.detail();
}

TEST(npz_errors, central_directory_out_of_bounds) {
  auto b = archive(false);
  const auto L = find(b);
  const std::uint32_t cd = get32(b, L.end + 16), size = get32(b, L.end + 12);
  put32(b, L.end + 16, cd + 1000);
  const auto e = open_error(b);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "central directory (offset " + std::to_string(cd + 1000) + ", size " +
                            std::to_string(size) + ") lies outside the archive");
  EXPECT_EQ(e.offset(), L.end);
}

TEST(npz_errors, entry_count_that_lies) {
  auto b = archive(false);
  const auto L = find(b);
  put16(b, L.end + 10, 5);
  const auto e = open_error(b);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "end record counts 5 entries, directory has 2");
}

TEST(npz_errors, bad_crc) {
  auto b = archive(false);
  const auto L = find(b);
  const std::size_t data = data_of(b, L.local[0]);
  const std::uint32_t size = get32(b, L.central[0] + 24);
  b[data + size - 1] ^= std::byte{0x40};
  const std::uint32_t want = get32(b, L.central[0] + 16);
  const std::uint32_t got = crc32(std::span<const std::byte>(b).subspan(data, size));
  auto e = at_error(b, "a");
  EXPECT_EQ(e.code(), npio::errc::zip_crc);
  EXPECT_EQ(e.detail(),
            "CRC-32 mismatch: directory says " + hex32(want) + ", data has " + hex32(got));
  EXPECT_EQ(e.member(), "a.npy");
  // bytes() checks it too, and so does the compressed path.
  e = catch_error([&] { (void)npio::npz_file::from_bytes(b).bytes("a"); });
  EXPECT_EQ(e.code(), npio::errc::zip_crc);
  auto c = archive(true);
  const auto C = find(c);
  put32(c, C.central[1] + 16, get32(c, C.central[1] + 16) ^ 1u);
  EXPECT_EQ(at_error(c, "b").code(), npio::errc::zip_crc);
}

TEST(npz_errors, duplicate_names) {
  auto b = archive(false);
  const auto L = find(b);
  // Rename b.npy to a.npy in its local and central headers.
  b[L.local[1] + 30] = std::byte{'a'};
  b[L.central[1] + 46] = std::byte{'a'};
  const auto e = open_error(b);
  EXPECT_EQ(e.code(), npio::errc::zip_duplicate);
  EXPECT_EQ(e.detail(), "duplicate member name 'a.npy'");
}

TEST(npz_errors, overlapping_entries) {
  auto b = archive(false);
  const auto L = find(b);
  put32(b, L.central[0] + 20, get32(b, L.central[0] + 20) + 40); // a's data runs into b
  const auto e = open_error(b);
  EXPECT_EQ(e.code(), npio::errc::zip_duplicate);
  EXPECT_EQ(e.detail(), "member overlaps 'a.npy'");
  EXPECT_EQ(e.member(), "b.npy");
  EXPECT_EQ(e.offset(), L.local[1]);
}

TEST(npz_errors, sizes_that_lie) {
  // Stored: the two sizes must agree.
  auto b = archive(false);
  auto L = find(b);
  const std::uint32_t n = get32(b, L.central[0] + 24);
  put32(b, L.central[0] + 24, n + 1);
  auto e = at_error(b, "a");
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "stored member sizes differ (compressed " + std::to_string(n) +
                            ", uncompressed " + std::to_string(n + 1) + ")");
  // Deflate: inflation stops at the declared size ...
  auto c = archive(true);
  L = find(c);
  const std::uint32_t u = get32(c, L.central[0] + 24);
  auto small = c;
  put32(small, L.central[0] + 24, u - 1);
  e = at_error(small, "a");
  EXPECT_EQ(e.code(), npio::errc::zip_bomb);
  EXPECT_EQ(e.detail(), "deflate data inflates past the declared size " + std::to_string(u - 1));
  // ... and a stream that ends early is an error too.
  auto big = c;
  put32(big, L.central[0] + 24, u + 10);
  e = at_error(big, "a");
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "deflate data ends after " + std::to_string(u) + " of " +
                            std::to_string(u + 10) + " declared bytes");
  // Compressed size past the directory.
  auto past = archive(false);
  L = find(past);
  put32(past, L.central[1] + 20, 100000);
  e = open_error(past);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "member data (100000 bytes at offset " +
                            std::to_string(data_of(past, L.local[1])) +
                            ") runs past the central directory");
}

TEST(npz_errors, deflate_bombs_stop_at_limits) {
  const auto dir = temp_dir("bomb");
  npio::savez_compressed(
      dir / "z.npz", {{"zeros", npio::array(npio::dtype::parse("<f8"), {std::int64_t(2) << 20})}});
  auto b = read_file(dir / "z.npz");
  fs::remove_all(dir);
  const auto L = find(b);
  const std::uint64_t u = get32(b, L.central[0] + 24), csz = get32(b, L.central[0] + 20);
  npio::load_options o;
  o.max_data_bytes = 1 << 20;
  auto e = at_error(b, "zeros", o);
  EXPECT_EQ(e.code(), npio::errc::zip_bomb);
  EXPECT_EQ(e.detail(), "member is " + std::to_string(u) +
                            " bytes, over the limit of 1048576 (max_data_bytes)");
  // A declared size beyond what deflate can express is refused before any allocation.
  put32(b, L.central[0] + 24, static_cast<std::uint32_t>(csz * 2000));
  e = at_error(b, "zeros");
  EXPECT_EQ(e.code(), npio::errc::zip_bomb);
  EXPECT_EQ(e.detail(), "declared size " + std::to_string(csz * 2000) +
                            " is more than deflate can produce from " + std::to_string(csz) +
                            " bytes");
}

TEST(npz_errors, invalid_deflate_data) {
  auto c = archive(true);
  const auto L = find(c);
  c[data_of(c, L.local[1])] = std::byte{0xFF}; // BTYPE 11: reserved
  const auto e = at_error(c, "b");
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "invalid deflate data");
}

TEST(npz_errors, unknown_method_and_encryption) {
  auto b = archive(false);
  const auto L = find(b);
  auto m = b;
  put16(m, L.central[1] + 10, 99);
  auto e = at_error(m, "b");
  EXPECT_EQ(e.code(), npio::errc::zip_method);
  EXPECT_EQ(e.detail(),
            "compression method 99 is not supported (stored, deflate, bzip2 and lzma are)");
  EXPECT_EQ(npio::npz_file::from_bytes(m).at("a").size(), 40); // others still load
  auto enc = b;
  put16(enc, L.central[1] + 8, 1);
  e = at_error(enc, "b");
  EXPECT_EQ(e.code(), npio::errc::unsupported);
  EXPECT_EQ(e.detail(), "encrypted members are not supported");
}

TEST(npz_errors, local_headers_must_agree) {
  auto b = archive(false);
  const auto L = find(b);
  auto sig = b;
  sig[L.local[1]] = std::byte{'X'};
  auto e = open_error(sig);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "bad local header signature");
  EXPECT_EQ(e.offset(), L.local[1]);
  auto name = b;
  name[L.local[1] + 30] = std::byte{'c'};
  e = open_error(name);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "file name in directory 'b.npy' and header 'c.npy' differ");
}

TEST(npz_errors, bad_central_entry_and_extra_field) {
  auto b = archive(false);
  const auto L = find(b);
  auto bad = b;
  bad[L.central[1]] = std::byte{0};
  auto e = open_error(bad);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "bad central directory entry");
  EXPECT_EQ(e.offset(), L.central[1]);
  // A zip64 extra field that is too short for the saturated sizes.
  auto z = archive(false, true);
  const auto Z = find(z);
  const std::size_t x = Z.central[0] + 46 + get16(z, Z.central[0] + 28);
  ASSERT_EQ(get16(z, x), 1);
  put16(z, x + 2, 8); // only one of three fields
  e = open_error(z);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "corrupt zip64 extra field: compressed size not found");
}

TEST(npz_errors, zip64_end_record_missing) {
  auto z = archive(false, true);
  const auto at = find_sig(z, 0x06064b50);
  ASSERT_EQ(at.size(), 1u);
  z[at[0]] = std::byte{0};
  const auto e = open_error(z);
  EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
  EXPECT_EQ(e.detail(), "zip64 end of central directory record not found");
}

TEST(npz_errors, fake_end_signature_in_comment_is_skipped) {
  // CPython takes the last signature it sees and fails here; npio takes the
  // end record whose comment reaches exactly to the end of the file.
  auto b = archive(false);
  const auto L = find(b);
  const std::string comment = "xxPK\x05\x06yy and more text";
  put16(b, L.end + 20, static_cast<std::uint16_t>(comment.size()));
  for (char ch : comment)
    b.push_back(static_cast<std::byte>(ch));
  const auto z = npio::npz_file::from_bytes(b);
  EXPECT_EQ(z.comment(), comment);
  EXPECT_EQ(z.at("a").size(), 40);
}

TEST(npz_errors, unsafe_member_names) {
  for (const char* bad : {"../x.npy", "/etc/passwd", "a/../../b", "C:x.npy", "a\\b.npy", "", "a//b",
                          "./a", "a/./b", ".."})
    EXPECT_FALSE(npio::safe_member_name(bad)) << bad;
  for (const char* good : {"x.npy", "dir/x.npy", "..x", "x..npy", "a b/c"})
    EXPECT_TRUE(npio::safe_member_name(good)) << good;
  // Reading such a member is fine (NumPy does); only extraction refuses it.
  auto b = archive(false);
  const auto L = find(b);
  const std::string evil = "/.npy"; // five bytes, like "b.npy"
  for (std::size_t i = 0; i < evil.size(); ++i) {
    b[L.local[1] + 30 + i] = static_cast<std::byte>(evil[i]);
    b[L.central[1] + 46 + i] = static_cast<std::byte>(evil[i]);
  }
  const auto z = npio::npz_file::from_bytes(b);
  EXPECT_EQ(z.files()[1], "/");
  EXPECT_FALSE(npio::safe_member_name(z.members()[1].filename));
}

TEST(npz_errors, every_single_byte_truncation_fails_cleanly) {
  const auto b = archive(true, true, 300);
  for (std::size_t n = 0; n < b.size(); ++n) {
    std::vector<std::byte> t(b.begin(), b.begin() + static_cast<long>(n));
    auto r = npio::capture([&] {
      const auto z = npio::npz_file::from_bytes(t);
      for (const auto& k : z.files())
        (void)z.at(k);
      return 0;
    });
    EXPECT_FALSE(r.has_value()) << n;
    EXPECT_NE(r.code(), npio::errc::ok);
  }
}
