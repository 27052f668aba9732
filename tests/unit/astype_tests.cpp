// astype's casts that npio writes itself, against NumPy 1.24 (issue 11 point 2):
// numbers to S/U text and datetime64/timedelta64 unit changes. The cases and
// NumPy's answers come from tests/data/generate_astype.py (ctest -R golden).
#include <cstring>
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
      if (std::memcmp(got.data() + static_cast<std::size_t>(k) * n,
                      want.data() + static_cast<std::size_t>(k) * n, n) != 0 &&
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

} // namespace
