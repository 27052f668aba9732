// Golden pickles made by CPython and NumPy at test time (tests/data/generate_pickles.py):
// every protocol 0-5 and value kind, NumPy arrays, dtypes and scalars, the
// legacy NumPy files, and hand-made Python 2 streams under every encoding.
#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <map>
#include <npio/io.hpp>
#include <npio/pickle.hpp>
#include <set>

namespace fs = std::filesystem;
using npio::errc;
using npio::py::value;
namespace py = npio::py;
namespace pk = npio::pickle;
using namespace pickle_test;

namespace {

// name.pN.pkl -> name
std::string case_name(const fs::path& p) {
  std::string s = p.filename().string();
  return s.substr(0, s.find('.'));
}

std::vector<fs::path> pickles() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(golden()))
    if (e.path().extension() == ".pkl") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Python's repr of an OrderedDict is not a dict's; compare those by value.
const std::map<std::string, value>& by_value() {
  static const std::map<std::string, value> m = {
      {"ordereddict", py::dict({{"z", 1}, {"a", 2}})},
  };
  return m;
}

} // namespace

TEST(PickleGolden, GeneratorRan) {
  ASSERT_TRUE(fs::exists(golden())) << "run the golden.generate_pickles fixture first";
  EXPECT_GT(pickles().size(), 300u);
}

TEST(PickleGolden, EveryProtocolAndKindMatchesPythonRepr) {
  std::size_t checked = 0;
  for (const auto& p : pickles()) {
    const std::string name = case_name(p);
    if (name.rfind("py2_", 0) == 0) continue;
    const fs::path repr_file = golden() / (p.stem().string() + ".repr");
    SCOPED_TRACE(p.filename().string());
    const auto bytes = read_bytes(p);
    value v;
    ASSERT_NO_THROW(v = pk::loads(bytes)) << p;
    if (by_value().count(name)) {
      EXPECT_EQ(v, by_value().at(name));
      ++checked;
    } else if (fs::exists(repr_file)) {
      EXPECT_EQ(v.repr(), read_text(repr_file));
      ++checked;
    }
  }
  EXPECT_GT(checked, 250u);
}

TEST(PickleGolden, ArraysScalarsAndDtypes) {
  std::size_t checked = 0;
  for (const auto& p : pickles()) {
    const std::string name = case_name(p);
    const fs::path tl = golden() / (name + ".tolist.repr");
    const fs::path descr = golden() / (name + ".descr");
    if (!fs::exists(tl) && !fs::exists(descr)) continue;
    SCOPED_TRACE(p.filename().string());
    value v;
    ASSERT_NO_THROW(v = pk::loads(read_bytes(p)));
    if (fs::exists(descr)) {
      ASSERT_TRUE(v.is_dtype()) << v.kind_name();
      EXPECT_EQ(v.dtype().descr(), read_text(descr));
      ++checked;
      continue;
    }
    if (v.is_scalar()) {
      npio::array none;
      const auto& raw = v.scalar_bytes();
      EXPECT_EQ(
          py::element_value(none, v.dtype(), reinterpret_cast<const std::byte*>(raw.data())).repr(),
          read_text(tl));
      ++checked;
      continue;
    }
    ASSERT_TRUE(v.is_ndarray()) << v.kind_name();
    EXPECT_EQ(py::tolist(v.array()).repr(), read_text(tl));
    const fs::path npy = golden() / (name + ".npy");
    if (fs::exists(npy)) {
      // NumPy unpickles in native byte order, except _frombuffer (protocol 5)
      // which keeps the dtype as written, and structured dtypes (byteorder
      // '|'), whose fields keep theirs.
      const npio::array want = npio::load(npy);
      const npio::array got = v.array();
      if (p.filename().string().find(".p5") == std::string::npos) {
        if (want.dtype().is_structured())
          EXPECT_EQ(got.dtype(), want.dtype()) << got.dtype().str();
        else
          EXPECT_TRUE(got.dtype().is_native()) << got.dtype().str();
      }
      EXPECT_EQ(got.dtype().to_native(), want.dtype().to_native())
          << got.dtype().str() << " vs " << want.dtype().str();
      EXPECT_TRUE(got.to_native().equal(want.to_native()));
    }
    ++checked;
  }
  EXPECT_GT(checked, 150u);
}

TEST(PickleGolden, LegacyNumpyFiles) {
  const fs::path dir = fs::path(NPIO_SHARED_DIR) / "data" / "numpy-legacy";
  const std::pair<const char*, npio::pickle_encoding> encs[] = {
      {"ASCII", npio::pickle_encoding::ascii},
      {"latin1", npio::pickle_encoding::latin1},
      {"bytes", npio::pickle_encoding::bytes}};
  std::size_t checked = 0;
  for (const char* f : {"py2-objarr.npy", "py2-np0-objarr.npy", "py3-objarr.npy"}) {
    for (const auto& [ename, enc] : encs) {
      SCOPED_TRACE(std::string(f) + " " + ename);
      npio::load_options o;
      o.allow_pickle = true;
      o.pickle.encoding = enc;
      const fs::path want_repr = golden() / ("legacy_" + std::string(f) + "." + ename + ".repr");
      const fs::path want_err = golden() / ("legacy_" + std::string(f) + "." + ename + ".err");
      if (std::string(f) == "py3-objarr.npy") {
        // NumPy 1.24 cannot read it (numpy._core); the content is documented.
        npio::array a = npio::load(dir / f, o);
        const value want =
            value{value(), value::global("builtins", "range"), value("\xe5\x84\xaa\xe8\x89\xaf"),
                  py::bytes("\xe4\xb8\x8d\xe8\x89\xaf")};
        EXPECT_EQ(py::tolist(a), want);
        ++checked;
      } else if (fs::exists(want_repr)) {
        npio::array a = npio::load(dir / f, o);
        EXPECT_EQ(py::tolist(a).repr(), read_text(want_repr));
        ++checked;
      } else {
        ASSERT_TRUE(fs::exists(want_err));
        try {
          (void)npio::load(dir / f, o);
          ADD_FAILURE() << "loaded, NumPy refuses: " << read_text(want_err);
        } catch (const npio::error& e) {
          EXPECT_EQ(e.code(), errc::pickle_encoding);
          EXPECT_EQ(e.detail(),
                    "Unpickling a python object failed: 'ascii' codec can't decode byte 0xe4 in "
                    "position 0: ordinal not in range(128)\nYou may need to pass the encoding= "
                    "option to numpy.load");
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 9u);
  // The npz holds the same member.
  npio::load_options o;
  o.allow_pickle = true;
  o.pickle.encoding = npio::pickle_encoding::latin1;
  EXPECT_THROW((void)npio::load(dir / "py2-objarr.npy"), npio::error); // allow_pickle off
  try {
    (void)npio::load(dir / "py2-objarr.npy");
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::pickle_disallowed);
    EXPECT_EQ(e.detail(), "Object arrays cannot be loaded when allow_pickle=False");
  }
}

TEST(PickleGolden, Python2StreamsUnderEveryEncoding) {
  const std::pair<const char*, npio::pickle_encoding> encs[] = {
      {"ASCII", npio::pickle_encoding::ascii},
      {"latin1", npio::pickle_encoding::latin1},
      {"bytes", npio::pickle_encoding::bytes}};
  std::size_t checked = 0;
  for (const auto& p : pickles()) {
    const std::string name = case_name(p);
    if (name.rfind("py2_", 0) != 0) continue;
    for (const auto& [ename, enc] : encs) {
      SCOPED_TRACE(name + " " + ename);
      pk::options o;
      o.encoding = enc;
      const fs::path want_repr = golden() / (name + "." + ename + ".repr");
      const fs::path want_err = golden() / (name + "." + ename + ".err");
      if (name == "py2_inst") {
        // OrderedDict() with attributes from BUILD (dropped): an empty dict.
        EXPECT_EQ(pk::loads(read_bytes(p), o), value::dict());
      } else if (fs::exists(want_repr)) {
        EXPECT_EQ(pk::loads(read_bytes(p), o).repr(), read_text(want_repr));
      } else {
        try {
          (void)pk::loads(read_bytes(p), o);
          ADD_FAILURE() << "loaded, Python refuses: " << read_text(want_err);
        } catch (const npio::error& e) {
          EXPECT_EQ(e.code(), errc::pickle_encoding);
          EXPECT_EQ("UnicodeDecodeError: " + e.detail(), read_text(want_err));
        }
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 33u);
}

TEST(PickleGolden, Protocol5InBandBuffers) {
  for (const char* name : {"arr_f8", "arr_fortran", "arr_i4_be"}) {
    SCOPED_TRACE(name);
    const value v = pk::loads(read_bytes(golden() / (std::string(name) + ".p5buf.pkl")));
    ASSERT_TRUE(v.is_ndarray());
    const npio::array want = npio::load(golden() / (std::string(name) + ".npy"));
    EXPECT_TRUE(v.array().equal(want)); // _frombuffer keeps the byte order
  }
}
