// astype's casts that npio writes itself, against NumPy 1.24 (issue 11 point 2):
// numbers to S/U text, datetime64/timedelta64 unit changes and text, and
// S/U text to numbers. The cases and
// NumPy's answers come from tests/data/generate_astype.py (ctest -R golden).
#include <cmath>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

fs::path astype_dir() {
  return fs::path(NPIO_GOLDEN_DIR) / "astype";
}

// Element k of a as text, for failure messages: S/U as text, else hex bytes.
std::string show(const npio::array& a, std::int64_t k) {
  const auto& dt = a.dtype();
  if (dt.kind() == 'S' || dt.kind() == 'U') return "'" + a.at<std::string>(k) + "'";
  std::string s;
  const auto* p = a.data() + static_cast<std::size_t>(k) * dt.itemsize();
  char b[4];
  for (std::size_t i = 0; i < dt.itemsize(); ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(p[i]));
    s += b;
  }
  return s;
}

struct astype_case {
  std::string id, from, to;
  bool error = false;
};

std::vector<astype_case> read_cases() {
  std::vector<astype_case> cases;
  std::ifstream in(astype_dir() / "astype.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    astype_case c;
    std::string flag;
    ls >> c.id >> c.from >> c.to >> flag;
    c.error = flag == "error";
    cases.push_back(c);
  }
  return cases;
}

// Whether two elements hold the same value bytes: all of them, except the 6
// padding bytes of an x87 long double (float128, and each half of complex256),
// which NumPy leaves as they were (text it read, here and there).
bool same_element(const std::byte* a, const std::byte* b, const npio::dtype& dt) {
  const bool x87 =
      (dt.kind() == 'f' && dt.itemsize() == 16) || (dt.kind() == 'c' && dt.itemsize() == 32);
  if (!x87) return std::memcmp(a, b, dt.itemsize()) == 0;
  const std::size_t lead = dt.order() == npio::byte_order::big ? 6 : 0; // the value's 10 bytes
  for (std::size_t half = 0; half < dt.itemsize(); half += 16)
    if (std::memcmp(a + half + lead, b + half + lead, 10) != 0) return false;
  return true;
}

// Runs every case whose source kind is in `kinds`; returns how many ran.
std::size_t run_cases(std::string_view kinds) {
  std::size_t ran = 0, wrong = 0;
  for (const auto& c : read_cases()) {
    const auto from = npio::dtype::parse(c.from);
    if (kinds.find(from.kind()) == std::string_view::npos) continue;
    ++ran;
    const npio::array src = npio::load(astype_dir() / (c.id + "_src.npy")).array();
    const auto to = npio::dtype::parse(c.to);
    if (c.error) {
      EXPECT_THROW((void)src.astype(to), npio::error) << c.from << " -> " << c.to;
      continue;
    }
    const npio::array want = npio::load(astype_dir() / (c.id + "_dst.npy")).array();
    npio::array got;
    try {
      got = src.astype(to);
    } catch (const npio::error& e) {
      ADD_FAILURE() << "case " << c.id << ": " << c.from << " -> " << c.to << ": " << e.what();
      ++wrong;
      continue;
    }
    if (got.dtype().str() != want.dtype().str() || got.size() != want.size()) {
      ADD_FAILURE() << "case " << c.id << ": " << c.from << " -> " << c.to << " gives "
                    << got.dtype().str() << ", NumPy " << want.dtype().str();
      ++wrong;
      continue;
    }
    const std::size_t n = want.dtype().itemsize();
    for (std::int64_t k = 0; k < want.size(); ++k) {
      if (!same_element(got.data() + static_cast<std::size_t>(k) * n,
                        want.data() + static_cast<std::size_t>(k) * n, want.dtype()) &&
          ++wrong <= 30)
        ADD_FAILURE() << "case " << c.id << ": " << c.from << " -> " << c.to << ", element " << k
                      << " (" << show(src, k) << "): npio " << show(got, k) << ", NumPy "
                      << show(want, k);
    }
  }
  EXPECT_EQ(wrong, 0u);
  return ran;
}

TEST(Astype, NumbersToTextAsNumpy) {
  ASSERT_TRUE(fs::exists(astype_dir() / "astype.txt")) << "run ctest -R golden first";
  EXPECT_GT(run_cases("biufc"), 150u);
}

TEST(Astype, DatetimeUnitsAsNumpy) {
  ASSERT_TRUE(fs::exists(astype_dir() / "astype.txt")) << "run ctest -R golden first";
  EXPECT_GT(run_cases("Mm"), 600u);
}

TEST(Astype, FloatTextExamples) {
  auto a = npio::array::from(std::vector<double>{1.5, 2, 0.1 + 0.2, 1e20});
  auto u = a.astype(npio::dtype::parse("<U8"));
  EXPECT_EQ(u.at<std::string>(0), "1.5");
  EXPECT_EQ(u.at<std::string>(1), "2.0");
  EXPECT_EQ(u.at<std::string>(2), "0.300000"); // cut to 8 characters, as NumPy
  EXPECT_EQ(u.at<std::string>(3), "1e+20");
  // 'U' with no width takes NumPy's: 32 characters for float64
  EXPECT_EQ(a.astype(npio::dtype::parse("<U")).dtype().str(), "<U32");
  // a narrow target is allowed by same_kind, refused by safe
  EXPECT_NO_THROW((void)a.astype(npio::dtype::parse("<U8"), npio::casting::same_kind));
  EXPECT_THROW((void)a.astype(npio::dtype::parse("<U8"), npio::casting::safe), npio::error);
  EXPECT_NO_THROW((void)a.astype(npio::dtype::parse("<U32"), npio::casting::safe));
}

TEST(Astype, DatetimeExamples) {
  const auto s = npio::dtype::parse("<M8[s]");
  auto a = npio::array::from(std::vector<std::int64_t>{1, -1, INT64_MIN}).astype(s);
  auto ms = a.astype(npio::dtype::parse("<M8[ms]"));
  EXPECT_EQ(ms.at<std::int64_t>(0), 1000);
  EXPECT_EQ(ms.at<std::int64_t>(1), -1000);
  EXPECT_EQ(ms.at<std::int64_t>(2), INT64_MIN); // NaT stays NaT
  auto d = a.astype(npio::dtype::parse("<M8[D]"));
  EXPECT_EQ(d.at<std::int64_t>(0), 0);
  EXPECT_EQ(d.at<std::int64_t>(1), -1); // floor: 1969-12-31
  // s -> as: the unit factor overflows, as NumPy's OverflowError
  EXPECT_THROW((void)a.astype(npio::dtype::parse("<M8[as]")), npio::error);
}

// A U8 (or `dt`) array of the texts.
npio::array texts(const std::vector<std::string>& v, const char* dt = "<U8") {
  npio::array a(npio::dtype::parse(dt), {static_cast<std::int64_t>(v.size())});
  for (std::size_t i = 0; i < v.size(); ++i)
    a.set(v[i], static_cast<std::int64_t>(i));
  return a;
}

TEST(Astype, TextToNumbersAsNumpy) {
  ASSERT_TRUE(fs::exists(astype_dir() / "astype.txt")) << "run ctest -R golden first";
  EXPECT_GT(run_cases("SU"), 300u);
}

// Compares got with want field by field (padding bytes are NumPy's garbage).
void expect_same(const npio::array& got, const npio::array& want, const std::string& where,
                 std::size_t& wrong) {
  if (want.dtype().is_structured()) {
    for (const auto& f : want.dtype().fields())
      expect_same(got.field(f.name), want.field(f.name), where + "." + f.name, wrong);
    return;
  }
  const npio::array g = got.copy(), w = want.copy();
  ASSERT_EQ(g.dtype().str(), w.dtype().str()) << where;
  ASSERT_EQ(g.shape(), w.shape()) << where;
  const std::size_t n = w.dtype().itemsize();
  for (std::int64_t k = 0; k < w.size(); ++k)
    if (std::memcmp(g.data() + static_cast<std::size_t>(k) * n,
                    w.data() + static_cast<std::size_t>(k) * n, n) != 0 &&
        ++wrong <= 30)
      ADD_FAILURE() << where << ", element " << k << ": npio " << show(g, k) << ", NumPy "
                    << show(w, k);
}

TEST(Astype, StructuredAsNumpy) {
  std::ifstream in(astype_dir() / "struct.txt");
  ASSERT_TRUE(in) << "run ctest -R golden first";
  std::string line;
  std::size_t ran = 0, wrong = 0, values = 0;
  const npio::casting rules[] = {npio::casting::no, npio::casting::equiv, npio::casting::safe,
                                 npio::casting::same_kind, npio::casting::unsafe};
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string id, bits, what;
    ls >> id >> bits >> what;
    const auto stem = astype_dir() / ("struct_" + id);
    const npio::array src = npio::load(stem.string() + "_src.npy").array();
    npio::load_options with_objects; // an empty object array names the target |O
    with_objects.allow_pickle = true;
    const npio::dtype to = npio::load(stem.string() + "_to.npy", with_objects).array().dtype();
    const std::string pair = "case " + id + ": " + src.dtype().str() + " -> " + to.str();
    ++ran;
    for (std::size_t r = 0; r < 5; ++r) {
      EXPECT_EQ(npio::can_cast(src.dtype(), to, rules[r]), bits[r] == '1')
          << pair << " under " << npio::casting_name(rules[r]);
      if (bits[r] == '0') {
        EXPECT_THROW((void)src.astype(to, rules[r]), npio::error) << pair;
      }
    }
    if (what != "values") continue;
    ++values;
    const npio::array want = npio::load(stem.string() + "_dst.npy").array();
    npio::array got;
    try {
      got = src.astype(to);
    } catch (const npio::error& e) {
      ADD_FAILURE() << pair << ": " << e.what();
      continue;
    }
    EXPECT_EQ(got.dtype(), want.dtype()) << pair;
    expect_same(got, want, pair, wrong);
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(ran, 25u);
  EXPECT_GT(values, 20u);
}

TEST(Astype, TextToDatetimeAsNumpy) {
  // The golden cases (TextToNumbersAsNumpy runs them: S/U sources) hold no
  // 'today' or 'now', which read the clock: here, against the clock.
  const std::int64_t before = std::time(nullptr);
  const auto now = texts({"now", "NOW", "today"}).astype(npio::dtype::parse("<M8[s]"));
  const std::int64_t after = std::time(nullptr);
  EXPECT_GE(now.at<std::int64_t>(0), before);
  EXPECT_LE(now.at<std::int64_t>(1), after);
  std::tm local{};
  const std::time_t t = static_cast<std::time_t>(after);
  ASSERT_NE(::localtime_r(&t, &local), nullptr);
  // today: the local date, at midnight UTC
  const std::int64_t today = now.at<std::int64_t>(2);
  EXPECT_EQ(today % 86400, 0);
  EXPECT_LE(std::llabs(today - (after + local.tm_gmtoff)), 2 * 86400);
  // 'M8' takes the unit the texts give: days for today, seconds for now
  EXPECT_EQ(texts({"today"}).astype(npio::dtype::parse("<M8")).dtype().str(), "<M8[D]");
  EXPECT_EQ(texts({"today", "now"}).astype(npio::dtype::parse("<M8")).dtype().str(), "<M8[s]");
  EXPECT_EQ(texts({"NaT", ""}).astype(npio::dtype::parse("<M8")).dtype().str(), "<M8");
  // errors name the element and its text
  try {
    (void)texts({"2020-01-01", "2020-13-01"}, "<U16").astype(npio::dtype::parse("<M8[D]"));
    ADD_FAILURE() << "month 13 read";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("element 1 ('2020-13-01')"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)texts({"10 "}).astype(npio::dtype::parse("<m8[s]")), npio::error);
  // U text that is not ASCII (Arabic-Indic digits): refused, as NumPy refuses it
  try {
    (void)texts({"\u0662\u0660\u0662\u0660"}, "<U8").astype(npio::dtype::parse("<M8[Y]"));
    ADD_FAILURE() << "non-ASCII digits read";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("element 0 holds text that is not ASCII"),
              std::string::npos)
        << e.what();
  }
}

TEST(Astype, DatetimeTextExamples) {
  const auto ms = npio::dtype::parse("<M8[ms]");
  auto a = npio::array::from(std::vector<std::int64_t>{1577836801250, INT64_MIN, -65317536000000})
               .astype(ms);
  auto u = a.astype(npio::dtype::parse("<U"));
  EXPECT_EQ(u.dtype().str(), "<U42"); // NumPy's width for milliseconds
  EXPECT_EQ(u.at<std::string>(0), "2020-01-01T00:00:01.250");
  EXPECT_EQ(u.at<std::string>(1), "NaT");
  EXPECT_EQ(u.at<std::string>(2), "-100-03-04T00:00:00.000");
  // a text that does not fit is an error (NumPy's RuntimeError), not cut
  EXPECT_THROW((void)a.astype(npio::dtype::parse("S22")), npio::error);
  EXPECT_EQ(a.astype(npio::dtype::parse("S23")).at<std::string>(0), "2020-01-01T00:00:01.250");
  // never safe nor same_kind, as np.can_cast says
  EXPECT_THROW((void)a.astype(npio::dtype::parse("<U42"), npio::casting::same_kind), npio::error);

  const auto td = npio::dtype::parse("<m8[10s]");
  auto t = npio::array::from(std::vector<std::int64_t>{5, -1, INT64_MIN}).astype(td);
  auto ts = t.astype(npio::dtype::parse("S"));
  EXPECT_EQ(ts.dtype().str(), "|S21");
  EXPECT_EQ(ts.at<std::string>(0), "50 seconds");
  EXPECT_EQ(ts.at<std::string>(1), "-10 seconds");
  EXPECT_EQ(ts.at<std::string>(2), "NaT");
  EXPECT_EQ(t.astype(npio::dtype::parse("S3")).at<std::string>(0), "50 "); // cut, as NumPy
}

TEST(Astype, TextToNumberExamples) {
  auto a = texts({"1.5", " 2 ", "1_000", "-inf"});
  const auto f = a.astype<double>().to_vector<double>();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], 1.5);
  EXPECT_EQ(f[1], 2.0);
  EXPECT_EQ(f[2], 1000.0);
  EXPECT_TRUE(std::isinf(f[3]) && f[3] < 0);
  auto b = texts({"7"}, "S1");
  EXPECT_EQ(b.astype(npio::dtype::parse("<i4")).at<std::int32_t>(0), 7);
  EXPECT_EQ(texts({"300"}).astype<std::int8_t>().at<std::int8_t>(0),
            44); // wraps, as NumPy
  auto c = texts({"(1+2j)", "-j"}).astype<std::complex<double>>();
  EXPECT_EQ(c.at<std::complex<double>>(0), std::complex<double>(1, 2));
  EXPECT_EQ(c.at<std::complex<double>>(1), std::complex<double>(0, -1));
  // ValueError in NumPy: invalid_argument naming the element and its text
  auto bad = texts({"1", "2", "x1"});
  try {
    (void)bad.astype<double>();
    ADD_FAILURE() << "no error";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("element 2 ('x1')"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)texts({"1.5"}).astype<int>(), npio::error);
  // text to numbers is never safe nor same_kind
  EXPECT_THROW((void)a.astype<double>(npio::casting::same_kind), npio::error);
}

} // namespace
