// npio::py::value: construction, access, equality, hashing, repr, iterative
// destruction, object arrays and tolist().
#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <npio/py/value.hpp>
#include <thread>

using npio::errc;
using npio::py::value;
namespace py = npio::py;

namespace {

template <class F> void expect_error(F&& f, errc code, const std::string& msg) {
  try {
    f();
    ADD_FAILURE() << "no error, expected " << npio::errc_name(code);
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.detail(), msg);
  }
}

} // namespace

TEST(PyValue, ScalarsAndKinds) {
  EXPECT_TRUE(value().is_none());
  EXPECT_TRUE(value(true).is_bool());
  EXPECT_TRUE(value(42).is_int());
  EXPECT_TRUE(value(2.5).is_float());
  EXPECT_TRUE(value("x").is_str());
  EXPECT_EQ(value(42).as<std::int64_t>(), 42);
  EXPECT_EQ(value(42).as<std::uint8_t>(), 42);
  EXPECT_DOUBLE_EQ(value(3).as<double>(), 3.0);
  EXPECT_EQ(value("abc").as<std::string>(), "abc");
  EXPECT_EQ(value(300).kind_name(), std::string("int"));
  expect_error([] { (void)value(300).as<std::uint8_t>(); }, errc::out_of_range,
               "int 300 does not fit the unsigned integer type");
  expect_error([] { (void)value("a").as<std::int64_t>(); }, errc::type_mismatch,
               "expected int, got str");
}

TEST(PyValue, BigInts) {
  const value big = value::integer("123456789012345678901234567890");
  EXPECT_TRUE(big.is_big_int());
  EXPECT_EQ(big.int_str(), "123456789012345678901234567890");
  EXPECT_EQ(value::integer("-123456789012345678901234567890").repr(),
            "-123456789012345678901234567890");
  EXPECT_EQ(value::integer("-9223372036854775808").is_big_int(), false);
  EXPECT_EQ(value::integer("9223372036854775808").is_big_int(), true);
  EXPECT_EQ(value(std::uint64_t(18446744073709551615ull)).int_str(), "18446744073709551615");
  EXPECT_EQ(value(std::uint64_t(18446744073709551615ull)).as<std::uint64_t>(),
            18446744073709551615ull);
  EXPECT_EQ(value::integer("255").int_bytes(), (std::vector<std::uint8_t>{0xff, 0x00}));
  EXPECT_EQ(value::integer("-1").int_bytes(), (std::vector<std::uint8_t>{0xff}));
  EXPECT_EQ(value::integer("0").int_bytes(), std::vector<std::uint8_t>{});
  EXPECT_EQ(big, value::integer("123456789012345678901234567890"));
  EXPECT_EQ(value(1e20), value::integer("100000000000000000000"));
}

TEST(PyValue, Containers) {
  value d = py::dict({{"foo", 34}, {"bar", value{1, 2, 3}}});
  EXPECT_TRUE(d.is_dict());
  EXPECT_EQ(d["foo"].as<int>(), 34);
  EXPECT_EQ(d["bar"][1].as<int>(), 2);
  EXPECT_EQ(d["bar"].at(-1).as<int>(), 3);
  EXPECT_TRUE(d.contains("foo"));
  EXPECT_FALSE(d.contains("nope"));
  expect_error([&] { (void)std::as_const(d).at("nope"); }, errc::out_of_range, "KeyError: 'nope'");
  value e = d; // copy-on-write: e changes, d does not
  e["foo"] = 35;
  EXPECT_EQ(d["foo"].as<int>(), 34);
  EXPECT_EQ(e["foo"].as<int>(), 35);
  value l;
  l.push_back(1);
  l.push_back("a");
  EXPECT_EQ(l.size(), 2u);
  int n = 0;
  for (const auto& x : l)
    n += x.is_int();
  EXPECT_EQ(n, 1);
  // dict keys: 1, 1.0 and True are the same key, as in Python
  value k = py::dict({{1, "a"}, {1.0, "b"}, {true, "c"}});
  EXPECT_EQ(k.size(), 1u);
  EXPECT_EQ(k.repr(), "{1: 'c'}");
  expect_error(
      [] {
        (void)py::dict({{value{1}, 2}});
      },
      errc::invalid_argument, "unhashable type: 'list'");
  EXPECT_EQ(py::set({1, 2, 2, 3}).size(), 3u);
  // large dicts use the hash index
  value big = value::dict();
  for (int i = 0; i < 1000; ++i)
    big.insert(i, i * 2);
  for (int i = 0; i < 1000; i += 7)
    EXPECT_EQ(big.at(value(i)).as<int>(), i * 2);
  big.insert(5, -1);
  EXPECT_EQ(big.size(), 1000u);
  EXPECT_EQ(big.at(value(5)).as<int>(), -1);
}

TEST(PyValue, Equality) {
  EXPECT_EQ(value(1), value(1.0));
  EXPECT_EQ(value(true), value(1));
  EXPECT_NE((value{1, 2}), py::tuple({1, 2}));
  EXPECT_EQ(py::dict({{"a", 1}, {"b", 2}}), py::dict({{"b", 2}, {"a", 1}}));
  EXPECT_EQ(py::set({1, 2}), py::frozenset({2, 1}));
  EXPECT_NE(value("a"), py::bytes("a"));
  EXPECT_EQ(value(std::complex<double>(2, 0)), value(2));
  EXPECT_NE(value(std::nan("")), value(std::nan("")));
}

// A str of up to 13 bytes is held inside the value; longer ones in a node.
// Both must behave the same everywhere: these cross the boundary.
TEST(PyValue, ShortAndLongStrsBehaveAlike) {
  std::vector<std::string> texts;
  for (std::size_t n = 0; n <= 20; ++n)
    texts.push_back(std::string(n, 'a') + (n % 3 == 0 ? "" : "z"));
  texts.push_back(std::string("a\0b", 3));                 // embedded NUL
  texts.push_back("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"); // 2, 3 and 4-byte UTF-8
  texts.push_back("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0"
                  "\x9f\x98\x80"); // 16 bytes
  std::vector<value> values;
  for (const auto& t : texts) {
    SCOPED_TRACE(t.size());
    const value a(t);
    const value b = value(std::string_view(t));
    const value c = value(std::string(t));
    EXPECT_TRUE(a.is_str());
    EXPECT_EQ(a.as<std::string>(), t);
    EXPECT_EQ(a.as<std::string_view>(), t);
    EXPECT_EQ(a.size(), t.size());
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, c);
    EXPECT_EQ(a.hash(), c.hash());
    EXPECT_NE(a, py::bytes(t));
    value moved = a;
    value target = 7;
    target = std::move(moved);
    EXPECT_TRUE(moved.is_none());
    EXPECT_EQ(target.as<std::string>(), t);
    target = target; // self-assignment keeps the value
    EXPECT_EQ(target.as<std::string>(), t);
    values.push_back(a);
  }
  EXPECT_EQ(value("abcdefghijklm").repr(), "'abcdefghijklm'");   // 13 bytes
  EXPECT_EQ(value("abcdefghijklmn").repr(), "'abcdefghijklmn'"); // 14
  EXPECT_EQ(value(std::string("a\0b", 3)).repr(), "'a\\x00b'");
  EXPECT_NE(value("abc"), value("abd"));
  EXPECT_NE(value("abc"), value("abcdefghijklmnop"));
  // every text a distinct key of one dict (past 8 entries: the hash index)
  value d = value::dict();
  for (std::size_t i = 0; i < values.size(); ++i)
    d.insert(values[i], static_cast<std::int64_t>(i));
  ASSERT_EQ(d.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(d.at(value(texts[i])).as<std::size_t>(), i);
  EXPECT_EQ(d[texts[13]].as<int>(), 13);
  EXPECT_EQ(d["aaaaaaaaaaaz"].as<int>(), 11);
  std::string reprs = "[";
  for (const auto& v : values)
    reprs += (reprs.size() > 1 ? ", " : "") + v.repr();
  EXPECT_EQ(value::list(values).repr(), reprs + "]");
  EXPECT_EQ(py::set({"x", "x", "yyyyyyyyyyyyyyyyyy", "yyyyyyyyyyyyyyyyyy"}).size(), 2u);
}

TEST(PyValue, Repr) {
  EXPECT_EQ(value().repr(), "None");
  EXPECT_EQ(value(true).repr(), "True");
  EXPECT_EQ(value(1.0).repr(), "1.0");
  EXPECT_EQ(value(1e16).repr(), "1e+16");
  EXPECT_EQ(value(1e15).repr(), "1000000000000000.0");
  EXPECT_EQ(value(1.5e-5).repr(), "1.5e-05");
  EXPECT_EQ(value(0.0001).repr(), "0.0001");
  EXPECT_EQ(value(-0.0).repr(), "-0.0");
  EXPECT_EQ(value(0.1).repr(), "0.1");
  EXPECT_EQ(value(std::complex<double>(1, 2)).repr(), "(1+2j)");
  EXPECT_EQ(value(std::complex<double>(0, 2)).repr(), "2j");
  EXPECT_EQ(value(std::complex<double>(1.5, -2)).repr(), "(1.5-2j)");
  EXPECT_EQ(value("it's").repr(), "\"it's\"");
  EXPECT_EQ(value("a\nb\\").repr(), "'a\\nb\\\\'");
  EXPECT_EQ(value("\xc3\xa9\x01").repr(), "'\xc3\xa9\\x01'");
  EXPECT_EQ(py::bytes(std::string("\x00\xff'a", 4)).repr(), "b\"\\x00\\xff'a\"");
  EXPECT_EQ(value::bytearray("ab").repr(), "bytearray(b'ab')");
  EXPECT_EQ(py::tuple({1}).repr(), "(1,)");
  EXPECT_EQ(py::tuple({}).repr(), "()");
  EXPECT_EQ(py::set({}).repr(), "set()");
  EXPECT_EQ(py::frozenset({1}).repr(), "frozenset({1})");
  EXPECT_EQ(py::dict({{"foo", 34}}).repr(), "{'foo': 34}");
  EXPECT_EQ(value::datetime({2020, 1, 2, 3, 4, 5, 6}).repr(),
            "datetime.datetime(2020, 1, 2, 3, 4, 5, 6)");
  EXPECT_EQ(value::datetime({2020, 1, 2, 3, 4}).repr(), "datetime.datetime(2020, 1, 2, 3, 4)");
  EXPECT_EQ(value::date(2020, 1, 2).repr(), "datetime.date(2020, 1, 2)");
  EXPECT_EQ(value::time(0, 0).repr(), "datetime.time(0, 0)");
  EXPECT_EQ(value::timedelta(0).repr(), "datetime.timedelta(0)");
  EXPECT_EQ(value::timedelta(1, 2, 3).repr(),
            "datetime.timedelta(days=1, seconds=2, microseconds=3)");
  EXPECT_EQ(value::timedelta(0, -1).repr(), "datetime.timedelta(days=-1, seconds=86399)");
  EXPECT_EQ(value::decimal("1.5").repr(), "Decimal('1.5')");
  EXPECT_EQ(value::global("builtins", "range").repr(), "<class 'range'>");
}

TEST(PyValue, DeepNestingDestroysAndPrintsIteratively) {
  value v;
  for (int i = 0; i < 200000; ++i)
    v = value::list({std::move(v)});
  const std::string r = v.repr();
  EXPECT_EQ(r.size(), 200000u * 2 + 4);
  value w = v;
  EXPECT_EQ(v, w);
  v = value();
  w = value(); // destruction must not overflow the stack
}

TEST(PyValue, ObjectArrays) {
  npio::array a = py::make_object_array({2, 2}, {1, "two", py::dict({{"x", 3}}), value()});
  EXPECT_EQ(a.dtype().kind(), 'O');
  EXPECT_EQ(py::object_at(a, 1).as<std::string>(), "two");
  EXPECT_TRUE(py::object_at(a, 3).is_none());
  py::set_object(a, 3, 4.5);
  EXPECT_EQ(py::tolist(a).repr(), "[[1, 'two'], [{'x': 3}, 4.5]]");
  npio::array zero(npio::dtype::make('O', 8), {3});
  EXPECT_EQ(py::tolist(zero).repr(), "[None, None, None]");
  EXPECT_EQ(py::item(py::make_object_array({}, {py::dict({{"foo", 34}})})).repr(), "{'foo': 34}");
  EXPECT_EQ(py::tolist(npio::array::from(std::vector<double>{1.5, 2})).repr(), "[1.5, 2.0]");
  expect_error([&] { (void)py::item(a); }, errc::out_of_range,
               "can only convert an array of size 1 to a Python scalar");
}

TEST(PyValue, ReprOfAnArrayWithoutPythonValuesDoesNotThrow) {
  // regression (fuzz_pickle): a U array holding a code point above U+10FFFF
  npio::array a(npio::dtype::parse("<U1"), {1});
  std::memset(a.mutable_data(), 0xff, 4);
  EXPECT_EQ(value(a).repr(), "array(<invalid code point in a U array>)");
  EXPECT_THROW((void)py::tolist(a), npio::error);
}

// Lookups through const values never write to the shared node: many threads
// may read one dict or set at once, also when its hash index is missing (a
// dict whose items were edited in place) or was never built.
TEST(py_value, concurrent_const_lookups_in_large_dicts_and_sets) {
  npio::py::dict_entries entries;
  std::vector<value> members;
  for (int i = 0; i < 200; ++i) {
    entries.emplace_back(value("k" + std::to_string(i)), value(i));
    members.emplace_back(i);
  }
  value d = value::dict(entries);
  d.dict_items()[0].second = value(-1); // in-place edit: the index is dropped
  value s = value::set(members);
  (void)s.items(); // the same for sets
  const value shared_d = d, shared_s = s;
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep)
        for (int i = 0; i < 200; ++i) {
          const value* f = shared_d.find(value("k" + std::to_string(i)));
          if (!f || f->as<std::int64_t>() != (i == 0 ? -1 : i)) ++wrong[t];
          if (!shared_s.contains(value(i))) ++wrong[t];
        }
    });
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
  EXPECT_EQ(shared_d.find(value("k200")), nullptr);
  EXPECT_FALSE(shared_s.contains(value(200)));
}
