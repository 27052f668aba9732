// npio::json (include/npio/json.hpp) and what it needs from the core library:
// text.hpp (float_repr, float16_from_double, base64), dtype walking by fields,
// and the issue #10 answers about '' fields, lone surrogates and nested
// subarrays. NumPy oracles for the same cases: tests/cli/test_json_component.py.

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <npio/atomic_writer.hpp>
#include <npio/json.hpp>
#include <npio/npio.hpp>
#include <npio/text.hpp>
#include <string>
#include <unistd.h>

namespace {

namespace js = npio::json;
using npio::dtype;

std::string text_of(const npio::array& a) {
  js::text_out out;
  js::write_data(out, a);
  return out.str();
}

TEST(JsonText, Base64MatchesRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    const auto bytes = std::as_bytes(std::span(plain, std::strlen(plain)));
    EXPECT_EQ(npio::base64_encode(bytes), coded);
    const auto back = npio::base64_decode(coded);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(back.data()), back.size()), plain);
  }
  for (const char* bad : {"Zg=", "Zg=a", "Zh==", "Z===", "Zm9v!A==", "=Zg="})
    EXPECT_THROW(npio::base64_decode(bad), npio::error) << bad;
}

TEST(JsonText, FloatReprIsShortestAtOwnPrecision) {
  EXPECT_EQ(npio::float_repr(1.0), "1.0");
  EXPECT_EQ(npio::float_repr(0.1f), "0.1");
  EXPECT_EQ(npio::float_repr(1e16), "1e+16");
  EXPECT_EQ(npio::float_repr(-0.0), "-0.0");
  EXPECT_EQ(npio::float_repr(1e-5), "1e-05");
  EXPECT_EQ(npio::float_repr(0.0001), "0.0001");
  EXPECT_EQ(npio::float_repr(0.1L), "0.1");
  EXPECT_EQ(npio::float_repr(npio::float16_from_double(0.1)), "0.1");
  EXPECT_EQ(npio::float_repr(npio::float16_from_double(65504.0)), "65500.0"); // as NumPy's Dragon4
  EXPECT_EQ(npio::float16_from_double(65520.0).bits, 0x7c00);                 // ties to inf
  EXPECT_EQ(npio::float16_from_double(0x1p-25).bits, 0);                      // ties to even
  // one rounding: float(x) then half would round this up twice
  EXPECT_EQ(npio::float16_from_double(1.0 + 0x1p-11 + 0x1p-40).bits, 0x3c01);
  EXPECT_EQ(npio::float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(npio::float_repr(std::nan("")), "nan");
}

TEST(JsonDtype, WalksFieldsLikeDescr) {
  const char* descrs[] = {
      "'<f8'",
      "[('a', '<i4'), ('', '<i4'), ('b', '<i4')]",
      "[('x', ([('a', '|i1'), ('', '|V3'), ('b', '|i1'), ('', '|V3')], (3,)), (4,))]",
      "[('x', [('a', '|i1'), ('', '|V3'), ('b', '|i1'), ('', '|V3')], (4, 3))]",
      "[(('title', 'n'), '>u2'), ('s', '|S3', (2,)), ('', '|V2')]",
      "[('b\\u2028', '<i2'), ('a\\x85', '|u1')]",
  };
  for (const char* d : descrs) {
    const dtype dt = dtype::from_descr(d);
    const auto j = js::dtype_to_json(dt);
    EXPECT_EQ(js::dtype_from_json(j), dt) << d << " -> " << js::dump(j);
  }
  EXPECT_EQ(js::dump(js::dtype_to_json(dtype::from_descr("[('b\\u2028', '<i2')]"))),
            "[[\"b\u2028\", \"<i2\"]]");
  EXPECT_EQ(js::dump(js::dtype_to_json(dtype::subarray(dtype::parse("<f8"), {2}))),
            "[\"<f8\", [2]]");
  // A field of a subarray of a subarray of a struct, as json writes it.
  const auto nested =
      js::parse(R"([["x", [[["a", "|i1"], ["", "|V3"], ["b", "|i1"], ["", "|V3"]], [3]], [4]]])");
  const dtype dt = js::dtype_from_json(*nested.root);
  ASSERT_EQ(dt.fields().size(), 1u);
  EXPECT_EQ(dt.itemsize(), 96u);
  EXPECT_EQ(dt.fields()[0].type.shape(), npio::shape_t{4});
  EXPECT_EQ(dt.fields()[0].type.base().shape(), npio::shape_t{3});
  for (const char* bad : {R"(5)", R"([["a"]])", R"([[1, "<i4"]])", R"(["<f8", [-1]])"}) {
    const auto d = js::parse(bad);
    EXPECT_THROW(js::dtype_from_json(*d.root), npio::error) << bad;
  }
}

TEST(JsonArray, EmptyNamedFieldThatIsNotVoidIsReal) {
  // test_format.py: np.dtype({'names': ['a', '', 'b'], 'formats': ['i4'] * 3})
  const dtype dt = dtype::from_descr("[('a', '<i4'), ('', '<i4'), ('b', '<i4')]");
  ASSERT_EQ(dt.fields().size(), 3u);
  npio::array a(dt, {2});
  for (std::int32_t i = 0; i < 6; ++i)
    std::memcpy(a.mutable_data() + 4 * i, &i, 4);
  // the core sees three values per element ...
  EXPECT_EQ(npio::py::tolist(a).repr(), "[(0, 1, 2), (3, 4, 5)]");
  EXPECT_EQ(a.field("").to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, 4}));
  const auto back = npio::load(npio::save_bytes(a)).array();
  EXPECT_EQ(npio::py::tolist(back).repr(), "[(0, 1, 2), (3, 4, 5)]");
  // ... and so does JSON, both ways
  EXPECT_EQ(text_of(a), "[[0, 1, 2], [3, 4, 5]]");
  const auto doc = js::parse(text_of(a));
  const auto again = js::array_from_json(dt, {2}, false, *doc.root);
  EXPECT_EQ(npio::save_bytes(again), npio::save_bytes(a));
}

TEST(JsonArray, LoneSurrogatesRoundTrip) {
  npio::array a(dtype::parse(">U3"), {1});
  const std::uint32_t cps[] = {0xD834, 'x', 0xDFFF};
  for (std::size_t k = 0; k < 3; ++k)
    npio::store_element(a.mutable_data() + 4 * k, cps[k], npio::needs_swap(a.dtype()));
  EXPECT_EQ(text_of(a), R"(["\ud834x\udfff"])");
  const auto doc = js::parse(text_of(a));
  const auto back = js::array_from_json(a.dtype(), {1}, false, *doc.root);
  EXPECT_EQ(npio::save_bytes(back), npio::save_bytes(a));
  npio::store_element(a.mutable_data(), std::uint32_t{0x110000}, true);
  EXPECT_THROW(text_of(a), npio::error);
}

TEST(JsonValue, RoundTripsThroughPythonValues) {
  const auto doc = js::parse(
      R"({"a": [1, 2.5, {"$tuple": [null, true]}], "b": {"$bytes": "AAE="},
          "c": {"$ndarray": {"dtype": "<f2", "shape": [2], "data": [0.1, {"$float": "inf"}]}},
          "d": {"$scalar": {"dtype": [["", "<i4"], ["n", "<i2"]], "value": [7, -1]}},
          "e": 123456789012345678901234567890})");
  const auto v = js::value_from_json(*doc.root, &doc.numbers);
  EXPECT_EQ(
      js::dump(js::value_to_json(v)),
      R"({"a": [1, 2.5, {"$tuple": [null, true]}], "b": {"$bytes": "AAE="}, )"
      R"("c": {"$ndarray": {"dtype": "<f2", "shape": [2], "data": [0.1, {"$float": "inf"}]}}, )"
      R"("d": {"$scalar": {"dtype": [["", "<i4"], ["n", "<i2"]], "value": [7, -1]}}, )"
      R"("e": 123456789012345678901234567890})");
  const auto obj = js::parse(R"({"$object": {"class": "x.Y", "args": [], "state": null}})");
  EXPECT_THROW(js::value_from_json(*obj.root), npio::error);
}

TEST(JsonFile, SaveDocumentWritesThroughASymlink) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("npio_json_tests_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    npio::atomic_writer w(dir / "target.npy");
    w.write(std::as_bytes(std::span("old", 3)));
    w.commit();
  }
  std::filesystem::create_symlink("target.npy", dir / "link");
  const auto doc = js::parse(R"({"dtype": "<i2", "shape": [2], "data": [5, 6]})");
  js::save_document(doc, dir / "link");
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link"));
  EXPECT_EQ(npio::load(dir / "target.npy").array().to_vector<std::int16_t>(),
            (std::vector<std::int16_t>{5, 6}));
  const auto bad = js::parse(R"({"dtype": "<i2", "shape": [2], "data": [5]})");
  EXPECT_THROW(js::save_document(bad, dir / "link"), npio::error);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            2);
  std::filesystem::remove_all(dir);
}

} // namespace

namespace {

// Every float16 below 2048 in magnitude, as a 0-d array, prints as NumPy prints it
// (tests/data/generate_float16_repr.py): the digits come from
// npio::float_sci, one search shared with the JSON writer (issue #10: a second
// float16 printer gave 0.015625 for NumPy's 0.01563).
TEST(Float16Repr, EveryHalfAsNumPy) {
  const auto dir = std::filesystem::path(NPIO_GOLDEN_DIR) / "float16_repr";
  const auto bits = npio::load(dir / "bits.npy").array().to_vector<std::uint16_t>();
  std::ifstream in(dir / "reprs.txt");
  std::size_t bad = 0;
  for (const auto b : bits) {
    std::string want;
    ASSERT_TRUE(std::getline(in, want));
    npio::array a(dtype::parse("<f2"), {});
    std::memcpy(a.mutable_data(), &b, 2);
    if (a.repr() != want && bad++ < 5) ADD_FAILURE() << b << ": " << a.repr() << " != " << want;
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(bits.size(), 2u * 26624u);
}

} // namespace
