// The malformed-header suite: one case (or more) per .npy error code, each
// checked by code and by message text, from bytes and from a file (where the
// message must name the file and the byte offset); plus the cases of NumPy's
// test_format.py: bad magic strings, bad versions, files truncated by one
// byte, trailing bytes, and huge headers with max_header_size lifted.

#include "golden_support.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <random>
#include <sstream>
#include <streambuf>

namespace {

using namespace npio_test;
using npio::errc;

/// A .npy file from header text: magic, version, length field, the text
/// padded with spaces and a newline to 64 bytes (unless pad is false), data.
bytes npy(std::string_view text, std::uint8_t major = 1, std::uint8_t minor = 0, bool pad = true,
          std::string_view data = {}) {
  std::string body(text);
  const std::size_t lenfield = major == 1 ? 2 : 4;
  if (pad) {
    const std::size_t total = 8 + lenfield + body.size() + 1;
    body.append((64 - total % 64) % 64, ' ');
    body += '\n';
  }
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  const std::size_t n = body.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (lenfield == 4) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  out += body;
  out += data;
  return to_bytes(out);
}

std::string dict(std::string_view descr, std::string_view fortran, std::string_view shape) {
  return "{'descr': " + std::string(descr) + ", 'fortran_order': " + std::string(fortran) +
         ", 'shape': " + std::string(shape) + ", }";
}

/// 24 bytes: the data of a (3,) float64 array.
const std::string data24(24, '\x01');

struct bad_case {
  std::string name;
  bytes file;
  errc code;
  std::string detail;   ///< npio::error::detail(), exactly
  std::uint64_t offset; ///< npio::error::offset(), exactly
  /// Found by read_header (false: only load, which sees the data, finds it).
  bool in_header = true;
  /// load()'s detail when it differs from read_header's (np.load's own check).
  std::string load_detail = {};
};

std::string raw(std::initializer_list<int> b) {
  std::string s;
  for (int c : b)
    s += static_cast<char>(c);
  return s;
}

const std::string version_msg = "we only support format version (1,0), (2,0), and (3,0), not ";
const std::string too_large_msg =
    " is large and may not be safe to load securely; raise max_header_size (now 10000) only if you "
    "trust the file";

// Each case: name, the bytes, the code, the exact detail, the byte offset.
// The details follow NumPy's messages (numpy/lib/format.py) where NumPy has one.
std::vector<bad_case> cases() {
  std::vector<bad_case> v;
  auto add = [&](std::string name, bytes file, errc code, std::string detail, std::uint64_t off) {
    v.push_back({std::move(name), std::move(file), code, std::move(detail), off});
  };
  const std::string good = dict("'<f8'", "False", "(3,)");
  const std::string eof = "EOF: reading ";

  // ---- truncated
  add("empty_file", {}, errc::truncated, eof + "magic string, expected 8 bytes got 0", 0);
  v.back().load_detail = "No data left in file"; // np.load's EOFError
  add("magic_only", to_bytes("\x93NUMPY"), errc::truncated,
      eof + "magic string, expected 8 bytes got 6", 0);
  add("no_header_length", to_bytes(std::string("\x93NUMPY\x01\x00", 8)), errc::truncated,
      eof + "array header length, expected 2 bytes got 0", 8);
  add("half_header_length", to_bytes(std::string("\x93NUMPY\x01\x00\x76", 9)), errc::truncated,
      eof + "array header length, expected 2 bytes got 1", 8);
  add("v2_short_header_length", to_bytes(std::string("\x93NUMPY\x02\x00\x76\x00\x00", 11)),
      errc::truncated, eof + "array header length, expected 4 bytes got 3", 8);
  {
    auto f = npy(good);
    f.resize(60);
    add("header_cut", f, errc::truncated, eof + "array header, expected 118 bytes got 50", 10);
  }
  const std::string short_data = "file seems not fully written: expected ";
  add("data_one_byte_short", npy(good, 1, 0, true, data24.substr(1)), errc::truncated,
      short_data + "24 bytes of array data, found 23", 128);
  v.back().in_header = false;
  add("no_data", npy(good), errc::truncated, short_data + "24 bytes of array data, found 0", 128);
  v.back().in_header = false;
  // the shape asks for 8 TiB and 4 EiB: an error at once, nothing allocated
  add("huge_shape_tiny_file", npy(dict("'<f8'", "False", "(1099511627776,)"), 1, 0, true, data24),
      errc::truncated, short_data + "8796093022208 bytes of array data, found 24", 128);
  v.back().in_header = false;
  add("shape_2_62_bytes",
      npy(dict("'|u1'", "False", "(2147483648, 2147483648)"), 1, 0, true, data24), errc::truncated,
      short_data + "4611686018427387904 bytes of array data, found 24", 128);
  v.back().in_header = false;

  // ---- bad_version (numpy test_read_version_1_0_bad_magic, test_write_version)
  for (auto [ma, mi] : std::initializer_list<std::pair<int, int>>{
           {1, 1}, {0, 0}, {0, 1}, {2, 2}, {255, 255}, {3, 1}, {4, 0}, {2, 1}}) {
    auto f = npy(good, static_cast<std::uint8_t>(ma == 1 || ma == 0 ? 1 : 2), 0, true, data24);
    f[6] = static_cast<std::byte>(ma);
    f[7] = static_cast<std::byte>(mi);
    add("version_" + std::to_string(ma) + "_" + std::to_string(mi), f, errc::bad_version,
        version_msg + "(" + std::to_string(ma) + ", " + std::to_string(mi) + ")", 6);
  }

  // ---- header_too_large: 10001 characters (padding included) against the default 10000
  {
    std::string text = good;
    text.append(10000 - text.size(), ' '); // + '\n' = 10001
    add("header_10001", npy(text + "\n", 1, 0, false, data24), errc::header_too_large,
        "Header info length (10001)" + too_large_msg, 8);
  }

  // ---- header_syntax: the offset is where the parser stopped
  const std::string cannot = "Cannot parse header: ";
  add("unbalanced",
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), ", 1, 0, true, data24),
      errc::header_syntax, cannot + "unbalanced bracket", 10);
  add("bare_name", npy(dict("<f8", "False", "(3,)"), 1, 0, true, data24), errc::header_syntax,
      cannot + "unexpected character '<'", 20);
  add("words", npy("hello world", 1, 0, true, data24), errc::header_syntax,
      cannot + "'hello' is not a literal", 10);
  add("junk_after_dict", npy(good + " junk", 1, 0, true, data24), errc::header_syntax,
      cannot + "unexpected text after the value", 68);
  add("call", npy(dict("__import__('os').system('true')", "False", "(3,)"), 1, 0, true, data24),
      errc::header_syntax, cannot + "'__import__' is not a literal", 20);
  add("unterminated_string",
      npy("{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}", 1, 0, true, data24),
      errc::header_syntax, cannot + "expected ',' or '}'", 27);
  add("misspelt_false", npy(dict("'<f8'", "Fals", "(3,)"), 1, 0, true, data24), errc::header_syntax,
      cannot + "'Fals' is not a literal", 44);
  add("double_comma",
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,),, }", 1, 0, true, data24),
      errc::header_syntax, cannot + "unexpected character ','", 65);
  add("empty_text", npy("", 1, 0, true, data24), errc::header_syntax,
      cannot + "unexpected end of header", 64);
  add("nul_byte",
      npy(std::string("{'descr': '<f8',\0 'fortran_order': False, 'shape': (3,)}", 57), 1, 0, true,
          data24),
      errc::header_syntax, cannot + "unexpected character 0x00", 26);
  add("lowercase_false", npy(dict("'<f8'", "false", "(3,)"), 1, 0, true, data24),
      errc::header_syntax, cannot + "'false' is not a literal", 44);

  // ---- header_not_dict
  const std::string not_dict = "Header is not a dictionary: ";
  for (const char* t : {"[1, 2]", "'descr'", "(1, 2)", "None", "3"})
    add(std::string("not_dict_") + t, npy(t, 1, 0, true, data24), errc::header_not_dict,
        not_dict + t, 10);

  // ---- header_keys (NumPy lists the keys sorted)
  const std::string keys = "Header does not contain the correct keys: ";
  add("missing_shape", npy("{'descr': '<f8', 'fortran_order': False}", 1, 0, true, data24),
      errc::header_keys, keys + "['descr', 'fortran_order']", 10);
  add("extra_key",
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}", 1, 0, true, data24),
      errc::header_keys, keys + "['descr', 'fortran_order', 'shape', 'x']", 10);
  add("empty_dict", npy("{}", 1, 0, true, data24), errc::header_keys, keys + "[]", 10);
  add("capital_key",
      npy("{'Descr': '<f8', 'fortran_order': False, 'shape': (3,)}", 1, 0, true, data24),
      errc::header_keys, keys + "['Descr', 'fortran_order', 'shape']", 10);
  add("int_key", npy("{1: '<f8', 'fortran_order': False, 'shape': (3,)}", 1, 0, true, data24),
      errc::header_keys, keys + "['fortran_order', 'shape', 1]", 10);

  // ---- bad_shape (negative dimensions too, which NumPy's reader lets through to ndarray)
  for (const char* s : {"[3]", "(3.0,)", "('3',)", "3", "None", "(3, None)", "((3,),)"})
    add(std::string("shape_") + s, npy(dict("'<f8'", "False", s), 1, 0, true, data24),
        errc::bad_shape, std::string("shape is not valid: ") + s, 60);
  add("shape_(-1,)", npy(dict("'<f8'", "False", "(-1,)"), 1, 0, true, data24), errc::bad_shape,
      "shape is not valid: (-1,): negative dimensions are not allowed", 61);
  add("shape_(2, -3)", npy(dict("'<f8'", "False", "(2, -3)"), 1, 0, true, data24), errc::bad_shape,
      "shape is not valid: (2, -3): negative dimensions are not allowed", 64);

  // ---- bad_fortran_order
  for (const char* s : {"0", "1", "'False'", "None", "(False,)"})
    add(std::string("fortran_") + s, npy(dict("'<f8'", s, "(3,)"), 1, 0, true, data24),
        errc::bad_fortran_order, std::string("fortran_order is not a valid bool: ") + s, 44);

  // ---- bad_descr: NumPy's "descr is not a valid dtype descriptor: X", then why
  for (auto [s, why] : std::initializer_list<std::pair<const char*, const char*>>{
           {"'x'", "data type 'x' not understood"},
           {"'<f3'", "data type '<f3' not understood"},
           {"3", "descr must be a str, a tuple or a list: 3"},
           {"None", "descr must be a str, a tuple or a list: None"},
           {"[('a',)]", "a field must be (name, type) or (name, type, shape): ('a',)"},
           {"[('a', '<f8', 'x')]", "subarray shape must be an int or a tuple of ints: 'x'"},
           {"[('a', '<f8'), ('a', '<i4')]", "field name 'a' is used twice"},
           {"[('a', '<f8', (-1,))]", "subarray dimensions must be non-negative: (-1,)"},
           {"[(1, '<f8')]", "a field name must be a str or a (title, name) tuple: 1"},
           {"'M8[xyz]'", "invalid datetime unit 'xyz' in 'M8[xyz]'"},
           {"'S-1'", "data type 'S-1' not understood"},
           {"('<f8',)", "a (type, shape) tuple needs two items: ('<f8',)"},
           {"''", "data type '' not understood"}})
    add(std::string("descr_") + s, npy(dict(s, "False", "(3,)"), 1, 0, true, data24),
        errc::bad_descr, std::string("descr is not a valid dtype descriptor: ") + s + ": " + why,
        20);

  // ---- size_overflow: shape x itemsize beyond 64 bits (npio's cap: 2**62)
  add("overflow_shape_product",
      npy(dict("'<f8'", "False", "(4611686018427387904, 4)"), 1, 0, true, data24),
      errc::size_overflow, "shape (4611686018427387904, 4) has too many elements", 60);
  add("overflow_huge_dims",
      npy(dict("'|u1'", "False", "(1099511627776, 1099511627776)"), 1, 0, true, data24),
      errc::size_overflow, "shape (1099511627776, 1099511627776) has too many elements", 60);
  add("overflow_int64_max",
      npy(dict("'<u2'", "False", "(9223372036854775807,)"), 1, 0, true, data24),
      errc::size_overflow, "shape (9223372036854775807,) has too many elements", 60);
  add("overflow_times_itemsize",
      npy(dict("'<f8'", "False", "(2305843009213693952,)"), 1, 0, true, data24),
      errc::size_overflow, "array of shape (2305843009213693952,) and itemsize 8 is too large", 60);
  add("overflow_beside_zero_dim", // found by fuzz_npy: the strides overflowed
      npy(dict("'<f8'", "False", "(0, 429496716, 4294967196)"), 1, 0, true, data24),
      errc::size_overflow, "array of shape (0, 429496716, 4294967196) and itemsize 8 is too large",
      60);
  add("overflow_beyond_int64",
      npy(dict("'<f8'", "False", "(18446744073709551616,)"), 1, 0, true, data24),
      errc::size_overflow, "shape is not valid: (18446744073709551616,): dimension too large", 61);

  // ---- header_encoding: v3 headers must be UTF-8; the offset is the bad byte
  for (auto [name, bad] : std::initializer_list<std::pair<const char*, std::string>>{
           {"utf8_ff", raw({0xff})},
           {"utf8_overlong", raw({0xc0, 0xaf})},
           {"utf8_surrogate", raw({0xed, 0xa0, 0x80})},
           {"utf8_cut", raw({0xe4, 0xb8})}}) {
    add(name, npy(dict("[('a" + bad + "', '<f8')]", "False", "(3,)"), 3, 0, true, data24),
        errc::header_encoding, "header is not valid UTF-8", 26);
  }
  return v;
}

std::vector<bad_case> magic_cases() {
  // numpy test_read_magic_bad_magic; the bytes after the magic are a valid header
  std::vector<bad_case> v;
  const auto rest = to_string(npy(dict("'<f8'", "False", "(3,)"), 1, 0, true, data24)).substr(6);
  for (auto [m, shown] : std::initializer_list<std::pair<const char*, std::string>>{
           {"\x92NUMPY", "b'\\x92NUMPY'"},
           {"\x00NUMPY", "b'\\x00NUMPY'"},
           {"\x93numpy", "b'\\x93numpy'"},
           {"\x93MATLB", "b'\\x93MATLB'"},
           {"\x93NUMPX", "b'\\x93NUMPX'"},
           {"PK\x03\x04\x14\x00", "b'PK\\x03\\x04\\x14\\x00'"}}) {
    std::string magic(m, 6);
    v.push_back({"magic_" + magic.substr(1), to_bytes(magic + rest), errc::bad_magic,
                 "the magic string is not correct; expected b'\\x93NUMPY', got " + shown, 0});
  }
  return v;
}

/// Checks code, detail, offset, file and the whole what() of one error.
/// `via_load`: the error came from load(), which has its own empty-file message.
void check_case(const bad_case& c, const npio::error& e, const std::string& file, bool via_load) {
  SCOPED_TRACE(c.name);
  EXPECT_EQ(e.code(), c.code) << npio::errc_name(e.code()) << ": " << e.what();
  const std::string& detail = via_load && !c.load_detail.empty() ? c.load_detail : c.detail;
  EXPECT_EQ(e.detail(), detail);
  ASSERT_TRUE(e.offset().has_value()) << e.what();
  EXPECT_EQ(*e.offset(), c.offset) << e.what();
  EXPECT_EQ(e.file(), file);
  EXPECT_EQ(e.member(), "");
  const std::string want =
      (file.empty() ? "" : file + ": ") + detail + " (at byte " + std::to_string(c.offset) + ")";
  EXPECT_EQ(std::string(e.what()), want);
}

TEST(HeaderErrors, ReadHeaderFromBytes) {
  for (const auto& c : cases()) {
    if (!c.in_header) continue;
    try {
      (void)npio::read_header(c.file);
      ADD_FAILURE() << c.name << ": read_header accepted it";
    } catch (const npio::error& e) {
      check_case(c, e, "", false);
    }
  }
}

TEST(HeaderErrors, ReadHeaderLeavesTheDataToLoad) {
  // read_header may be given the header alone: missing data is not its error
  for (const auto& c : cases()) {
    if (c.in_header) continue;
    const auto r = npio::try_read_header(c.file);
    EXPECT_TRUE(r.has_value()) << c.name << ": " << (r.has_value() ? "" : r.error().what());
  }
}

TEST(HeaderErrors, TryReadHeaderGivesTheSameCode) {
  for (const auto& c : cases()) {
    if (!c.in_header) continue;
    const auto r = npio::try_read_header(c.file);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.code(), c.code) << c.name << ": " << r.error().what();
  }
}

TEST(HeaderErrors, LoadFromBytes) {
  for (const auto& c : cases()) {
    try {
      (void)npio::load(std::span<const std::byte>(c.file));
      ADD_FAILURE() << c.name << ": load accepted it";
    } catch (const npio::error& e) {
      check_case(c, e, "", true);
    }
    const auto r = npio::try_load(std::span<const std::byte>(c.file));
    EXPECT_FALSE(r.has_value()) << c.name;
    if (!r.has_value()) {
      EXPECT_EQ(r.code(), c.code) << c.name;
    }
  }
}

TEST(HeaderErrors, LoadFromPathNamesFileAndOffset) {
  temp_dir dir;
  for (const auto& c : cases()) {
    const auto p = dir / (c.name.substr(0, 40) + ".npy");
    write_file(p, c.file);
    for (auto mode : {npio::mmap_mode::none, npio::mmap_mode::r, npio::mmap_mode::c}) {
      SCOPED_TRACE("mmap_mode " + std::to_string(static_cast<int>(mode)));
      try {
        npio::load_options o;
        o.mmap_mode = mode;
        (void)npio::load(p, o);
        ADD_FAILURE() << c.name << ": load(path) accepted it";
      } catch (const npio::error& e) {
        check_case(c, e, p.string(), true);
      }
    }
    const auto r = npio::try_load(p);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().file(), p.string());
  }
}

TEST(HeaderErrors, LoadFromStream) {
  for (const auto& c : cases()) {
    std::istringstream in(to_string(c.file), std::ios::binary);
    try {
      (void)npio::load(in);
      ADD_FAILURE() << c.name << ": load(stream) accepted it";
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), c.code) << c.name << ": " << e.what();
    }
  }
}

TEST(HeaderErrors, BadMagic) {
  for (const auto& c : magic_cases()) {
    try {
      (void)npio::read_header(c.file);
      ADD_FAILURE() << c.name << ": read_header accepted it";
    } catch (const npio::error& e) {
      check_case(c, e, "", false);
    }
  }
}

TEST(HeaderErrors, BadMagicFromLoad) {
  // np.load treats a file that is neither .npy nor .npz as a pickle; npio
  // calls one a pickle only when it starts like one (docs/errors.md), so
  // these are bad_magic, with or without allow_pickle, mapped or not.
  for (const auto& c : magic_cases()) {
    if (c.name.rfind("magic_K", 0) == 0) continue; // "PK\3\4" is a zip: an npz error instead
    for (bool allow : {false, true}) {
      npio::load_options lo;
      lo.allow_pickle = allow;
      const auto r = npio::try_load(std::span<const std::byte>(c.file), lo);
      ASSERT_FALSE(r.has_value()) << c.name;
      EXPECT_EQ(r.code(), errc::bad_magic) << c.name << ": " << r.error().what();
    }
    temp_dir dir;
    write_file(dir / "x.npy", c.file);
    for (auto mode : {npio::mmap_mode::none, npio::mmap_mode::r, npio::mmap_mode::c}) {
      npio::load_options o;
      o.mmap_mode = mode;
      const auto p = npio::try_load(dir / "x.npy", o);
      ASSERT_FALSE(p.has_value()) << c.name;
      EXPECT_EQ(p.code(), errc::bad_magic) << c.name << ": " << p.error().what();
    }
  }
}

TEST(HeaderErrors, ObjectArraysNeedAllowPickle) {
  const auto f = npy(dict("'|O'", "False", "(3,)"), 1, 0, true, "\x80\x03N.");
  const auto r = npio::try_load(std::span<const std::byte>(f));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::pickle_disallowed);
}

// ---- numpy test_format.py ------------------------------------------------------

TEST(HeaderErrors, HeaderSizeLimitCountsCharactersLikeNumpy) {
  const std::string good = dict("'<f8'", "False", "(3,)");
  // exactly 10000 characters (the newline included) loads
  std::string text = good;
  text.append(10000 - text.size() - 1, ' ');
  const auto ok = npy(text + "\n", 1, 0, false, data24);
  EXPECT_TRUE(npio::try_load(std::span<const std::byte>(ok)).has_value());
  // version 3.0 counts decoded characters, not bytes: 3000 three-byte
  // characters in a 10000-character header still load by default
  std::string name;
  for (int i = 0; i < 3000; ++i)
    name += "\xe5\x90\x8d"; // U+540D
  std::string t3 = dict("[('" + name + "', '<i4')]", "False", "(1,)");
  const std::size_t chars = t3.size() - 2 * 3000;
  t3.append(10000 - chars - 1, ' ');
  const auto v3 = npy(t3 + "\n", 3, 0, false, std::string(4, '\0'));
  ASSERT_GT(v3.size(), 12u + 10000u);
  auto r = npio::try_load(std::span<const std::byte>(v3));
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_EQ(r->array().dtype().itemsize(), 4u);
}

TEST(HeaderErrors, HugeHeaderNeedsTheLimitLifted) {
  // numpy test_huge_header: np.save writes it, np.load refuses it by default
  const auto p = golden_dir() / "huge_header.npy";
  const auto file = read_file(p);
  try {
    (void)npio::load(p);
    ADD_FAILURE() << "huge header accepted with the default limit";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::header_too_large) << e.what();
    EXPECT_EQ(e.file(), p.string());
  }
  EXPECT_EQ(npio::try_read_header(file).code(), errc::header_too_large);
  npio::load_options o;
  o.max_header_size = 200000;
  npio::array a = npio::load(p, o);
  EXPECT_EQ(a.dtype().fields().size(), 1001u);
  EXPECT_NO_THROW((void)npio::read_header(file, 200000));
  // v2 with 700 long field names (numpy test_version_2_0)
  const auto p2 = golden_dir() / "v2_many_fields.npy";
  EXPECT_EQ(npio::try_load(p2).code(), errc::header_too_large);
  npio::array b = npio::load(p2, o);
  EXPECT_EQ(b.dtype().fields().size(), 700u);
}

TEST(HeaderErrors, EveryGoldenFileTruncatedByOneByte) {
  // numpy test_roundtrip_truncated / test_file_truncated
  const auto rows = read_tsv(golden_dir() / "manifest.tsv");
  failures fails;
  temp_dir dir;
  std::size_t i = 0;
  for (const auto& row : rows) {
    if (row["name"] == "legacy_trailing_bytes") continue;
    fails.run(row.name(), [&] {
      auto file = read_file(golden_dir() / row["file"]);
      file.pop_back();
      npio::load_options o;
      o.max_header_size = std::max<std::size_t>(10000, std::stoul(row["max_header"]));
      const auto r = npio::try_load(std::span<const std::byte>(file), o);
      GOLDEN_CHECK(fails, row.name(), !r.has_value(), "loaded a truncated file");
      GOLDEN_CHECK_EQ(fails, row.name(), std::string(npio::errc_name(r.code())),
                      std::string("truncated"));
      if (i++ % 16 == 0) { // and from a path, mapped: an error, never SIGBUS
        const auto p = dir / "t.npy";
        write_file(p, file);
        o.mmap_mode = npio::mmap_mode::r;
        const auto m = npio::try_load(p, o);
        GOLDEN_CHECK(fails, row.name(), !m.has_value(), "mapped a truncated file");
        GOLDEN_CHECK_EQ(fails, row.name(), std::string(npio::errc_name(m.code())),
                        std::string("truncated"));
        GOLDEN_CHECK_EQ(fails, row.name(), m.error().file(), p.string());
      }
    });
  }
  fails.report();
}

TEST(HeaderErrors, TrailingBytesAreIgnored) {
  auto f = npy(dict("'<f8'", "False", "(3,)"), 1, 0, true, data24 + "more bytes");
  npio::array a = npio::load(std::span<const std::byte>(f));
  EXPECT_EQ(a.size(), 3);
  EXPECT_EQ(first_difference(a.tobytes(), to_bytes(data24)), "");
}

/// A stream buffer that hands out 1 to 7 bytes at a time (numpy
/// test_roundtrip_randsize).
class short_reads : public std::streambuf {
public:
  explicit short_reads(std::string s) : data_(std::move(s)) {}

protected:
  int_type underflow() override {
    if (pos_ >= data_.size()) return traits_type::eof();
    const std::size_t n = std::min<std::size_t>(data_.size() - pos_, 1 + rng_() % 7);
    char* p = data_.data() + pos_;
    setg(p, p, p + n);
    pos_ += n;
    return traits_type::to_int_type(*p);
  }

private:
  std::string data_;
  std::size_t pos_ = 0;
  std::minstd_rand rng_{7};
};

TEST(HeaderErrors, ShortReadsFromStreams) {
  const auto rows = read_tsv(golden_dir() / "manifest.tsv");
  failures fails;
  std::size_t i = 0;
  for (const auto& row : rows) {
    if (i++ % 7 != 0) continue;
    fails.run(row.name(), [&] {
      short_reads buf(to_string(read_file(golden_dir() / row["file"])));
      std::istream in(&buf);
      npio::load_options o;
      o.max_header_size = std::max<std::size_t>(10000, std::stoul(row["max_header"]));
      npio::array a = npio::load(in, o);
      GOLDEN_CHECK_BYTES(fails, row.name(), a.tobytes(), read_file(golden_dir() / row["bin"]),
                         "short reads");
    });
  }
  fails.report();
}

TEST(HeaderErrors, DeepNestingIsAnErrorNotACrash) {
  // No recursion on attacker-controlled depth: 100000 brackets give a syntax
  // error, as CPython's parser does ("too many nested parentheses").
  for (const std::string& open : {std::string("["), std::string("("), std::string("{'a': ")}) {
    std::string deep;
    for (int k = 0; k < 100000; ++k)
      deep += open;
    const auto f = npy(dict(deep, "False", "(3,)"), 2, 0, true, data24);
    npio::load_options o;
    o.max_header_size = 10000000;
    const auto r = npio::try_load(std::span<const std::byte>(f), o);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.code(), errc::header_syntax) << r.error().what();
    EXPECT_EQ(r.error().detail(), "Cannot parse header: nesting deeper than 64 levels");
    ASSERT_TRUE(r.error().offset().has_value());
    // where the 65th level starts (lists, tuples) or its first item (dicts)
    EXPECT_GE(*r.error().offset(), 12u + 10u + 62u * open.size()) << open;
    EXPECT_LE(*r.error().offset(), 12u + 10u + 63u * open.size()) << open;
  }
  // a descr of 40 nested structs: 80 brackets
  std::string descr = "'<f8'";
  for (int k = 0; k < 40; ++k)
    descr = "[('a', " + descr + ")]";
  const auto f = npy(dict(descr, "False", "(3,)"), 1, 0, true, data24);
  const auto r = npio::try_read_header(f);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::header_syntax) << r.error().what();
  // 20 nested structs (40 brackets) are fine, as in NumPy
  descr = "'<f8'";
  for (int k = 0; k < 20; ++k)
    descr = "[('a', " + descr + ")]";
  auto ok = npio::try_read_header(npy(dict(descr, "False", "(3,)"), 1, 0, true, data24));
  ASSERT_TRUE(ok.has_value()) << ok.error().what();
  EXPECT_EQ(ok->dtype.itemsize(), 8u);
  EXPECT_EQ(ok->dtype.descr(), descr);
}

} // namespace
