// load()'s dispatch for files that are neither .npy nor zip: plausible
// pickles (docs/errors.md) are refused with npio's allow_pickle hint,
// anything else is bad_magic showing its first bytes.
#include "golden_support.hpp"

#include <gtest/gtest.h>
#include <npio/npio.hpp>

using namespace npio_test;

namespace {

using npio::errc;

// The error of load() from bytes, a path (mapped and not) and a stream must agree.
std::string load_error(const std::string& content, errc want) {
  temp_dir d;
  const auto p = d.path() / "x.npy";
  write_file(p, to_bytes(content));
  const auto r = npio::try_load(std::span<const std::byte>(to_bytes(content)));
  EXPECT_FALSE(r.has_value());
  if (r.has_value()) return "loaded";
  EXPECT_EQ(r.code(), want) << r.error().what();
  EXPECT_EQ(r.error().offset(), std::optional<std::uint64_t>(0));
  for (auto mode : {npio::mmap_mode::none, npio::mmap_mode::r, npio::mmap_mode::c}) {
    npio::load_options o;
    o.mmap_mode = mode;
    const auto f = npio::try_load(p, o);
    EXPECT_FALSE(f.has_value());
    if (f.has_value()) continue;
    EXPECT_EQ(f.code(), want);
    EXPECT_EQ(f.error().file(), p.string());
    EXPECT_EQ(f.error().detail(), r.error().detail());
  }
  return r.error().detail();
}

} // namespace

TEST(BadMagic, ACsvNamedNpy) {
  EXPECT_EQ(load_error("id,x,y\n1,2.5,3\n4,5,6\n", errc::bad_magic),
            "not a .npy, .npz or pickle file: it starts with b'id,x,y\\n1,2.5,3\\n4'; a .npy file "
            "starts with b'\\x93NUMPY'");
  // with allow_pickle too: it is no pickle
  npio::load_options o;
  o.allow_pickle = true;
  const auto r = npio::try_load(std::span<const std::byte>(to_bytes("id,x\n")), o);
  EXPECT_EQ(r.code(), errc::bad_magic);
  EXPECT_EQ(r.error().detail(), "not a .npy, .npz or pickle file: it starts with b'id,x\\n'; a "
                                ".npy file starts with b'\\x93NUMPY'");
}

TEST(BadMagic, AnAlmostNpyMagic) {
  EXPECT_EQ(
      load_error(std::string("\x93NUMPX\x01\x00\x76\x00{'descr': '<f8'", 26), errc::bad_magic),
      "not a .npy, .npz or pickle file: it starts with b\"\\x93NUMPX\\x01\\x00v\\x00{'desc\"; a "
      ".npy file starts with b'\\x93NUMPY'");
  for (const char* m : {"\x92NUMPY", "\x93numpy", "\x93MATLB"})
    EXPECT_EQ(load_error(std::string(m, 6) + std::string("\x01\x00\x00\x00", 4), errc::bad_magic)
                  .substr(0, 47),
              "not a .npy, .npz or pickle file: it starts with");
  EXPECT_EQ(load_error(std::string("\x00NUMPY", 6), errc::bad_magic),
            "not a .npy, .npz or pickle file: it starts with b'\\x00NUMPY'; a .npy file starts "
            "with b'\\x93NUMPY'");
  // short files and text that starts like no pickle opcode
  for (const char* s : {"x", "Hello, world", "# comment\n", "(1, 2)", "Value,x\n1,2", "I am text",
                        "\x80\x01", "\x80\x06", "{\"json\": 1}", "<?xml"})
    load_error(s, errc::bad_magic);
}

TEST(BadMagic, PicklesGetTheAllowPickleHint) {
  const auto dir = fs::path(NPIO_GOLDEN_DIR) / "rows";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".pkl") continue;
    SCOPED_TRACE(e.path().filename().string());
    const auto b = read_file(e.path());
    const std::string want =
        b[0] == std::byte{0x80}
            ? "the file is a pickle (protocol " + std::to_string(unsigned(b[1])) +
                  "), not a .npy or .npz; set load_options::allow_pickle to read it (npio runs no "
                  "code, but loads it only from sources you trust)"
            : "the file is a pickle, not a .npy or .npz; set load_options::allow_pickle to read it "
              "(npio runs no code, but loads it only from sources you trust)";
    EXPECT_EQ(load_error(to_string(b), errc::pickle_disallowed), want);
    npio::load_options o;
    o.allow_pickle = true;
    EXPECT_TRUE(npio::load(e.path(), o).is_value());
    ++n;
  }
  EXPECT_EQ(n, 18);
}
