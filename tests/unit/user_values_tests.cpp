// Issue 11, the values half: the code a user writes from the README to get
// plain C++ values out of arrays and Python values. Read-only views of
// mapped files, conversions under NumPy's casting rules (the table comes from
// np.can_cast, tests/data/generate_can_cast.py), strings out of S and U
// arrays, py::value conversions with error paths, dict access that never
// inserts, and repr() against NumPy's own (tests/data/generate_repr.py).
#include "golden_support.hpp"

#include <gtest/gtest.h>
#include <map>
#include <npio/npio.hpp>
#include <optional>
#include <sstream>
#include <tuple>

#if __has_include(<fmt/format.h>)
#define FMT_HEADER_ONLY
#include <npio/fmt.hpp>
#define NPIO_HAVE_FMT 1
#endif

// ---- 6. records: a struct bound to a structured dtype in one declaration ----
struct uv_particle {
  std::int64_t id = 0;
  float pos[3] = {};
  std::string name;
  char tag[4] = {};
  std::array<double, 2> v{};
  bool ok = false;
};
template <> struct npio::record<uv_particle> {
  static constexpr auto fields = std::make_tuple(
      npio::member("id", &uv_particle::id), npio::member("pos", &uv_particle::pos),
      npio::member("name", &uv_particle::name, "U8"), npio::member("tag", &uv_particle::tag),
      npio::member("v", &uv_particle::v), npio::member("ok", &uv_particle::ok));
};

struct uv_point {
  double x = 0, y = 0;
};
NPIO_RECORD(uv_point, npio::member("x", &uv_point::x), npio::member("y", &uv_point::y));

namespace {

using namespace npio_test;
using npio::errc;
namespace py = npio::py;

// Runs NumPy's Python on `script` with `arg`; returns what it prints.
std::string run_numpy(const std::string& script, const fs::path& arg) {
  temp_dir dir;
  const auto sp = dir.path() / "s.py";
  { std::ofstream(sp) << script; }
  const std::string cmd =
      std::string(NPIO_PYTHON) + " '" + sp.string() + "' '" + arg.string() + "' 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while (f && (n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  if (f) ::pclose(f);
  return out;
}

template <class F> void expect_error(F&& f, errc code, const std::string& msg) {
  try {
    f();
    ADD_FAILURE() << "no error, expected " << npio::errc_name(code) << ": " << msg;
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.detail(), msg);
  }
}

fs::path golden_root() {
  return fs::path(NPIO_GOLDEN_DIR);
}

} // namespace

// ---- 1. read-only data reads --------------------------------------------------

TEST(UserValues, MappedReadOnlyArraysGiveConstViews) {
  temp_dir dir;
  const auto p = dir.path() / "m.npy";
  npio::save(p, npio::array::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
  npio::load_options opts;
  opts.mmap_mode = npio::mmap_mode::r;
  npio::array m = npio::load(p, opts); // the README's code
  ASSERT_FALSE(m.writeable());
  std::span<const float> all = m.view<float>();
  EXPECT_EQ(all[4], 5.0f);
  std::span<const float> same = m.view<const float>();
  EXPECT_EQ(same.data(), all.data());
  auto md = m.mdview<float, 2>();
  EXPECT_EQ(md(1, 2), 6.0f);
  static_assert(std::is_same_v<decltype(md), npio::mdspan<const float, 2>>);
  auto cmd = m.mdview<const float, 2>();
  EXPECT_EQ(cmd(0, 1), 2.0f);
  const npio::array& cm = m;
  EXPECT_EQ(cm.view<float>()[0], 1.0f);
  EXPECT_EQ((cm.mdview<const float, 2>()(1, 0)), 4.0f);
  // writing asks for it by name, and a read-only array says no
  expect_error([&] { (void)m.mutable_view<float>(); }, errc::not_writeable, "array is read-only");
  expect_error([&] { (void)m.mutable_mdview<float, 2>(); }, errc::not_writeable,
               "array is read-only");
  // a writeable array writes through mutable_view
  npio::array w = m.copy();
  w.mutable_view<float>()[0] = 10;
  w.mutable_mdview<float, 2>()(1, 1) = 50;
  EXPECT_EQ(w.at<float>(0, 0), 10.0f);
  EXPECT_EQ(w.at<float>(1, 1), 50.0f);
  EXPECT_EQ(m.at<float>(0, 0), 1.0f);
}

TEST(UserValues, LoadReturnsSomethingThatReadsLikeAnArray) {
  temp_dir dir;
  const auto p = dir.path() / "a.npy";
  npio::save(p, npio::array::from(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}));
  auto a = npio::load(p);
  EXPECT_EQ(a.at<double>(1, 2), 6.0);
  EXPECT_EQ(a.shape(), (npio::shape_t{2, 3}));
  EXPECT_EQ(a.view<double>().size(), 6u);
  EXPECT_EQ((a.to_vector<float>(npio::casting::same_kind)), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a[1].to_vector<double>(), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(a.repr(), "array([[1., 2., 3.],\n       [4., 5., 6.]])");
  npio::array b = a; // converts, no copy of the data
  EXPECT_EQ(b.data(), a.array().data());
  // an .npz through load(): the array methods say what the file holds
  const auto z = dir.path() / "z.npz";
  npio::savez(z, {{"x", b}});
  auto zl = npio::load(z);
  expect_error([&] { (void)zl.shape(); }, errc::type_mismatch,
               "the file holds an .npz archive, not a .npy array");
}

TEST(UserValues, FromTakesABracedShape) {
  auto a = npio::array::from(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.shape(), (npio::shape_t{2, 3}));
  auto f = npio::array::from(std::vector<int>{1, 2, 3, 4, 5, 6}, {3, 2}, npio::order::f);
  EXPECT_TRUE(f.is_f_contiguous());
  EXPECT_EQ(f.at<int>(2, 1), 6);
  const std::vector<float> v{1, 2};
  EXPECT_EQ(npio::array::from(std::span<const float>(v), {2, 1}).shape(), (npio::shape_t{2, 1}));
  EXPECT_EQ(npio::array::from(v).shape(), (npio::shape_t{2}));
}

// ---- 2. conversions -------------------------------------------------------------

TEST(UserValues, CanCastMatchesNumpy) {
  std::ifstream in(golden_root() / "can_cast.txt");
  ASSERT_TRUE(in) << "run ctest -R golden first";
  const npio::casting rules[] = {npio::casting::no, npio::casting::equiv, npio::casting::safe,
                                 npio::casting::same_kind, npio::casting::unsafe};
  std::string line, from, to, bits;
  std::size_t rows = 0, wrong = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    ls >> from >> to >> bits;
    const auto a = npio::dtype::parse(from), b = npio::dtype::parse(to);
    for (std::size_t r = 0; r < 5; ++r) {
      const bool want = bits[r] == '1';
      if (npio::can_cast(a, b, rules[r]) != want && ++wrong <= 20)
        ADD_FAILURE() << "can_cast(" << from << ", " << to << ", " << npio::casting_name(rules[r])
                      << ") should be " << want;
    }
    ++rows;
  }
  EXPECT_GT(rows, 3000u);
  EXPECT_EQ(wrong, 0u);
}

TEST(UserValues, AstypeFollowsTheCastingRule) {
  auto i = npio::array::from(std::vector<std::int32_t>{1, -2, 3});
  npio::array d = i.astype(npio::dtype::of<double>(), npio::casting::safe);
  EXPECT_EQ(d.dtype().str(), "<f8");
  EXPECT_EQ(d.at<double>(1), -2.0);
  EXPECT_EQ(i.astype<double>().at<double>(2), 3.0);
  expect_error([&] { (void)d.astype(npio::dtype::of<std::int32_t>(), npio::casting::safe); },
               errc::type_mismatch,
               "cannot cast array from dtype <f8 to <i4 according to the rule 'safe'; pass "
               "npio::casting::unsafe to convert anyway");
  EXPECT_EQ(d.astype(npio::dtype::of<float>(), npio::casting::same_kind).dtype().str(), "<f4");
  // big-endian to native: equiv
  npio::array be = i.astype(npio::dtype::parse(">i4"));
  EXPECT_EQ(be.astype(npio::dtype::parse("<i4"), npio::casting::equiv).at<std::int32_t>(1), -2);
  expect_error([&] { (void)be.astype(npio::dtype::parse("<i4"), npio::casting::no); },
               errc::type_mismatch,
               "cannot cast array from dtype >i4 to <i4 according to the rule 'no'; pass "
               "npio::casting::unsafe to convert anyway");
  // S <-> U
  npio::array s(npio::dtype::parse("S3"), {2});
  s.set("ab", 0);
  s.set(std::string("xyz"), 1);
  npio::array u = s.astype(npio::dtype::parse("<U3"), npio::casting::safe);
  EXPECT_EQ(u.at<std::u32string>(1), U"xyz");
  EXPECT_EQ(u.astype(npio::dtype::parse("S2")).at<std::string>(1), "xy"); // NumPy cuts too
}

TEST(UserValues, ToVectorConverts) {
  npio::array be = npio::array::from(std::vector<std::int32_t>{1, 2, 3, 4}, {2, 2})
                       .astype(npio::dtype::parse(">i4"))
                       .transpose();
  EXPECT_EQ(be.to_vector<double>(), (std::vector<double>{1, 3, 2, 4}));
  EXPECT_EQ(be.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 3, 2, 4}));
  expect_error([&] { (void)be.to_vector<std::int16_t>(); }, errc::type_mismatch,
               "cannot cast array from dtype >i4 to <i2 according to the rule 'safe'; pass "
               "npio::casting::unsafe to convert anyway");
  EXPECT_EQ(be.to_vector<std::int16_t>(npio::casting::same_kind),
            (std::vector<std::int16_t>{1, 3, 2, 4}));
  auto f = npio::array::from(std::vector<double>{1.75, -2.5});
  EXPECT_EQ(f.to_vector<int>(npio::casting::unsafe), (std::vector<int>{1, -2}));
  // datetimes give their counts
  npio::array t(npio::dtype::parse("<M8[s]"), {2});
  t.set<std::int64_t>(86400, 1);
  EXPECT_EQ(t.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 86400}));
}

TEST(UserValues, LoadAsConvertsIntoTheCallersType) {
  temp_dir dir;
  const auto p = dir.path() / "i.npy";
  npio::save(
      p, npio::array::from(std::vector<std::int32_t>{7, 8, 9}).astype(npio::dtype::parse(">i4")));
  std::vector<double> v = npio::load_as<double>(p);
  EXPECT_EQ(v, (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(npio::load_as<std::int8_t>(p, npio::casting::unsafe),
            (std::vector<std::int8_t>{7, 8, 9}));
  try {
    (void)npio::load_as<std::int8_t>(p);
    ADD_FAILURE() << "int32 -> int8 is not safe";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::type_mismatch);
    EXPECT_EQ(e.file(), p.string());
  }
}

TEST(UserValues, StringsOutOfSAndUArrays) {
  temp_dir dir;
  const auto p = dir.path() / "u.npy";
  npio::array u(npio::dtype::parse("<U4"), {3});
  u.set("a", 0);
  u.set("b\xc3\xa9"
        "c",
        1); // UTF-8 in
  u.set(std::u32string(U"\U0001F600xyz"), 2);
  npio::save(p, u);
  npio::array labels = npio::load(p);
  EXPECT_EQ(labels.at<std::string>(0), "a");
  EXPECT_EQ(labels.at<std::string>(1), "b\xc3\xa9"
                                       "c");
  EXPECT_EQ(labels.at<std::u32string>(1), U"b\u00e9c");
  EXPECT_EQ(labels.at<std::string>(-1), "\xf0\x9f\x98\x80xyz");
  EXPECT_EQ(labels.to_vector<std::string>(), (std::vector<std::string>{"a",
                                                                       "b\xc3\xa9"
                                                                       "c",
                                                                       "\xf0\x9f\x98\x80xyz"}));
  EXPECT_EQ(labels.to_vector<std::u32string>()[2], U"\U0001F600xyz");
  expect_error([&] { u.set("abcde", 0); }, errc::invalid_argument,
               "text of 5 characters does not fit dtype <U4");
  expect_error([&] { u.set("\xff", 0); }, errc::invalid_argument,
               "text is not valid UTF-8 (at byte 0)");
  // S: bytes as they are, trailing NULs dropped as NumPy does
  npio::array s(npio::dtype::parse("|S4"), {2});
  s.set("ab", 0);
  s.set(std::string_view("a\0b", 3), 1);
  EXPECT_EQ(s.at<std::string>(0), "ab");
  EXPECT_EQ(s.at<std::string>(1), std::string("a\0b", 3));
  expect_error([&] { (void)s.at<std::u32string>(0); }, errc::type_mismatch,
               "std::u32string needs a U array; an S array holds bytes: use std::string");
  expect_error([&] { s.set("abcde", 0); }, errc::invalid_argument,
               "text of 5 bytes does not fit dtype |S4");
  expect_error([&] { (void)npio::array::from(std::vector<double>{1}).at<std::string>(0); },
               errc::type_mismatch,
               "at<std::string>() needs an S or U array, not dtype <f8; use at<T>() or "
               "to_vector<T>() for numbers");
  // a big-endian U file from NumPy
  npio::array bu = u.astype(npio::dtype::parse(">U4"));
  EXPECT_EQ(bu.at<std::string>(2), "\xf0\x9f\x98\x80xyz");
  // a read-only mapping refuses writes
  npio::load_options ro;
  ro.mmap_mode = npio::mmap_mode::r;
  npio::array m = npio::load(p, ro);
  expect_error([&] { m.set("x", 0); }, errc::not_writeable, "array is read-only");
}

// ---- 2. and 3. py::value ------------------------------------------------------

TEST(UserValues, PyValueConvertsToContainers) {
  py::value meta = py::dict({{"name", "run-1"},
                             {"tags", py::list({"a", "b", "c"})},
                             {"sizes", py::tuple({1, 2, 3})},
                             {"lr", 0.5},
                             {"pair", py::tuple({1, "x"})},
                             {"none", py::value()}});
  EXPECT_EQ(meta["tags"].as<std::vector<std::string>>(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(meta["sizes"].as<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ((meta["pair"].as<std::tuple<int, std::string>>()),
            std::make_tuple(1, std::string("x")));
  EXPECT_EQ((meta["pair"].as<std::pair<long, std::string>>()),
            std::make_pair(1L, std::string("x")));
  EXPECT_EQ(meta["none"].as<std::optional<int>>(), std::nullopt);
  EXPECT_EQ(meta["lr"].as<std::optional<double>>(), 0.5);
  const auto m = meta.as<std::map<std::string, py::value>>();
  EXPECT_EQ(m.size(), 6u);
  EXPECT_EQ(m.at("name").as<std::string>(), "run-1");
  py::value nested = py::dict({{"a", py::list({py::list({1, 2}), py::list({3})})}});
  EXPECT_EQ((nested.as<std::map<std::string, std::vector<std::vector<int>>>>()["a"][1][0]), 3);
  // an ndarray inside converts too
  py::value withArray =
      py::dict({{"w", py::value(npio::array::from(std::vector<std::int32_t>{4, 5}))}});
  EXPECT_EQ(withArray["w"].as<std::vector<double>>(), (std::vector<double>{4, 5}));
}

TEST(UserValues, PyValueConversionErrorsNameThePath) {
  py::value meta = py::dict({{"tags", py::list({"a", "b", 3})}, {"n", py::tuple({1, 2})}});
  expect_error([&] { (void)meta.as<std::map<std::string, std::vector<std::string>>>(); },
               errc::type_mismatch, "['tags'][2]: expected str or bytes, got int");
  expect_error([&] { (void)meta["tags"].as<std::vector<std::string>>(); }, errc::type_mismatch,
               "[2]: expected str or bytes, got int");
  expect_error([&] { (void)meta["n"].as<std::tuple<int, int, int>>(); }, errc::out_of_range,
               "expected a list or tuple of 3 items, got tuple of 2");
  py::value big = py::dict({{"sizes", py::list({1, 300})}});
  expect_error([&] { (void)big.as<std::map<std::string, std::vector<std::uint8_t>>>(); },
               errc::out_of_range, "['sizes'][1]: int 300 does not fit the unsigned integer type");
  expect_error([&] { (void)py::value(3).as<std::vector<int>>(); }, errc::type_mismatch,
               "expected list, tuple, set or ndarray, got int");
  py::value keys = py::dict({{1, 2}});
  expect_error([&] { (void)keys.as<std::map<std::string, int>>(); }, errc::type_mismatch,
               "[1] (key): expected str or bytes, got int");
}

TEST(UserValues, DictAccessNeverInserts) {
  py::value cfg = py::dict({{"epochs", 10}});
  expect_error([&] { (void)cfg["epoch"].as<int>(); }, errc::out_of_range, "KeyError: 'epoch'");
  expect_error([&] { (void)std::as_const(cfg)["epoch"]; }, errc::out_of_range, "KeyError: 'epoch'");
  expect_error([&] { (void)cfg.at("epoch"); }, errc::out_of_range, "KeyError: 'epoch'");
  EXPECT_EQ(cfg.size(), 1u); // unchanged
  cfg["epochs"] = 20;        // an existing key is assignable
  EXPECT_EQ(cfg["epochs"].as<int>(), 20);
  cfg.insert("lr", 0.1); // adding is explicit
  EXPECT_EQ(cfg["lr"].as<double>(), 0.1);
  cfg.setdefault("tags", py::list({})).push_back("x");
  cfg.setdefault("tags", 5).push_back("y"); // already there: the default is not used
  EXPECT_EQ(cfg["tags"].as<std::vector<std::string>>(), (std::vector<std::string>{"x", "y"}));
  py::value none;
  none.insert("a", 1); // None becomes a dict, as before
  EXPECT_TRUE(none.is_dict());
  expect_error([&] { (void)py::value(5)["x"]; }, errc::type_mismatch,
               "find() needs a dict, not int");
}

TEST(UserValues, RvalueAccessorsDoNotDangle) {
  auto a = npio::array::from(std::vector<std::int64_t>{1, 2, 3});
  std::int64_t sum = 0;
  for (const py::value& x : py::tolist(a).items()) // items() of a temporary: a value
    sum += x.as<std::int64_t>();
  EXPECT_EQ(sum, 6);
  for (const py::value& x : py::tolist(a)) // iterating the temporary itself
    sum += x.as<std::int64_t>();
  EXPECT_EQ(sum, 12);
  static_assert(std::is_same_v<decltype(py::tolist(a).items()), std::vector<py::value>>);
  static_assert(std::is_same_v<decltype(py::tolist(a)[0]), py::value>);
  static_assert(std::is_same_v<decltype(py::dict({})["k"]), py::value>);
  static_assert(std::is_same_v<decltype(py::value(a).array()), npio::array>);
  const std::string s = py::value(std::string(40, 'x')).as<std::string>();
  EXPECT_EQ(s.size(), 40u);
}

// ---- 9. printing ----------------------------------------------------------------

TEST(UserValues, ReprMatchesNumpy) {
  const auto dir = golden_root() / "repr";
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".npy") continue;
    const auto txt = e.path().parent_path() / (e.path().stem().string() + ".txt");
    const std::string want = to_string(read_file(txt));
    npio::load_options trusted;
    trusted.allow_pickle = true; // object.npy
    const npio::array a = npio::load(e.path(), trusted);
    EXPECT_EQ(a.repr(), want) << e.path().stem();
    ++n;
  }
  EXPECT_GE(n, 30u);
}

TEST(UserValues, StreamsAndFmtPrintRepr) {
  auto a = npio::array::from(std::vector<std::int32_t>{1, 2, 3, 4}, {2, 2});
  std::ostringstream os;
  os << a;
  EXPECT_EQ(os.str(), "array([[1, 2],\n       [3, 4]], dtype=int32)");
  std::ostringstream ov;
  ov << py::dict({{"a", py::list({1, 2.5})}});
  EXPECT_EQ(ov.str(), "{'a': [1, 2.5]}");
#ifdef NPIO_HAVE_FMT
  EXPECT_EQ(fmt::format("{}", npio::array::from(std::vector<double>{1, 2, 3})),
            "array([1., 2., 3.])");
  EXPECT_EQ(fmt::format("{}", py::value("x")), "'x'");
#endif
}

TEST(UserValues, RecordsRoundTripThroughNumpy) {
  std::vector<uv_particle> ps(2);
  ps[0].id = 7;
  ps[0].pos[0] = 1.5f, ps[0].pos[2] = -2;
  ps[0].name = "caf\xc3\xa9";
  std::memcpy(ps[0].tag, "ab", 2);
  ps[0].v = {0.25, 4};
  ps[0].ok = true;
  ps[1].id = -1;
  ps[1].name = "x";
  EXPECT_EQ(npio::record_dtype<uv_particle>().descr(),
            "[('id', '<i8'), ('pos', '<f4', (3,)), ('name', '<U8'), ('tag', '|S4'), ('v', '<f8', "
            "(2,)), ('ok', '|b1')]");
  temp_dir dir;
  const auto p = dir.path() / "p.npy";
  npio::save(p, npio::array::from(ps));
  // NumPy reads what npio wrote
  EXPECT_EQ(run_numpy("import sys, numpy as np\n"
                      "a = np.load(sys.argv[1])\n"
                      "print(a['id'].tolist(), a['pos'][0].tolist(), a['name'].tolist(), "
                      "a['tag'].tolist(), a['v'][0].tolist(), a['ok'].tolist())\n",
                      p),
            "[7, -1] [1.5, 0.0, -2.0] ['caf\xc3\xa9', 'x'] [b'ab', b''] [0.25, 4.0] [True, "
            "False]\n");
  // and reads it back, field by field
  std::vector<uv_particle> back = npio::load(p).to_vector<uv_particle>();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].id, 7);
  EXPECT_EQ(back[0].pos[2], -2.0f);
  EXPECT_EQ(back[0].name, "caf\xc3\xa9");
  EXPECT_EQ(std::string(back[0].tag), "ab");
  EXPECT_EQ(back[0].v[0], 0.25);
  EXPECT_TRUE(back[0].ok);
  EXPECT_EQ(back[1].name, "x");
  EXPECT_EQ(npio::load(p).at<uv_particle>(1).id, -1);
}

TEST(UserValues, RecordsReadNumpyFilesAndCheckFields) {
  temp_dir dir;
  const auto p = dir.path() / "n.npy";
  // big-endian fields of narrower types, an extra field, another field order
  (void)run_numpy("import sys, numpy as np\n"
                  "a = np.array([(3, 2.0, 'q', 1.0), (4, -1.0, 'r', 2.0)], dtype=[('y', '>f4'), "
                  "('x', '>i4'), ('note', 'U1'), ('z', '<f8')])\n"
                  "np.save(sys.argv[1], a)\n",
                  p);
  npio::array a = npio::load(p);
  std::vector<uv_point> pts = a.to_vector<uv_point>();
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[0].x, 2.0); // int32 -> double is safe
  EXPECT_EQ(pts[1].y, 4.0);
  // S and U fields by string
  npio::array note = a.field("note");
  EXPECT_EQ(note.at<std::string>(1), "r");
  npio::array w = a.copy();
  w.field("note").set("s", 0);
  EXPECT_EQ(w.field("note").at<std::string>(0), "s");
  // a missing field
  expect_error([&] { (void)npio::load(p).to_vector<uv_particle>(); }, errc::type_mismatch,
               "field 'id': the array has no such field (its dtype is [('y', '>f4'), ('x', "
               "'>i4'), ('note', '<U1'), ('z', '<f8')])");
  expect_error([&] { (void)npio::array::from(std::vector<double>{1}).to_vector<uv_point>(); },
               errc::type_mismatch, "reading records needs a structured array, not dtype <f8");
}

struct uv_narrow {
  std::int16_t x = 0;
};
NPIO_RECORD(uv_narrow, npio::member("x", &uv_narrow::x));

TEST(UserValues, RecordFieldsCastOnlySafely) {
  std::vector<uv_point> pts{{1.5, 2}};
  npio::array a = npio::array::from(pts);
  expect_error([&] { (void)a.to_vector<uv_narrow>(); }, errc::type_mismatch,
               "field 'x': cannot cast array from dtype <f8 to <i2 according to the rule 'safe'; "
               "pass npio::casting::unsafe to convert anyway");
}
