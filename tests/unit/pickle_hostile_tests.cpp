// Hostile pickles: each must fail with a precise error code, message and
// offset, without recursing on input depth or allocating from a declared size.
#include "../../src/pickle_internal.hpp"
#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <npio/io.hpp>
#include <npio/pickle.hpp>

using npio::errc;
using npio::py::value;
namespace pk = npio::pickle;
using namespace pickle_test;
using namespace std::string_literals;

namespace {

std::string u64le(std::uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

void expect_fail(const std::string& data, errc code, const std::string& msg,
                 std::optional<std::uint64_t> offset = std::nullopt, const pk::options& o = {}) {
  SCOPED_TRACE(msg);
  try {
    const value v = pk::loads(data, o);
    ADD_FAILURE() << "loaded: " << v.repr().substr(0, 200);
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.detail(), msg);
    if (offset) {
      EXPECT_EQ(e.offset(), offset);
    }
  }
  // the non-throwing twin agrees
  const auto r = pk::try_loads(bytes_of(data), o);
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), code);
  // and so do the node arena and memo pins large inputs use
  const std::size_t threshold = pk::detail::arena_min_input().exchange(0);
  const auto ra = pk::try_loads(bytes_of(data), o);
  pk::detail::arena_min_input().store(threshold);
  EXPECT_FALSE(ra.has_value());
  EXPECT_EQ(ra.code(), code);
}

} // namespace

TEST(PickleHostile, Truncated) {
  expect_fail("", errc::pickle_truncated, "pickle data was truncated", 0);
  expect_fail("K\x01", errc::pickle_truncated, "pickle data was truncated", 2);
  expect_fail("\x80\x04\x95\x10", errc::pickle_truncated, "pickle data was truncated", 2);
  expect_fail("I12", errc::pickle_truncated, "pickle data was truncated", 0);
  expect_fail(std::string("X\x05\x00\x00\x00"
                          "abc",
                          8),
              errc::pickle_truncated, "pickle data was truncated", 0);
}

TEST(PickleHostile, HugeDeclaredLengthsAllocateNothing) {
  // 2^62-byte strings, frames, ints and byte arrays in a few bytes of input
  for (char op : {'\x8d', '\x8e', '\x96', '\x95'})
    expect_fail(std::string("\x80\x05") + op + u64le(1ull << 62) + "abc", errc::pickle_truncated,
                "pickle data was truncated", 2);
  expect_fail("X\xff\xff\xff\xff", errc::pickle_truncated, "pickle data was truncated", 0);
  expect_fail("\x8b\xff\xff\xff\x7f", errc::pickle_truncated, "pickle data was truncated", 0);
  expect_fail("T\xff\xff\xff\xff", errc::pickle_invalid, "BINSTRING pickle has negative byte count",
              0);
  expect_fail("\x8b\xff\xff\xff\xff", errc::pickle_invalid, "LONG pickle has negative byte count",
              0);
  // an array state declaring 2^40 elements with 8 bytes of data fails before allocating
  std::string arr = "\x80\x02"
                    "cnumpy.core.multiarray\n_reconstruct\n"
                    "cnumpy\nndarray\n"
                    "K\x00\x85"
                    "C\x01"
                    "b\x87R"
                    "(K\x01(\x8a\x06\x00\x00\x00\x00\x00\x01"
                    "t"
                    "cnumpy\ndtype\nU\x02"
                    "f8\x89\x88\x87R(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
                    "\x89"
                    "C\x08"
                    "12345678"
                    "tb."s;
  pk::options o;
  o.encoding = npio::pickle_encoding::bytes;
  expect_fail(arr, errc::pickle_invalid, "buffer size does not match array size", std::nullopt, o);
  // object arrays: the list must match too
  std::string objarr =
      "\x80\x02"
      "cnumpy.core.multiarray\n_reconstruct\n"
      "cnumpy\nndarray\n"
      "K\x00\x85"
      "C\x01"
      "b\x87R"
      "(K\x01(M\xe8\x03t"
      "cnumpy\ndtype\nU\x02O8\x89\x88\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"
      "\x89]K\x01"
      "a"
      "tb."s;
  expect_fail(objarr, errc::pickle_invalid, "buffer size does not match array size", std::nullopt,
              o);
  expect_fail(objarr.substr(0, objarr.size() - 8) + "\x89"
                                                    "C\x01x"
                                                    "tb.",
              errc::pickle_invalid, "object pickle not returning list", std::nullopt, o);
}

TEST(PickleHostile, BadOpcodesAndStack) {
  expect_fail("\xff", errc::pickle_bad_opcode, "invalid load key, '\\xff'.", 0);
  expect_fail("N\x99", errc::pickle_bad_opcode, "invalid load key, '\\x99'.", 1);
  expect_fail("Nz", errc::pickle_bad_opcode, "invalid load key, 'z'.", 1);
  expect_fail(".", errc::pickle_stack, "unpickling stack underflow", 0);
  expect_fail("a.", errc::pickle_stack, "unpickling stack underflow", 0);
  expect_fail("N(a", errc::pickle_stack, "unpickling stack underflow", 2); // below the MARK
  expect_fail("e.", errc::pickle_stack, "could not find MARK", 0);
  expect_fail("K\x01\x85K\x02"
              "a.",
              errc::pickle_stack, "'tuple' object has no attribute 'append'", 5);
  expect_fail("\x8c\x01"
              "a\x8c\x01"
              "b\x8c\x01"
              "c\x86\x93.",
              errc::pickle_stack, "STACK_GLOBAL requires str");
  expect_fail("\x80\x06.", errc::pickle_unsupported, "unsupported pickle protocol: 6", 0);
  expect_fail("}]K\x01s.", errc::pickle_invalid, "unhashable type: 'list'");
}

TEST(PickleHostile, MissingMemo) {
  expect_fail("h\x05.", errc::pickle_memo, "Memo value not found at index 5", 0);
  expect_fail("j\x00\x00\x00\x80."s, errc::pickle_memo, "Memo value not found at index 2147483648",
              0);
  expect_fail("g7\n.", errc::pickle_memo, "Memo value not found at index 7", 0);
  expect_fail("g-1\n.", errc::pickle_invalid, "negative GET argument", 0);
}

TEST(PickleHostile, DeepNesting) {
  // 100,000 MARKs: refused at the depth limit, no recursion
  expect_fail(std::string(100000, '('), errc::limit_exceeded,
              "pickle nests MARKs deeper than max_depth (10000)", 10000);
  // 100,000 nested lists built without MARKs: refused after decoding
  std::string s(100000, ']');
  s += std::string(99999, 'a') + ".";
  expect_fail(s, errc::limit_exceeded, "pickle value nests deeper than max_depth (10000)");
  // with the limit lifted it loads, prints and is destroyed without recursion
  pk::options o;
  o.limits.max_depth = 200000;
  value v = pk::loads(s, o);
  EXPECT_EQ(v.repr().size(), 200000u);
  v = value();
}

TEST(PickleHostile, Cycles) {
  // a list that contains itself
  expect_fail("]\x94h\x00"
              "a."s,
              errc::pickle_invalid,
              "the pickle holds a value that contains itself (a reference cycle)");
  // through a dict and a tuple
  expect_fail("}\x94K\x01h\x00\x85s."s, errc::pickle_invalid,
              "the pickle holds a value that contains itself (a reference cycle)");
  // a cycle that is dropped before STOP is freed (LeakSanitizer checks) and harmless
  EXPECT_TRUE(pk::loads("]\x94h\x00"
                        "a0N."s)
                  .is_none());
}

TEST(PickleHostile, MemoBlowUp) {
  // l0 = [1]; l(i) = [l(i-1), l(i-1)]: 64 levels describe 2^64 values in 400 bytes
  std::string s = "]K\x01"
                  "a\x94";
  for (int i = 1; i <= 64; ++i) {
    s += "](h";
    s += static_cast<char>(i - 1);
    s += 'h';
    s += static_cast<char>(i - 1);
    s += "e\x94";
  }
  s += ".";
  expect_fail(s, errc::limit_exceeded,
              "the pickle's shared references expand to more than max_bytes bytes");
  // memo entry limit
  pk::options o;
  o.limits.max_memo = 100;
  std::string many;
  for (int i = 0; i < 200; ++i)
    many += "N\x94";
  expect_fail(many + ".", errc::limit_exceeded, "pickle memo grew beyond max_memo (100) entries",
              201, o);
}

TEST(PickleHostile, StackAndByteLimits) {
  pk::options o;
  o.limits.max_stack = 50;
  expect_fail(std::string(100, 'N') + ".", errc::limit_exceeded,
              "pickle stack grew beyond max_stack (50) entries", 50, o);
  pk::options b;
  b.limits.max_bytes = 1000;
  std::string big = "\x80\x04\x8e" + u64le(2000) + std::string(2000, 'x') + ".";
  expect_fail(big, errc::limit_exceeded, "pickle builds more than max_bytes (1000) bytes of values",
              2, b);
}

TEST(PickleHostile, DangerousGlobalsAreNeverCalled) {
  pk::options lenient;
  lenient.allow_unknown_classes = true;
  const std::tuple<std::string, std::string, std::uint64_t> cases[] = {
      {"cos\nsystem\n(S'echo hi'\ntR.", "os.system", 0},
      {"cposix\nsystem\n(S'echo hi'\ntR.", "posix.system", 0},
      {"\x80\x02"
       "c__builtin__\neval\n(S'1'\ntR.",
       "builtins.eval", 2},
      {"\x80\x04\x8c\x08"
       "builtins\x8c\x04"
       "exec\x93.",
       "builtins.exec", 18},
      {"csubprocess\nPopen\n.", "subprocess.Popen", 0},
      {"cnumpy.testing._private.utils\nrunstring\n.", "numpy.testing._private.utils.runstring", 0},
      {"cbuiltins\ngetattr\n.", "builtins.getattr", 0},
      {"\x80\x02"
       "c__builtin__\n__import__\n.",
       "builtins.__import__", 2},
      {"cnt\nsystem\n.", "nt.system", 0},
  };
  for (const auto& [data, name, off] : cases) {
    for (const pk::options& o : {pk::options{}, lenient})
      expect_fail(data, errc::pickle_global,
                  "global '" + name + "' is forbidden: it can run code or touch the system", off,
                  o);
  }
  // unknown classes: refused, or kept inert on request
  const std::string unknown = "\x80\x02"
                              "cmymod\nThing\nK\x01K\x02\x86R}X\x01\x00\x00\x00"
                              "aK\x03sb."s;
  expect_fail(
      unknown, errc::pickle_global,
      "global 'mymod.Thing' is not on the allowlist (allow unknown classes to keep it as an "
      "inert object)",
      2);
  const value v = pk::loads(unknown, lenient);
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.object_class(), "mymod.Thing");
  EXPECT_EQ(v.object_args().repr(), "(1, 2)");
  EXPECT_EQ(v.object_state().repr(), "{'a': 3}");
}

TEST(PickleHostile, RefusedFeatures) {
  expect_fail("Pabc\n.", errc::pickle_unsupported, "unsupported persistent id encountered", 0);
  expect_fail("NQ.", errc::pickle_unsupported, "unsupported persistent id encountered", 1);
  expect_fail("\x82\x01.", errc::pickle_unsupported, "unregistered extension code 1", 0);
  expect_fail("\x84\x01\x02\x03\x04.", errc::pickle_unsupported,
              "unregistered extension code 67305985", 0);
  expect_fail("\x80\x05\x97.", errc::pickle_unsupported,
              "pickle stream refers to out-of-band data but no *buffers* argument was given", 2);
}

TEST(PickleHostile, NpyOffsetsAreFileOffsets) {
  // an object .npy whose pickle has a bad opcode: the offset counts from the file start
  const std::string hdr = npio::format_header(npio::dtype::make('O', 8), {}, false);
  const std::string file = hdr + "\x80\x03\xff";
  npio::load_options o;
  o.allow_pickle = true;
  try {
    (void)npio::load(bytes_of(file), o);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::pickle_bad_opcode);
    EXPECT_EQ(e.offset(), hdr.size() + 2);
  }
}

TEST(PickleHostile, ObjectArrayStateListReachedAgainKeepsItsItems) {
  // The state list of an object array, fetched again from the memo after BUILD:
  // both the array and the list hold the items (npio moves them into the array
  // while nothing else can reach the list, and puts them back here).
  const std::string p = "\x80\x03"
                        "cnumpy.core.multiarray\n_reconstruct\n"
                        "cnumpy\nndarray\n"
                        "K\x00\x85"
                        "C\x01"
                        "b\x87R"
                        "(K\x01K\x02\x85"
                        "cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R"
                        "(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"
                        "\x89]q\x07(K\x05X\x01\x00\x00\x00"
                        "ae"
                        "tb"
                        "h\x07\x86."s;
  const value v = pk::loads(p);
  EXPECT_EQ(v.repr(), "(array([5, 'a'], dtype=object), [5, 'a'])");
}
