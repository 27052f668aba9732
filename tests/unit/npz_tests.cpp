// .npz reading against archives made by NumPy, CPython's zipfile, Info-ZIP and
// 7-Zip (tests/data/generate_npz.py), and writing checked by NumPy and `unzip -t`.
#include "golden_support.hpp"
#include "npz_test_util.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <npio/npz.hpp>
#include <random>
#include <set>

using namespace npz_test;
namespace fs = std::filesystem;

namespace {

const fs::path golden = fs::path(NPIO_GOLDEN_DIR) / "npz";

nlohmann::json manifest() {
  std::ifstream in(golden / "manifest.json");
  return nlohmann::json::parse(in);
}

bool is_fortran(const npio::array& a) {
  return a.is_f_contiguous() && !a.is_c_contiguous();
}

std::string descr_of(const npio::array& a) {
  return a.dtype().is_structured() ? a.dtype().descr() : a.dtype().str();
}

// Writes `script` and runs it with NumPy's python; returns its stdout.
std::string python(const fs::path& dir, const std::string& script, const std::string& args,
                   int* status = nullptr) {
  const auto file = dir / "check.py";
  std::ofstream(file) << script;
  std::string out;
  const int st = run(std::string(NPIO_PYTHON) + " " + quote(file) + " " + args + " 2>&1", &out);
  if (status) *status = st;
  return out;
}

// NumPy loads `npz`, and every member equals DIR/KEY.npy (saved by npio::save).
const char* numpy_check = R"(
import os, sys
import numpy as np
z = np.load(sys.argv[1], allow_pickle=False)
want = sys.argv[3].split(',') if sys.argv[3] else []
assert list(z.files) == want, (z.files, want)
for k in z.files:
    a = z[k]
    b = np.load(os.path.join(sys.argv[2], k + '.npy'))
    assert a.dtype == b.dtype and a.dtype.str == b.dtype.str, (k, a.dtype, b.dtype)
    assert a.shape == b.shape, (k, a.shape, b.shape)
    assert a.flags.f_contiguous == b.flags.f_contiguous, k
    assert a.tobytes() == b.tobytes(), k
print('OK')
)";

void expect_numpy_loads(const fs::path& npz, const std::vector<npio::named_array>& arrays) {
  const auto dir = npz.parent_path() / (npz.stem().string() + "_expect");
  fs::create_directories(dir);
  std::string names;
  for (const auto& [k, a] : arrays) {
    npio::save(dir / (k + ".npy"), a);
    names += (names.empty() ? "" : ",") + k;
  }
  int st = 0;
  const auto out =
      python(dir, numpy_check, quote(npz) + " " + quote(dir) + " '" + names + "'", &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_EQ(out, "OK\n");
  std::string unzip;
  // unzip warns (status 1) on an archive without members, NumPy's included.
  EXPECT_EQ(run("unzip -tq " + quote(npz) + " 2>&1", &unzip), arrays.empty() ? 1 : 0) << unzip;
}

std::vector<npio::named_array> sample_arrays() {
  std::vector<npio::named_array> v;
  std::vector<std::int64_t> ints(12);
  for (std::size_t i = 0; i < ints.size(); ++i)
    ints[i] = static_cast<std::int64_t>(i) - 3;
  v.emplace_back("ints", npio::array::from(ints, npio::shape_t{3, 4}));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u;
  std::vector<double> big(450000); // > 3 MiB: several deflate chunks
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = i % 3 ? u(rng) : double(i % 1000);
  v.emplace_back("big", npio::array::from(big, npio::shape_t{std::int64_t(big.size())}));
  npio::array f(npio::dtype::parse("<f4"), {3, 4}, npio::order::f);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      f.set<float>(static_cast<float>(i * 10 + j), i, j);
  v.emplace_back("fortran", f);
  npio::array be(npio::dtype::parse(">i4"), {5});
  for (int i = 0; i < 5; ++i)
    be.set<std::int32_t>(i * 1000, i);
  v.emplace_back("big_endian", be);
  v.emplace_back("empty", npio::array(npio::dtype::parse("<u2"), {0, 5}));
  npio::array s(npio::dtype::parse("<c16"), {});
  s.set<std::complex<double>>({1.5, -2.0});
  v.emplace_back("scalar", s);
  std::vector<std::int16_t> grid(64);
  for (std::size_t i = 0; i < grid.size(); ++i)
    grid[i] = static_cast<std::int16_t>(i * i);
  const auto g = npio::array::from(grid, npio::shape_t{8, 8});
  v.emplace_back("strided", g.slice(1, 0, 8, 3)); // not contiguous: written in C order
  return v;
}

void expect_same(const npio::npz_file& z, const std::vector<npio::named_array>& arrays) {
  ASSERT_EQ(z.files().size(), arrays.size());
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    EXPECT_EQ(z.files()[i], arrays[i].first);
    const auto a = z.at(arrays[i].first);
    EXPECT_TRUE(a.equal(arrays[i].second)) << arrays[i].first;
    EXPECT_EQ(a.shape(), arrays[i].second.shape());
  }
}

} // namespace

TEST(npz_golden, every_archive_reads_as_numpy_sees_it) {
  const auto m = manifest();
  ASSERT_GE(m.size(), 15u);
  for (const auto& [name, want] : m.items()) {
    SCOPED_TRACE(name);
    const auto path = golden / name;
    const auto z = npio::npz_file::open(path);
    EXPECT_EQ(hex(std::as_bytes(std::span(z.comment()))), want["comment_hex"].get<std::string>());
    for (const auto& key : z.files()) {
      const auto& mm = want["members"][key];
      if (mm.contains("bytes_hex")) {
        EXPECT_FALSE(z.is_npy(key));
        EXPECT_EQ(hex(z.bytes(key)), mm["bytes_hex"].get<std::string>());
        try {
          (void)z.at(key);
          ADD_FAILURE() << "at() on a non-.npy member must throw";
        } catch (const npio::error& e) {
          EXPECT_EQ(e.code(), npio::errc::type_mismatch);
          EXPECT_EQ(e.detail(), "member is not a .npy file (use bytes())");
        }
        continue;
      }
      EXPECT_TRUE(z.is_npy(key));
      const npio::array a = z.at(key);
      EXPECT_EQ(descr_of(a), mm["dtype"].get<std::string>()) << key;
      EXPECT_EQ(a.shape(), mm["shape"].get<npio::shape_t>()) << key;
      EXPECT_EQ(is_fortran(a), mm["fortran_order"].get<bool>()) << key;
      EXPECT_EQ(hex(a.tobytes()), mm["hex"].get<std::string>()) << key;
      EXPECT_TRUE(z.at(key + ".npy").equal(a));
    }
    ASSERT_EQ(z.files(), want["files"].get<std::vector<std::string>>());
    // The same through np.load's entry point, from a path and from bytes.
    auto l = npio::load(path);
    ASSERT_TRUE(l.is_npz());
    EXPECT_EQ(l.npz().files(), z.files());
    const auto bytes = read_file(path);
    auto lb = npio::load(std::span<const std::byte>(bytes));
    ASSERT_TRUE(lb.is_npz());
    for (const auto& [key, a] : lb.npz().load_all(2))
      EXPECT_TRUE(a.equal(z.at(key))) << key;
    // Stored members map in place with mmap_mode r; others are read.
    npio::load_options o;
    o.mmap_mode = npio::mmap_mode::r;
    const auto zm = npio::npz_file::open(path, o);
    for (const auto& [key, a] : zm.load_all(1))
      EXPECT_TRUE(a.equal(z.at(key))) << key;
  }
}

TEST(npz_golden, methods_and_descriptors_are_covered) {
  const auto m = manifest();
  std::set<int> methods;
  int descriptors = 0;
  for (const auto& [name, want] : m.items()) {
    for (int x : want["methods"])
      methods.insert(x);
    descriptors += want["descriptors"].get<bool>();
  }
  EXPECT_EQ(methods, (std::set<int>{0, 8, 12, 14}));
  EXPECT_GE(descriptors, 3);
  EXPECT_TRUE(m.contains("numpy_ffff_stored.npz"));
  EXPECT_TRUE(m.contains("infozip_streamed.npz"));
  EXPECT_TRUE(m.contains("7z_lzma.npz"));
}

TEST(npz_golden, numpy_member_keys_and_missing_keys) {
  const auto z = npio::npz_file::open(golden / "numpy_savez.npz");
  // Keyword arrays first, then the positional ones, as np.savez orders them.
  EXPECT_EQ(z.files().back(), "arr_1");
  EXPECT_TRUE(z.contains("ints"));
  EXPECT_TRUE(z.contains("ints.npy"));
  EXPECT_FALSE(z.contains("nope"));
  try {
    (void)z.at("nope");
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::zip_no_member);
    EXPECT_EQ(e.detail(), "nope is not a file in the archive");
  }
  EXPECT_EQ(npio::npz_file::open(golden / "numpy_empty.npz").files().size(), 0u);
}

TEST(npz_golden, deflate64_is_refused_clearly) {
  const auto path = golden / "unsupported_deflate64.npz";
  if (!fs::exists(path)) GTEST_FAIL() << "7z missing: the generator could not make " << path;
  const auto z = npio::npz_file::open(path);
  bool saw = false;
  for (const auto& m : z.members()) {
    if (m.method != 9) continue;
    saw = true;
    try {
      (void)z.at(m.key);
      ADD_FAILURE();
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), npio::errc::zip_method);
      EXPECT_EQ(e.detail(),
                "compression method 9 is not supported (stored, deflate, bzip2 and lzma are)");
      EXPECT_EQ(e.member(), m.filename);
    }
  }
  EXPECT_TRUE(saw);
}

TEST(npz_write, savez_is_loaded_by_numpy_and_unzip) {
  const auto dir = temp_dir("savez");
  const auto arrays = sample_arrays();
  npio::savez(dir / "plain", arrays); // .npz appended
  ASSERT_TRUE(fs::exists(dir / "plain.npz"));
  expect_numpy_loads(dir / "plain.npz", arrays);
  expect_same(npio::npz_file::open(dir / "plain.npz"), arrays);
  // Stored data starts on a 64-byte boundary in the file, so it can be mapped.
  const auto z = npio::npz_file::open(dir / "plain.npz");
  for (const auto& m : z.members())
    EXPECT_EQ(m.data_offset % 64, 0u) << m.filename;
  fs::remove_all(dir);
}

TEST(npz_write, savez_compressed_is_loaded_by_numpy_and_unzip) {
  const auto dir = temp_dir("savezc");
  const auto arrays = sample_arrays();
  npio::savez_compressed(dir / "c.npz", arrays);
  expect_numpy_loads(dir / "c.npz", arrays);
  const auto z = npio::npz_file::open(dir / "c.npz");
  expect_same(z, arrays);
  for (const auto& m : z.members())
    EXPECT_EQ(m.method, 8);
  // Same bytes whatever the number of threads.
  npio::savez_options one;
  one.compress = true;
  one.threads = 1;
  npio::savez(dir / "one.npz", arrays, one);
  EXPECT_EQ(read_file(dir / "one.npz"), read_file(dir / "c.npz"));
  // Every level gives an archive NumPy reads.
  for (int level : {1, 9, 12}) {
    npio::savez_options o;
    o.compress = true;
    o.level = level;
    const auto p = dir / ("level" + std::to_string(level) + ".npz");
    npio::savez(p, {arrays[0], arrays[1]}, o);
    expect_numpy_loads(p, {arrays[0], arrays[1]});
  }
  fs::remove_all(dir);
}

TEST(npz_write, positional_arrays_are_named_like_numpy) {
  const auto dir = temp_dir("positional");
  const auto arrays = sample_arrays();
  npio::savez(dir / "p.npz", std::vector<npio::array>{arrays[0].second, arrays[2].second});
  npio::savez_compressed(dir / "pc.npz",
                         std::vector<npio::array>{arrays[0].second, arrays[2].second});
  const std::vector<npio::named_array> want{{"arr_0", arrays[0].second},
                                            {"arr_1", arrays[2].second}};
  expect_numpy_loads(dir / "p.npz", want);
  expect_numpy_loads(dir / "pc.npz", want);
  try {
    npio::savez(dir / "dup.npz", {arrays[0], arrays[0]});
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "duplicate member name 'ints'");
  }
  EXPECT_FALSE(fs::exists(dir / "dup.npz"));
  fs::remove_all(dir);
}

TEST(npz_write, forced_zip64_everywhere) {
  const auto dir = temp_dir("zip64");
  const auto arrays = sample_arrays();
  for (bool compress : {false, true}) {
    npio::savez_options o;
    o.compress = compress;
    o.force_zip64 = true;
    const auto p = dir / (compress ? "z64c.npz" : "z64.npz");
    npio::savez(p, arrays, o);
    const auto b = read_file(p);
    EXPECT_EQ(find_sig(b, 0x06064b50).size(), 1u); // zip64 end record
    EXPECT_EQ(find_sig(b, 0x07064b50).size(), 1u); // its locator
    for (auto at : find_sig(b, 0x04034b50)) {
      EXPECT_EQ(get32(b, at + 18), 0xFFFFFFFFu); // sizes live in the zip64 extra
      EXPECT_EQ(get16(b, at + 4), 45);
    }
    expect_numpy_loads(p, arrays);
    expect_same(npio::npz_file::open(p), arrays);
  }
  fs::remove_all(dir);
}

TEST(npz_write, failed_write_leaves_old_archive) {
  const auto dir = temp_dir("atomic");
  const auto arrays = sample_arrays();
  npio::savez(dir / "a.npz", {arrays[0]});
  const auto before = read_file(dir / "a.npz");
  EXPECT_THROW(npio::savez(dir / "a.npz", {arrays[0], arrays[0]}), npio::error);
  EXPECT_EQ(read_file(dir / "a.npz"), before);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
    ++files;
  EXPECT_EQ(files, 1u); // no temporary file left behind
  fs::remove_all(dir);
}

TEST(npz_mmap, stored_members_map_zero_copy) {
  const auto dir = temp_dir("mmap");
  const auto arrays = sample_arrays();
  npio::savez(dir / "m.npz", arrays);
  npio::load_options r;
  r.mmap_mode = npio::mmap_mode::r;
  const auto z = npio::npz_file::open(dir / "m.npz", r);
  const auto a = z.at("big");
  EXPECT_FALSE(a.writeable()); // a read-only mapping, not a heap copy
  EXPECT_TRUE(a.equal(arrays[1].second));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  // Through np.load's entry point too.
  auto l = npio::load(dir / "m.npz", r);
  EXPECT_FALSE(l.npz().at("ints").writeable());
  // Copy-on-write: writable, and the file does not change.
  npio::load_options c;
  c.mmap_mode = npio::mmap_mode::c;
  const auto before = read_file(dir / "m.npz");
  {
    auto w = npio::npz_file::open(dir / "m.npz", c).at("ints");
    EXPECT_TRUE(w.writeable());
    w.set<std::int64_t>(99, 0, 0);
    EXPECT_EQ(w.at<std::int64_t>(0, 0), 99);
  }
  EXPECT_EQ(read_file(dir / "m.npz"), before);
  // Compressed members fall back to a copy.
  npio::savez_compressed(dir / "c.npz", arrays);
  const auto cz = npio::npz_file::open(dir / "c.npz", r);
  EXPECT_TRUE(cz.at("big").equal(arrays[1].second));
  fs::remove_all(dir);
}

TEST(npz_append, adds_and_replaces_without_rewriting) {
  const auto dir = temp_dir("append");
  auto arrays = sample_arrays();
  // Onto an archive NumPy wrote.
  fs::copy_file(golden / "numpy_savez.npz", dir / "n.npz");
  npio::npz_append(dir / "n.npz", "extra", arrays[0].second);
  const auto z = npio::npz_file::open(dir / "n.npz");
  EXPECT_EQ(z.files().back(), "extra");
  EXPECT_TRUE(z.at("extra").equal(arrays[0].second));
  std::string out;
  EXPECT_EQ(run("unzip -tq " + quote(dir / "n.npz") + " 2>&1", &out), 0) << out;
  // Onto ours, compressed, then replacing.
  npio::savez(dir / "o.npz", {arrays[0], arrays[2]});
  const auto first_bytes = read_file(dir / "o.npz");
  npio::savez_options o;
  o.compress = true;
  npio::npz_append(dir / "o.npz", "big", arrays[1].second, o);
  const auto grown = read_file(dir / "o.npz");
  // The old members' bytes are untouched (only the directory was overwritten).
  const auto old_z = npio::npz_file::from_bytes(first_bytes);
  const auto cd = old_z.members().back().data_offset + old_z.members().back().compressed_size;
  EXPECT_TRUE(
      std::equal(first_bytes.begin(), first_bytes.begin() + static_cast<long>(cd), grown.begin()));
  try {
    npio::npz_append(dir / "o.npz", "ints", arrays[3].second);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "member 'ints.npy' exists (set replace to overwrite it)");
  }
  o.replace = true;
  npio::npz_append(dir / "o.npz", "ints", arrays[3].second, o);
  expect_numpy_loads(
      dir / "o.npz",
      {{"fortran", arrays[2].second}, {"big", arrays[1].second}, {"ints", arrays[3].second}});
  fs::remove_all(dir);
}

namespace {
// n random bytes below `below`: data that deflates into several chunks.
std::vector<std::uint8_t> random_small_bytes(std::size_t n, unsigned seed, unsigned below) {
  std::vector<std::uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& x : v)
    x = static_cast<std::uint8_t>(rng() % below);
  return v;
}
} // namespace

TEST(npz_read, npio_chunked_members_inflate_in_parallel_and_serially) {
  const auto dir = temp_dir("chunks");
  const std::vector<std::uint8_t> v = random_small_bytes(5u << 20, 3, 11);
  const std::vector<npio::named_array> arrays{
      {"v", npio::array::from(v, npio::shape_t{std::int64_t(v.size())})}};
  npio::savez_compressed(dir / "c.npz", arrays);
  // Python's zipfile (zlib) reads the joined stream as one deflate stream.
  int st = 0;
  const auto out = python(dir,
                          "import zipfile,sys\n"
                          "z=zipfile.ZipFile(sys.argv[1]); print(z.testzip(), "
                          "len(z.read('v.npy')))\n",
                          quote(dir / "c.npz"), &st);
  EXPECT_EQ(out, "None " + std::to_string(v.size() + 128) + "\n");
  const auto z = npio::npz_file::open(dir / "c.npz");
  for (unsigned t : {1u, 2u, 4u}) {
    const auto all = z.load_all(t);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(all[0].second.equal(arrays[0].second));
  }
  fs::remove_all(dir);
}

// Each worker reads its own chunk (from the file, or from memory) and checks
// the chunk's end marker; a damaged chunk is a typed error, in either place.
TEST(npz_read, npio_chunked_members_from_memory_and_damaged) {
  const auto dir = temp_dir("chunks2");
  const std::vector<std::uint8_t> v = random_small_bytes(3u << 20, 5, 13);
  const npio::array a = npio::array::from(v, npio::shape_t{std::int64_t(v.size())});
  npio::savez_compressed(dir / "c.npz", {{"v", a}});
  auto bytes = read_file(dir / "c.npz");
  EXPECT_TRUE(npio::load(std::span<const std::byte>(bytes)).npz().at("v").equal(a));
  // The first chunk's end marker (00 00 00 ff ff, an empty stored block).
  const std::byte marker[5] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0xff},
                               std::byte{0xff}};
  const auto at = std::search(bytes.begin() + 30, bytes.end(), marker, marker + 5);
  ASSERT_NE(at, bytes.end());
  auto damaged = bytes;
  damaged[static_cast<std::size_t>(at - bytes.begin()) + 4] = std::byte{0xfe};
  write_file(dir / "d.npz", damaged);
  for (unsigned t : {1u, 2u}) {
    EXPECT_EQ(npio_test::code_of([&] { (void)npio::npz_file::open(dir / "d.npz").load_all(t); }),
              npio::errc::zip_bad_archive);
  }
  EXPECT_EQ(npio_test::code_of(
                [&] { (void)npio::load(std::span<const std::byte>(damaged)).npz().at("v"); }),
            npio::errc::zip_bad_archive);
  // A bit flipped inside the second chunk: bad data or a CRC mismatch.
  auto flipped = bytes;
  flipped[static_cast<std::size_t>(at - bytes.begin()) + 100] ^= std::byte{0x10};
  write_file(dir / "f.npz", flipped);
  const auto e = npio_test::code_of([&] { (void)npio::npz_file::open(dir / "f.npz").at("v"); });
  EXPECT_TRUE(e == npio::errc::zip_bad_archive || e == npio::errc::zip_crc) << static_cast<int>(e);
  fs::remove_all(dir);
}

TEST(npz_read, open_errors_name_the_file) {
  const auto dir = temp_dir("openerr");
  write_file(dir / "short.npz", {std::byte{'P'}, std::byte{'K'}, std::byte{5}, std::byte{6}});
  try {
    (void)npio::load(dir / "short.npz");
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::zip_bad_archive);
    EXPECT_EQ(std::string(e.what()),
              (dir / "short.npz").string() +
                  ": not a zip archive: too short for an end of central directory record");
  }
  fs::remove_all(dir);
}

TEST(npz_read, closed_archive_refuses_reads) {
  auto z = npio::npz_file::open(golden / "numpy_savez.npz");
  z.close();
  try {
    (void)z.at("ints");
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::io_error);
    EXPECT_EQ(e.detail(), "archive is closed");
  }
}

TEST(npz_write, empty_savez_is_an_end_record_like_numpy) {
  const auto dir = temp_dir("empty");
  npio::savez(dir / "e.npz", std::vector<npio::named_array>{});
  const auto b = read_file(dir / "e.npz");
  ASSERT_EQ(b.size(), 22u); // gh-9989: NumPy writes just the end record
  EXPECT_EQ(get32(b, 0), 0x06054b50u);
  expect_numpy_loads(dir / "e.npz", {});
  EXPECT_TRUE(npio::npz_file::open(dir / "e.npz").files().empty());
  fs::remove_all(dir);
}

TEST(npz_read, header_of_reads_only_the_header) {
  for (const char* name : {"numpy_savez.npz", "numpy_savez_compressed.npz", "zipfile_bzip2.npz",
                           "zipfile_lzma.npz", "infozip_streamed.npz"}) {
    SCOPED_TRACE(name);
    const auto z = npio::npz_file::open(golden / name);
    for (const auto& k : z.files()) {
      if (!z.is_npy(k)) {
        try {
          (void)z.header_of(k);
          ADD_FAILURE();
        } catch (const npio::error& e) {
          EXPECT_EQ(e.code(), npio::errc::type_mismatch);
        }
        continue;
      }
      const auto h = z.header_of(k);
      const auto a = z.at(k);
      EXPECT_EQ(h.dtype, a.dtype()) << k;
      EXPECT_EQ(h.shape, a.shape()) << k;
      EXPECT_EQ(h.data_size, a.nbytes()) << k;
    }
  }
}
