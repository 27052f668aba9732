// The unpickler's allocation machinery (src/py_arena.cpp, src/pickle_load.cpp):
// nodes bump-allocated from per-load chunks, memo slots that pin nodes instead
// of owning them, and the element-list size hint from a .npy header. Values
// built this way must behave exactly as heap-built ones, outlive the load and
// the array they came from, and be shared and destroyed across threads.
#include "../../src/pickle_internal.hpp"
#include "pickle_test_util.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <gtest/gtest.h>
#include <npio/io.hpp>
#include <npio/pickle.hpp>
#include <npio/py/value.hpp>
#include <thread>

using npio::py::value;
namespace pk = npio::pickle;
namespace fs = std::filesystem;
using namespace pickle_test;
using namespace std::string_literals;

namespace {

// Every load in scope builds its nodes in an arena, however small the input.
struct arena_everywhere {
  std::size_t old;
  arena_everywhere() : old(pk::detail::arena_min_input().exchange(0)) {}
  ~arena_everywhere() { pk::detail::arena_min_input().store(old); }
  arena_everywhere(const arena_everywhere&) = delete;
  arena_everywhere& operator=(const arena_everywhere&) = delete;
};

// What a load gives: the value's repr, or the error's code, text and offset.
std::string outcome(std::span<const std::byte> b, const pk::options& o) {
  try {
    return "value " + pk::loads(b, o).repr();
  } catch (const npio::error& e) {
    return "error " + std::to_string(static_cast<int>(e.code())) + " " + e.detail() + " @" +
           (e.offset() ? std::to_string(*e.offset()) : "-");
  }
}

// {'id': i, 'name': 'x' + str(i), 'v': float(i), 'l': [i, 'a']}: the
// benchmark's element with a nested list.
value element(std::int64_t i) {
  return value::dict({{"id", i},
                      {"name", "x" + std::to_string(i)},
                      {"v", static_cast<double>(i)},
                      {"l", value::list({i, "a"})}});
}

// A .npy of n such elements, saved by npio and loaded back (its pickle is
// far above the arena threshold for n >= 10000).
npio::array load_elements(const fs::path& p, std::int64_t n) {
  std::vector<value> items;
  for (std::int64_t i = 0; i < n; ++i)
    items.push_back(element(i));
  npio::save(p, npio::py::make_object_array({n}, std::move(items)));
  EXPECT_GT(fs::file_size(p), pk::detail::arena_min_input().load());
  npio::load_options o;
  o.allow_pickle = true;
  return npio::load(p, o);
}

} // namespace

TEST(PickleArena, EveryCorpusPickleLoadsTheSameFromTheArena) {
  std::vector<fs::path> files;
  for (const auto& dir : {fs::path(NPIO_SOURCE_DIR) / "fuzz" / "corpus" / "pickle", golden()})
    if (fs::exists(dir))
      for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
  ASSERT_GT(files.size(), 50u);
  pk::options plain;
  pk::options lenient;
  lenient.allow_unknown_classes = true;
  lenient.encoding = npio::pickle_encoding::latin1;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const auto b = read_bytes(f);
    for (const auto* o : {&plain, &lenient}) {
      const std::string heap = outcome(b, *o);
      arena_everywhere on;
      EXPECT_EQ(outcome(b, *o), heap);
    }
  }
}

TEST(PickleArena, MemoPinsMatchCPython) {
  arena_everywhere on;
  // A memoized value dropped from the stack (its count reaches zero while
  // only the memo refers to it) and fetched again later; one memoized twice;
  // a memo slot replaced while its old value is still on the stack; a
  // dropped container never fetched again (freed at the end: LeakSanitizer).
  const std::vector<std::string> streams = {
      "\x80\x02X\x03\x00\x00\x00"
      "abcq\x00"
      "0](h\x00h\x00"
      "e."s,
      "\x80\x02]q\x00(K\x01K\x02"
      "eq\x01"
      "0}q\x02(X\x01\x00\x00\x00"
      "ah\x00X\x01\x00\x00\x00"
      "bh\x01u."s,
      "\x80\x02X\x01\x00\x00\x00"
      "aq\x00X\x01\x00\x00\x00"
      "bq\x00h\x00\x86."s,
      "\x80\x02}q\x00X\x01\x00\x00\x00"
      "k]q\x01s0K\x05."s,
      "\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00]\x94(]\x94h\x01h\x01"
      "e0h\x00."s,
  };
  for (const auto& s : streams) {
    SCOPED_TRACE(s);
    std::string py;
    ASSERT_EQ(run_python("import pickle, sys\n"
                         "print(repr(pickle.loads(open(sys.argv[1], 'rb').read())), end='')\n",
                         {[&] {
                           static temp_dir d;
                           static int k = 0;
                           const auto p = d.path / ("s" + std::to_string(k++) + ".pkl");
                           write_bytes(p, bytes_of(s));
                           return p.string();
                         }()},
                         py),
              0)
        << py;
    EXPECT_EQ(pk::loads(s).repr(), py);
  }
  // an error after a pinned value was dropped: everything is still freed
  EXPECT_THROW((void)pk::loads("\x80\x02]q\x00"
                               "0X\x01\x00\x00\x00"
                               "aq\x01"
                               "0\xff"s),
               npio::error);
}

// Short strs are built inside their value, with whole-word reads of the
// input when 13 bytes follow the text and a bounded copy near the end (where
// a read would run past the input: AddressSanitizer checks).
TEST(PickleArena, ShortStrsAtEveryDistanceFromTheEnd) {
  for (std::size_t n = 0; n <= 16; ++n) {
    const std::string text = std::string(n, 'q').substr(0, n ? n - 1 : 0) + (n ? "\xc3" : "");
    const std::string t = n ? text.substr(0, n - 1) + "r" : "";
    for (const bool memo : {false, true}) {
      SCOPED_TRACE(std::to_string(n) + (memo ? " memo" : ""));
      // X <len> <text> [q 0 h 0 \x86] .  : the str, or the str twice in a tuple
      std::string s = "\x80\x02X"s + static_cast<char>(n) + "\x00\x00\x00"s + t;
      s += memo ? "q\x00h\x00\x86."s : "."s;
      std::vector<std::byte> exact = bytes_of(s); // no slack after the input
      const value v = pk::loads(std::span<const std::byte>(exact));
      const value expect = memo ? value::tuple({value(t), value(t)}) : value(t);
      EXPECT_EQ(v, expect);
      EXPECT_EQ(v.repr(), expect.repr());
      arena_everywhere on;
      EXPECT_EQ(pk::loads(std::span<const std::byte>(exact)), expect);
    }
  }
}

TEST(PickleArena, ValuesOutliveTheLoadAndTheArray) {
  temp_dir d;
  value kept, nested, name;
  {
    npio::array a = load_elements(d.path / "a.npy", 20000);
    ASSERT_EQ(a.size(), 20000);
    kept = npio::py::object_at(a, 12345);
    nested = npio::py::object_at(a, 7)["l"];
    name = npio::py::object_at(a, 19999)["name"];
  } // the array, its table and the load's arena chunks (but those in use) go
  EXPECT_EQ(kept, element(12345));
  EXPECT_EQ(kept.repr(), element(12345).repr());
  EXPECT_EQ(nested, value::list({7, "a"}));
  EXPECT_EQ(name.as<std::string>(), "x19999");
  // copy-on-write still holds for arena nodes
  value changed = kept;
  changed["id"] = 1;
  changed["l"].push_back(3);
  EXPECT_EQ(kept, element(12345));
  EXPECT_EQ(changed["l"], value::list({12345, "a", 3}));
  kept = value();
  EXPECT_EQ(nested.repr(), "[7, 'a']");
}

TEST(PickleArena, ObjectArrayLoadsTheSameFromMemory) {
  // a .npy in memory is unpickled in place, a file through one read
  temp_dir d;
  const npio::array a = load_elements(d.path / "a.npy", 12000);
  const auto bytes = read_bytes(d.path / "a.npy");
  npio::load_options o;
  o.allow_pickle = true;
  const npio::array b = npio::load(std::span<const std::byte>(bytes), o);
  ASSERT_EQ(b.size(), a.size());
  for (std::int64_t i = 0; i < a.size(); i += 997)
    EXPECT_EQ(npio::py::object_at(b, i), npio::py::object_at(a, i));
  EXPECT_EQ(npio::py::object_at(b, 11999), element(11999));
  o.max_data_bytes = bytes.size() / 2;
  try {
    (void)npio::load(std::span<const std::byte>(bytes), o);
    ADD_FAILURE() << "loaded past max_data_bytes";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::limit_exceeded);
  }
}

TEST(PickleArena, ValuesAreSharedAndFreedAcrossThreads) {
  temp_dir d;
  npio::array a = load_elements(d.path / "a.npy", 20000);
  // Four threads copy, read and drop values of the same array while this one
  // drops the array: counts (node and chunk) must stay exact.
  std::vector<std::vector<value>> parts(4);
  for (std::int64_t i = 0; i < 20000; ++i)
    parts[static_cast<std::size_t>(i % 4)].push_back(npio::py::object_at(a, i));
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  for (std::size_t t = 0; t < 4; ++t)
    ts.emplace_back([&bad, part = std::move(parts[t]), t]() mutable {
      for (int round = 0; round < 3; ++round)
        for (std::size_t k = 0; k < part.size(); ++k) {
          const value copy = part[k];
          const auto i = static_cast<std::int64_t>(4 * k + t);
          if (copy["id"].as<std::int64_t>() != i ||
              copy["name"].as<std::string>() != "x" + std::to_string(i) || copy.at("l").size() != 2)
            ++bad;
        }
      part.clear(); // the last references of some nodes go on this thread
    });
  a = npio::array();
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(PickleArena, NpyShapeIsOnlyASizeHint) {
  // A header that claims a billion elements over a pickle of 3000: NumPy
  // returns what the pickle holds, and the claim reserves nothing beyond
  // what the input left could hold.
  temp_dir d;
  std::vector<value> items;
  for (int i = 0; i < 3000; ++i)
    items.push_back(value(i));
  const auto p = d.path / "small.npy";
  npio::save(p, npio::py::make_object_array({3000}, std::move(items)));
  auto bytes = read_bytes(p);
  const std::string real = npio::format_header(npio::dtype::make('O', 8), {3000}, false);
  const std::string fake = npio::format_header(npio::dtype::make('O', 8), {1000000000}, false);
  ASSERT_EQ(real.size(), fake.size());
  std::memcpy(bytes.data(), fake.data(), fake.size());
  const auto q = d.path / "liar.npy";
  write_bytes(q, bytes);
  std::string py;
  ASSERT_EQ(run_python("import numpy as np, sys\n"
                       "a = np.load(sys.argv[1], allow_pickle=True)\n"
                       "print(a.shape, a[2999], end='')\n",
                       {q.string()}, py),
            0)
      << py;
  EXPECT_EQ(py, "(3000,) 2999");
  npio::load_options o;
  o.allow_pickle = true;
  const npio::array a = npio::load(q, o);
  EXPECT_EQ(a.size(), 3000);
  EXPECT_EQ(npio::py::object_at(a, 2999), value(2999));
}
