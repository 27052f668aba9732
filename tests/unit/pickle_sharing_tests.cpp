// Shared subtrees (DUP, memo GET) make a value a DAG whose plain walk takes
// 2**depth steps. Hashing, comparing and bounding it must not: these are the
// fuzzers' two hangs (fuzz/corpus/scan/regression_shared_tuple_key_hash,
// fuzz/corpus/pickle/regression_shared_bytes_expansion).
#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <npio/error.hpp>
#include <npio/pickle.hpp>
#include <npio/py/value.hpp>

using npio::errc;
using npio::py::value;
namespace pk = npio::pickle;
using namespace pickle_test;

namespace {

// A tuple nested `depth` times, both items of each level the same tuple.
value shared_chain(int depth, value leaf) {
  value v = std::move(leaf);
  for (int i = 0; i < depth; ++i)
    v = value::tuple({v, v});
  return v;
}

// Protocol 2: {chain: 0}, the key built by DUP, TUPLE2 `depth` times.
std::string dict_with_shared_key(int depth) {
  std::string s = "\x80\x02}K\x01";
  for (int i = 0; i < depth; ++i)
    s += "2\x86";
  s += std::string("K\0s.", 4);
  return s;
}

} // namespace

TEST(PickleSharing, HashVisitsEachSharedTupleOnce) {
  const value a = shared_chain(200, value(1));
  const value b = shared_chain(200, value(1));
  // 2**200 leaves by a plain walk; equal structures hash alike.
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), shared_chain(200, value(2)).hash());
  EXPECT_NE(a.hash(), shared_chain(199, value(1)).hash());
}

TEST(PickleSharing, EqualityComparesEachPairOnce) {
  // Built apart, so the pointer shortcut never applies between a and b.
  const value a = shared_chain(200, value(1));
  const value b = shared_chain(200, value(1));
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == shared_chain(200, value(2)));
  EXPECT_FALSE(a == shared_chain(201, value(1)));
}

TEST(PickleSharing, SharedKeyIsHashedThenRefusedAsAnExpansion) {
  // The dict's SETITEM hashes the key (fast), then the result check refuses
  // the 2**64 expansion.
  try {
    (void)pk::loads(dict_with_shared_key(64));
    ADD_FAILURE() << "loaded";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::limit_exceeded) << e.what();
    EXPECT_EQ(e.detail(), "the pickle's shared references expand to more than max_bytes bytes");
  }
  const auto r = pk::scan_all(bytes_of(dict_with_shared_key(64)));
  EXPECT_FALSE(r.error.has_value());
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].what, pk::scan_anomaly::kind::expansion);
  // A shallow one loads, and the key is found again.
  const value d = pk::loads(dict_with_shared_key(5));
  EXPECT_EQ(d.at(shared_chain(5, value(1))).as<int>(), 0);
}

TEST(PickleSharing, StringBytesCountTowardsTheExpansionLimit) {
  // A 4 KiB bytes object shared 2**12 times is 16 MiB of leaves, though only
  // 8191 values: over a 1 MiB max_bytes, so repr or JSON of it stays bounded.
  std::string s = "\x80\x04]B";
  const std::uint32_t n = 4096;
  for (int i = 0; i < 4; ++i)
    s += static_cast<char>((n >> (8 * i)) & 0xff);
  s += std::string(n, 'C');
  for (int i = 0; i < 12; ++i)
    s += "2\x86";
  s += "a.";
  pk::options o;
  o.limits.max_bytes = 1u << 20;
  try {
    (void)pk::loads(s, o);
    ADD_FAILURE() << "loaded";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::limit_exceeded) << e.what();
  }
  // With room for it, it loads.
  o.limits.max_bytes = 1u << 26;
  const value v = pk::loads(s, o);
  EXPECT_EQ(v.size(), 1u);
}
