// .npz members beyond arrays: raw-bytes members written under exact names,
// member names decoded as CPython's zipfile decodes them (cp437 without the
// UTF-8 flag), and npz_append's atomic default against its in-place opt-in.
// Every archive written here is checked by NumPy, zipfile and `unzip -t`.
#include "child_process.hpp"
#include "npz_test_util.hpp"

#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <npio/npz.hpp>
#include <set>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

using namespace npz_test;
namespace fs = std::filesystem;

namespace {

const fs::path golden = fs::path(NPIO_GOLDEN_DIR);

nlohmann::json names_manifest() {
  std::ifstream in(golden / "npz_names" / "manifest.json");
  return nlohmann::json::parse(in);
}

std::vector<std::byte> bytes_of(std::string_view s) {
  const auto b = std::as_bytes(std::span(s));
  return {b.begin(), b.end()};
}

// Checks an archive with CPython's zipfile and NumPy against `spec`:
//   namelist: zipfile's names, in order; utf8: bit 11 of each member's flags;
//   files: np.load(...).files; raw: {key: hex} members np.load returns as bytes;
//   arrays: {key: path of an .npy NumPy loads for comparison};
//   read: {name: hex} bytes zipfile reads; same_as: [archive, [names]] whose
//   members must read the same in both.
const char* python_check = R"(
import json, sys, zipfile
import numpy as np
npz = sys.argv[1]
spec = json.load(open(sys.argv[2], encoding='utf-8'))
with zipfile.ZipFile(npz) as z:
    assert z.testzip() is None
    assert z.namelist() == spec['namelist'], (z.namelist(), spec['namelist'])
    if 'utf8' in spec:
        got = [bool(i.flag_bits & 0x800) for i in z.infolist()]
        assert got == spec['utf8'], (got, spec['utf8'])
    for n, h in spec.get('read', {}).items():
        assert z.read(n).hex() == h, n
    if 'same_as' in spec:
        old_path, names = spec['same_as']
        with zipfile.ZipFile(old_path) as old:
            for n in names:
                assert z.read(n) == old.read(n), n
with np.load(npz, allow_pickle=False) as f:
    assert list(f.files) == spec['files'], (f.files, spec['files'])
    for k, h in spec.get('raw', {}).items():
        v = f[k]
        assert isinstance(v, bytes) and v.hex() == h, (k, v)
    for k, p in spec.get('arrays', {}).items():
        a, b = f[k], np.load(p)
        assert a.dtype.str == b.dtype.str and a.shape == b.shape, k
        assert a.tobytes() == b.tobytes(), k
print('OK')
)";

void expect_python_sees(const fs::path& npz, const nlohmann::json& spec) {
  const auto dir = npz.parent_path();
  const auto spec_file = dir / (npz.filename().string() + ".spec.json");
  const auto script = dir / "check_members.py";
  std::ofstream(spec_file) << spec.dump();
  std::ofstream(script) << python_check;
  std::string out;
  const int st = run(std::string(NPIO_PYTHON) + " " + quote(script) + " " + quote(npz) + " " +
                         quote(spec_file) + " 2>&1",
                     &out);
  EXPECT_EQ(st, 0) << out;
  EXPECT_EQ(out, "OK\n");
  fs::remove(spec_file);
  fs::remove(script);
  std::string unzip;
  EXPECT_EQ(run("unzip -tq " + quote(npz) + " 2>&1", &unzip), 0) << unzip;
}

npio::array ints(std::int64_t n, std::int64_t start = 0) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = start + static_cast<std::int64_t>(i);
  return npio::array::from(v, npio::shape_t{n});
}

// The names in a directory (to find temporary files left behind).
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> s;
  for (const auto& e : fs::directory_iterator(dir))
    s.insert(e.path().filename().string());
  return s;
}

ino_t inode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_ino;
}

using test_child::in_child;

} // namespace

// ---- raw-bytes members -----------------------------------------------------------------

TEST(npz_raw_members, written_under_exact_names_stored_and_compressed) {
  const auto dir = temp_dir("raw");
  std::vector<std::byte> all(256);
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<std::byte>(i);
  // Bytes that are a .npy file: np.load sees an array whatever the member's name.
  const npio::array inner = ints(4, 10);
  npio::save(dir / "inner.npy", inner);
  npio::save(dir / "a.npy", ints(5));
  npio::save(dir / "b.npy", ints(3, -1));
  const std::vector<npio::npz_member> members{
      npio::named_array("a", ints(5)),
      npio::raw_member{"notes.txt", bytes_of("hello\n")},
      npio::raw_member{"sub/dir/data.bin", all},
      npio::raw_member{"empty", {}},
      npio::raw_member{"inner.npy", read_file(dir / "inner.npy")},
      npio::raw_member{"na\xc3\xafve.txt", bytes_of("non-ASCII name")},
      npio::named_array("b", ints(3, -1)),
  };
  for (const bool compress : {false, true}) {
    SCOPED_TRACE(compress);
    const auto path = dir / (compress ? "c.npz" : "s.npz");
    if (compress)
      npio::savez_compressed(path, members);
    else
      npio::savez(path, members);
    nlohmann::json spec;
    spec["namelist"] = {"a.npy", "notes.txt", "sub/dir/data.bin",
                        "empty", "inner.npy", "na\xc3\xafve.txt",
                        "b.npy"};
    spec["utf8"] = {false, false, false, false, false, true, false};
    spec["files"] = {"a", "notes.txt", "sub/dir/data.bin", "empty", "inner", "na\xc3\xafve.txt",
                     "b"};
    spec["raw"] = {{"notes.txt", hex(bytes_of("hello\n"))},
                   {"sub/dir/data.bin", hex(all)},
                   {"empty", ""},
                   {"na\xc3\xafve.txt", hex(bytes_of("non-ASCII name"))}};
    spec["arrays"] = {{"a", (dir / "a.npy").string()},
                      {"inner", (dir / "inner.npy").string()},
                      {"b", (dir / "b.npy").string()}};
    spec["read"] = {{"inner.npy", hex(read_file(dir / "inner.npy"))}};
    expect_python_sees(path, spec);

    const auto z = npio::npz_file::open(path);
    ASSERT_EQ(z.members().size(), 7u);
    EXPECT_EQ(z.members()[2].filename, "sub/dir/data.bin");
    EXPECT_EQ(z.bytes("sub/dir/data.bin"), all);
    EXPECT_FALSE(z.is_npy("notes.txt"));
    EXPECT_TRUE(z.at("inner").equal(inner));
    for (const auto& m : z.members())
      EXPECT_EQ(m.method, compress ? 8 : 0) << m.filename;
  }
  // The same through savez with options (threads, forced zip64).
  npio::savez_options o;
  o.force_zip64 = true;
  o.threads = 1;
  npio::savez(dir / "z64.npz", members, o);
  EXPECT_EQ(npio::npz_file::open(dir / "z64.npz").bytes("sub/dir/data.bin"), all);
  fs::remove_all(dir);
}

TEST(npz_raw_members, clashing_and_nul_names_are_refused) {
  const auto dir = temp_dir("rawerr");
  const std::vector<npio::npz_member> clash{npio::named_array("x", ints(2)),
                                            npio::raw_member{"x.npy", bytes_of("abc")}};
  try {
    npio::savez(dir / "clash.npz", clash);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "duplicate member name 'x.npy'");
  }
  const std::vector<npio::npz_member> nul{
      npio::raw_member{std::string("a\0b", 3), bytes_of("abc")}};
  try {
    npio::savez_compressed(dir / "nul.npz", nul);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "member name 'a\\0...' holds a NUL byte");
  }
  EXPECT_TRUE(listing(dir).empty());
  fs::remove_all(dir);
}

TEST(npz_raw_members, appended_under_the_exact_name) {
  const auto dir = temp_dir("rawappend");
  fs::copy_file(golden / "npz" / "numpy_savez.npz", dir / "n.npz");
  const auto old = npio::npz_file::open(dir / "n.npz");
  npio::npz_append(dir / "n.npz", npio::raw_member{"readme.md", bytes_of("# hi\n")});
  nlohmann::json spec;
  spec["namelist"] = nlohmann::json::array();
  spec["files"] = nlohmann::json::array();
  for (const auto& m : old.members()) {
    spec["namelist"].push_back(m.filename);
    spec["files"].push_back(m.key);
  }
  spec["same_as"] = {(golden / "npz" / "numpy_savez.npz").string(), spec["namelist"]};
  spec["namelist"].push_back("readme.md");
  spec["files"].push_back("readme.md");
  spec["raw"] = {{"readme.md", hex(bytes_of("# hi\n"))}};
  expect_python_sees(dir / "n.npz", spec);
  try {
    npio::npz_append(dir / "n.npz", npio::raw_member{"readme.md", bytes_of("again")});
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.detail(), "member 'readme.md' exists (set replace to overwrite it)");
  }
  fs::remove_all(dir);
}

// ---- names without the UTF-8 flag ------------------------------------------------------

TEST(npz_names, decoded_as_numpy_and_zipfile_see_them) {
  const auto m = names_manifest();
  ASSERT_TRUE(m.contains("cp437_zipfile.npz"));
  ASSERT_TRUE(m.contains("infozip_c_locale.npz")) << "Info-ZIP zip is needed by the generator";
  for (const auto& [name, want] : m.items()) {
    if (name == "cp437_duplicate.npz") continue;
    SCOPED_TRACE(name);
    const auto z = npio::npz_file::open(golden / "npz_names" / name);
    EXPECT_EQ(z.files(), want["files"].get<std::vector<std::string>>());
    ASSERT_EQ(z.members().size(), want["namelist"].size());
    for (std::size_t i = 0; i < z.members().size(); ++i) {
      const auto& mm = z.members()[i];
      EXPECT_EQ(mm.filename, want["namelist"][i].get<std::string>());
      EXPECT_TRUE(z.contains(mm.key));
      EXPECT_EQ(hex(z.bytes(mm.filename)), want["bytes_hex"][i].get<std::string>());
      if (z.is_npy(mm.key)) (void)z.at(mm.key);
    }
  }
}

TEST(npz_names, names_equal_after_decoding_are_duplicates) {
  const auto m = names_manifest();
  // zipfile lists the name twice; npio refuses the archive as for any duplicate.
  EXPECT_EQ(m["cp437_duplicate.npz"]["files"], nlohmann::json({"\xc3\xa9", "\xc3\xa9"}));
  try {
    (void)npio::npz_file::open(golden / "npz_names" / "cp437_duplicate.npz");
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::zip_duplicate);
    EXPECT_EQ(e.detail(), "duplicate member name '\xc3\xa9.npy'");
  }
}

TEST(npz_names, writer_flags_non_ascii_names_only) {
  const auto dir = temp_dir("flags");
  npio::savez(dir / "f.npz", {{"caf\xc3\xa9", ints(2)}, {"plain", ints(1)}});
  const auto b = read_file(dir / "f.npz");
  std::vector<bool> local, central;
  for (auto at : find_sig(b, 0x04034b50))
    local.push_back(get16(b, at + 6) & 0x800);
  for (auto at : find_sig(b, 0x02014b50))
    central.push_back(get16(b, at + 8) & 0x800);
  EXPECT_EQ(local, (std::vector<bool>{true, false}));
  EXPECT_EQ(central, (std::vector<bool>{true, false}));
  nlohmann::json spec;
  spec["namelist"] = {"caf\xc3\xa9.npy", "plain.npy"};
  spec["utf8"] = {true, false};
  spec["files"] = {"caf\xc3\xa9", "plain"};
  expect_python_sees(dir / "f.npz", spec);
  fs::remove_all(dir);
}

TEST(npz_names, append_keeps_stored_name_bytes_and_matches_decoded_names) {
  const auto dir = temp_dir("cp437append");
  const auto src = golden / "npz_names" / "cp437_zipfile.npz";
  const auto want = names_manifest()["cp437_zipfile.npz"];
  for (const bool in_place : {false, true}) {
    SCOPED_TRACE(in_place);
    const auto path = dir / (in_place ? "inplace.npz" : "atomic.npz");
    fs::copy_file(src, path);
    npio::savez_options o;
    o.in_place_append = in_place;
    npio::npz_append(path, "new\xc3\xa9", ints(3), o);
    // Replacing a member found by its decoded name (stored as raw cp437 bytes).
    const std::string first = want["files"][0].get<std::string>();
    o.replace = true;
    npio::npz_append(path, first, ints(2, 7), o);
    npio::save(dir / "new.npy", ints(3));
    npio::save(dir / "first.npy", ints(2, 7));
    nlohmann::json spec;
    spec["namelist"] = want["namelist"];
    spec["files"] = want["files"];
    spec["utf8"] = nlohmann::json::array();
    for (const auto& f : want["flags"])
      spec["utf8"].push_back((f.get<int>() & 0x800) != 0);
    // The replaced member moves to the end, as zipfile lists it.
    spec["same_as"] = {src.string(), nlohmann::json::array()};
    for (std::size_t i = 1; i < want["namelist"].size(); ++i)
      spec["same_as"][1].push_back(want["namelist"][i]);
    spec["namelist"].erase(0);
    spec["files"].erase(0);
    spec["utf8"].erase(0);
    spec["namelist"].push_back("new\xc3\xa9.npy");
    spec["namelist"].push_back(first + ".npy");
    spec["files"].push_back("new\xc3\xa9");
    spec["files"].push_back(first);
    spec["utf8"].push_back(true);
    spec["utf8"].push_back(true);
    spec["arrays"] = {{"new\xc3\xa9", (dir / "new.npy").string()},
                      {first, (dir / "first.npy").string()}};
    expect_python_sees(path, spec);
  }
  fs::remove_all(dir);
}

// ---- npz_append: atomic by default, in place on request --------------------------------

TEST(npz_append_modes, numpy_and_unzip_read_the_result_in_both_modes) {
  const auto dir = temp_dir("appendmodes");
  npio::save(dir / "extra.npy", ints(1000, 5));
  for (const char* base : {"numpy_savez.npz", "numpy_savez_compressed.npz"}) {
    const auto old = npio::npz_file::open(golden / "npz" / base);
    for (const bool in_place : {false, true}) {
      for (const bool compress : {false, true}) {
        SCOPED_TRACE(std::string(base) + (in_place ? " in place" : " atomic") +
                     (compress ? " compressed" : " stored"));
        const auto path = dir / "a.npz";
        fs::remove(path);
        fs::copy_file(golden / "npz" / base, path);
        const auto before = read_file(path);
        const auto ino = inode(path);
        const auto entries = listing(dir);
        npio::savez_options o;
        o.in_place_append = in_place;
        o.compress = compress;
        o.sync = compress; // once each way
        npio::npz_append(path, "extra", ints(1000, 5), o);
        // In place keeps the file; the default writes a copy and renames it over.
        if (in_place)
          EXPECT_EQ(inode(path), ino);
        else
          EXPECT_NE(inode(path), ino);
        EXPECT_EQ(listing(dir), entries) << "temporary file left behind";
        // The members before the old directory are the same bytes.
        const auto after = read_file(path);
        const auto& last = old.members().back();
        const auto keep = static_cast<long>(last.data_offset + last.compressed_size);
        ASSERT_GE(after.size(), static_cast<std::size_t>(keep));
        EXPECT_TRUE(std::equal(before.begin(), before.begin() + keep, after.begin()));
        nlohmann::json spec;
        spec["namelist"] = nlohmann::json::array();
        spec["files"] = nlohmann::json::array();
        for (const auto& m : old.members()) {
          spec["namelist"].push_back(m.filename);
          spec["files"].push_back(m.key);
        }
        spec["same_as"] = {(golden / "npz" / base).string(), spec["namelist"]};
        spec["namelist"].push_back("extra.npy");
        spec["files"].push_back("extra");
        spec["arrays"] = {{"extra", (dir / "extra.npy").string()}};
        expect_python_sees(path, spec);
      }
    }
  }
  fs::remove_all(dir);
}

TEST(npz_append_modes, disk_full_midway_leaves_the_archive_byte_identical) {
  const auto dir = temp_dir("appendfull");
  const auto path = dir / "n.npz";
  fs::copy_file(golden / "npz" / "numpy_savez.npz", path);
  const auto before = read_file(path);
  const auto entries = listing(dir);
  constexpr int failed_cleanly = 0, saved_anyway = 1, wrong_error = 2;
  auto append_over_the_limit = [&](bool in_place) {
    return in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN); // write() then fails with EFBIG
      const rlim_t limit = before.size() + 16 * 1024;
      rlimit rl{limit, limit};
      if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return 102;
      npio::savez_options o;
      o.in_place_append = in_place;
      try {
        npio::npz_append(path, "big", ints(1 << 17), o); // 1 MiB, far over the limit
      } catch (const npio::error& e) {
        return e.code() == npio::errc::io_error ? failed_cleanly : wrong_error;
      }
      return saved_anyway;
    });
  };
  EXPECT_EQ(append_over_the_limit(false), failed_cleanly);
  EXPECT_EQ(read_file(path), before) << "the archive changed";
  EXPECT_EQ(listing(dir), entries) << "temporary file left behind";
  EXPECT_EQ(npio::npz_file::open(path).files().size(),
            npio::npz_file::open(golden / "npz" / "numpy_savez.npz").files().size());
  // What the opt-in gives up: the same failure in place has already
  // overwritten the old directory.
  EXPECT_EQ(append_over_the_limit(true), failed_cleanly);
  EXPECT_NE(read_file(path), before);
  fs::remove_all(dir);
}

TEST(npz_append_modes, exception_midway_leaves_the_archive_byte_identical) {
  const auto dir = temp_dir("appendthrow");
  const auto path = dir / "c.npz";
  fs::copy_file(golden / "npz" / "numpy_savez_compressed.npz", path);
  const auto before = read_file(path);
  const auto entries = listing(dir);
  for (const bool compress : {false, true}) {
    npio::savez_options o;
    o.compress = compress;
    int calls = 0;
    o.progress = [&](std::uint64_t, std::uint64_t) {
      ++calls;
      throw std::runtime_error("stop");
    };
    EXPECT_THROW(npio::npz_append(path, "big", ints(3 << 20), o), std::runtime_error);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(read_file(path), before);
    EXPECT_EQ(listing(dir), entries);
  }
  // A name that exists: refused before anything is written.
  try {
    npio::npz_append(path, "ints", ints(2));
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_EQ(e.file(), path.string());
  }
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(listing(dir), entries);
  fs::remove_all(dir);
}

TEST(npz_append_modes, through_a_symlink_keeping_permissions) {
  const auto dir = temp_dir("appendlink");
  fs::copy_file(golden / "npz" / "numpy_savez.npz", dir / "real.npz");
  fs::permissions(dir / "real.npz",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  fs::create_symlink("real.npz", dir / "link.npz");
  npio::npz_append(dir / "link.npz", "extra", ints(4));
  EXPECT_TRUE(fs::is_symlink(dir / "link.npz"));
  EXPECT_EQ(fs::status(dir / "real.npz").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_TRUE(npio::npz_file::open(dir / "real.npz").at("extra").equal(ints(4)));
  EXPECT_EQ(listing(dir), (std::set<std::string>{"link.npz", "real.npz"}));
  fs::remove_all(dir);
}
