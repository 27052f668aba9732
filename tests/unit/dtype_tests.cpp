// The dtype model against NumPy: every spelling np.dtype accepts (or refuses)
// from dtypes.tsv, aligned and packed records from records.tsv, and the
// descr of every golden file parsed back and rendered again.

#include "golden_support.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <npio/npio.hpp>
#include <set>

namespace {

using namespace npio_test;
using npio::errc;

std::string unescape_spelling(const std::string& s) {
  if (s == "\\e") return "";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 's') {
      out += ' ';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST(Dtype, EverySpellingLikeNumpy) {
  const auto rows = read_tsv(golden_dir() / "dtypes.tsv");
  ASSERT_GT(rows.size(), 150u);
  failures fails;
  for (const auto& row : rows) {
    const std::string sp = unescape_spelling(row["spelling"]);
    const std::string label = "'" + sp + "'";
    fails.run(label, [&] {
      if (row["ok"] == "0") {
        const auto r = npio::capture([&] { return npio::dtype::parse(sp); });
        GOLDEN_CHECK(fails, label, !r.has_value(),
                     "NumPy refuses this spelling, npio accepted " +
                         (r.has_value() ? r.value().str() : ""));
        GOLDEN_CHECK_EQ(fails, label, std::string(npio::errc_name(r.code())),
                        std::string("bad_descr"));
        return;
      }
      const auto dt = npio::dtype::parse(sp);
      GOLDEN_CHECK_EQ(fails, label, dt.str(), row["str"]);
      GOLDEN_CHECK_EQ(fails, label, dt.descr(), row["descr"]);
      GOLDEN_CHECK_EQ(fails, label, std::to_string(dt.itemsize()), row["itemsize"]);
      GOLDEN_CHECK_EQ(fails, label, std::to_string(dt.alignment()), row["alignment"]);
      GOLDEN_CHECK_EQ(fails, label, std::string(1, dt.kind()), row["kind"]);
      // parse(str()) is the same dtype
      GOLDEN_CHECK(fails, label, npio::dtype::parse(dt.str()) == dt, "parse(str()) differs");
      GOLDEN_CHECK(fails, label, npio::dtype::from_descr(dt.descr()) == dt,
                   "from_descr(descr()) differs");
    });
  }
  fails.report();
}

TEST(Dtype, RecordsPackedAndAlignedLikeNumpy) {
  const auto rows = read_tsv(golden_dir() / "records.tsv");
  ASSERT_GT(rows.size(), 10u);
  std::map<std::string, npio::dtype> made;
  failures fails;
  for (const auto& row : rows) {
    fails.run(row.name(), [&] {
      std::vector<std::pair<std::string, npio::dtype>> fields;
      for (const auto& f : split(row["fields"], ';')) {
        const auto eq = f.find('=');
        const std::string name = f.substr(0, eq), type = f.substr(eq + 1);
        fields.emplace_back(name,
                            type[0] == '@' ? made.at(type.substr(1)) : npio::dtype::parse(type));
      }
      const auto dt = npio::dtype::record(fields, row["align"] == "1");
      made.emplace(row.name(), dt);
      GOLDEN_CHECK_EQ(fails, row.name(), std::to_string(dt.itemsize()), row["itemsize"]);
      GOLDEN_CHECK_EQ(fails, row.name(), std::to_string(dt.alignment()), row["alignment"]);
      GOLDEN_CHECK_EQ(fails, row.name(), dt.descr(), row["descr"]);
      GOLDEN_CHECK(fails, row.name(), dt.is_structured(), "record() is not structured");
      const auto offsets = split(row["offsets"], ',');
      GOLDEN_CHECK_EQ(fails, row.name(), dt.fields().size(), offsets.size());
      for (std::size_t i = 0; i < offsets.size(); ++i) {
        GOLDEN_CHECK_EQ(fails, row.name(), dt.fields()[i].name, fields[i].first);
        GOLDEN_CHECK_EQ(fails, row.name(), std::to_string(dt.fields()[i].offset), offsets[i]);
      }
      // the descr NumPy writes reads back to the same offsets (align flag lost)
      const auto back = npio::dtype::from_descr(row["descr"]);
      GOLDEN_CHECK_EQ(fails, row.name(), back.itemsize(), dt.itemsize());
      for (std::size_t i = 0; i < offsets.size(); ++i)
        GOLDEN_CHECK_EQ(fails, row.name(), std::to_string(back.fields()[i].offset), offsets[i]);
    });
  }
  fails.report();
}

TEST(Dtype, EveryGoldenDescrRoundTrips) {
  const auto rows = read_tsv(golden_dir() / "manifest.tsv");
  failures fails;
  std::set<std::string> seen;
  for (const auto& row : rows) {
    if (!seen.insert(row["descr"]).second) continue;
    fails.run(row.name(), [&] {
      const auto dt = npio::dtype::from_descr(row["descr"]);
      GOLDEN_CHECK_EQ(fails, row.name(), dt.descr(), row["descr"]);
      GOLDEN_CHECK_EQ(fails, row.name(), dt.str(), row["str"]);
      GOLDEN_CHECK_EQ(fails, row.name(), std::to_string(dt.itemsize()), row["itemsize"]);
      if (row["native_str"] != "-") {
        GOLDEN_CHECK_EQ(fails, row.name(), dt.to_native().str(), row["native_str"]);
        GOLDEN_CHECK(fails, row.name(), !dt.is_native(), "big-endian dtype claims to be native");
        GOLDEN_CHECK(fails, row.name(), dt.to_native().is_native(), "to_native() is not native");
        GOLDEN_CHECK(fails, row.name(), dt.to_native().with_order(npio::byte_order::big) == dt,
                     "with_order(big) does not restore it");
      }
    });
  }
  EXPECT_GT(seen.size(), 150u);
  fails.report();
}

TEST(Dtype, StructuredFromFieldsGivesNumpysDescr) {
  // np.dtype({'names': ['a', 'b'], 'formats': ['<i4', '<i4'], 'offsets': [1, 6]})
  // is golden "le_st_gaps"; with itemsize 24: "le_st_offsets".
  auto descr_of = [](const std::string& name) {
    for (const auto& r : read_tsv(golden_dir() / "manifest.tsv"))
      if (r["name"] == name) return r["descr"];
    throw std::runtime_error("no row " + name);
  };
  const auto i4 = npio::dtype::parse("<i4");
  const auto gaps =
      npio::dtype::structured({{"a", i4, 1, std::nullopt}, {"b", i4, 6, std::nullopt}});
  EXPECT_EQ(gaps.descr(), descr_of("le_st_gaps.1d"));
  EXPECT_EQ(gaps.itemsize(), 10u);
  const auto offs = npio::dtype::structured(
      {{"a", i4, 0, std::nullopt}, {"b", npio::dtype::parse("<f8"), 8, std::nullopt}}, 24);
  EXPECT_EQ(offs.descr(), descr_of("le_st_offsets.1d"));
  const auto titled = npio::dtype::structured({{"t", npio::dtype::parse("<f4"), 0, "Temperature"},
                                               {"i", npio::dtype::parse("<i8"), 4, "Index"}});
  EXPECT_EQ(titled.descr(), descr_of("le_st_titles.1d"));
  ASSERT_EQ(titled.fields().size(), 2u);
  EXPECT_EQ(titled.fields()[0].title, std::optional<std::string>("Temperature"));
  const auto nofields = npio::dtype::structured({}, 8);
  EXPECT_EQ(nofields.descr(), descr_of("le_st_nofields.1d"));
  EXPECT_EQ(nofields.itemsize(), 8u);
}

TEST(Dtype, OverlappingFieldsHaveNoDescr) {
  // np.dtype accepts overlapping and out-of-order fields, but dtype.descr (and
  // so np.save) refuses them: "dtype.descr is not defined for types with
  // overlapping or out-of-order fields".
  const auto i4 = npio::dtype::parse("<i4");
  for (auto f : std::vector<std::vector<npio::field>>{
           {{"a", i4, 0, std::nullopt}, {"b", i4, 2, std::nullopt}},
           {{"a", i4, 4, std::nullopt}, {"b", i4, 0, std::nullopt}}}) {
    const auto dt = npio::dtype::structured(f);
    EXPECT_EQ(dt.itemsize(), f[0].offset == 0 ? 6u : 8u);
    EXPECT_EQ(npio::capture([&] { return dt.descr(); }).code(), errc::bad_descr);
    npio::array a(dt, {2});
    EXPECT_EQ(npio::capture([&] { return npio::save_bytes(a); }).code(), errc::bad_descr);
  }
  // duplicate names, and fields beyond the itemsize, are refused outright
  EXPECT_EQ(
      npio::capture([&] {
        return npio::dtype::structured({{"a", i4, 0, std::nullopt}, {"a", i4, 4, std::nullopt}});
      }).code(),
      errc::bad_descr);
  EXPECT_EQ(npio::capture([&] {
              return npio::dtype::structured({{"a", i4, 6, std::nullopt}}, 8);
            }).code(),
            errc::bad_descr);
}

TEST(Dtype, ConstructorsMatchTheirSpellings) {
  using npio::byte_order;
  EXPECT_EQ(npio::dtype(), npio::dtype::parse("float64"));
  EXPECT_EQ(npio::dtype::make('f', 8, byte_order::big), npio::dtype::parse(">f8"));
  EXPECT_EQ(npio::dtype::make('b', 1), npio::dtype::parse("?"));
  EXPECT_EQ(npio::dtype::make('S', 3), npio::dtype::parse("S3"));
  EXPECT_EQ(npio::dtype::make('U', 12, byte_order::big), npio::dtype::parse(">U3"));
  EXPECT_EQ(npio::dtype::make('V', 7), npio::dtype::parse("V7"));
  EXPECT_EQ(npio::dtype::make('c', 32, byte_order::little), npio::dtype::parse("<c32"));
  EXPECT_EQ(npio::dtype::datetime('M', npio::time_unit::ns, 1, byte_order::little),
            npio::dtype::parse("<M8[ns]"));
  EXPECT_EQ(npio::dtype::datetime('m', npio::time_unit::s, 25, byte_order::big),
            npio::dtype::parse(">m8[25s]"));
  EXPECT_EQ(npio::dtype::datetime('M', npio::time_unit::generic, 1, byte_order::little),
            npio::dtype::parse("<M8"));
  const auto d = npio::dtype::parse("m8[7D]");
  EXPECT_EQ(d.unit(), npio::time_unit::D);
  EXPECT_EQ(d.unit_count(), 7);
  EXPECT_TRUE(d.is_datetime());
  EXPECT_EQ(npio::dtype::of<bool>(), npio::dtype::parse("|b1"));
  EXPECT_EQ(npio::dtype::of<std::int8_t>(), npio::dtype::parse("i1"));
  EXPECT_EQ(npio::dtype::of<std::uint16_t>(), npio::dtype::parse("=u2"));
  EXPECT_EQ(npio::dtype::of<npio::float16>(), npio::dtype::parse("e"));
  EXPECT_EQ(npio::dtype::of<float>(), npio::dtype::parse("f"));
  EXPECT_EQ(npio::dtype::of<long double>(), npio::dtype::parse("g"));
  EXPECT_EQ(npio::dtype::of<std::complex<double>>(), npio::dtype::parse("D"));
  EXPECT_EQ(npio::dtype::of<std::complex<long double>>(), npio::dtype::parse("G"));
  EXPECT_NE(npio::dtype::parse("<f8"), npio::dtype::parse(">f8"));
  EXPECT_NE(npio::dtype::parse("<M8[s]"), npio::dtype::parse("<M8[ms]"));
  EXPECT_NE(npio::dtype::parse("S3"), npio::dtype::parse("V3"));
  EXPECT_TRUE(npio::dtype::parse("|O8").is_object());
  const auto sub = npio::dtype::subarray(npio::dtype::parse(">f4"), {2, 3});
  EXPECT_TRUE(sub.is_subarray());
  EXPECT_EQ(sub.itemsize(), 24u);
  EXPECT_EQ(sub.base(), npio::dtype::parse(">f4"));
  EXPECT_EQ(sub.shape(), (std::vector<std::int64_t>{2, 3}));
  const auto withobj = npio::dtype::from_descr("[('a', '<i4'), ('b', [('c', '|O')])]");
  EXPECT_TRUE(withobj.has_object());
  EXPECT_FALSE(npio::dtype::parse("<f8").has_object());
}

TEST(Dtype, Float16ConvertsLikeIeee) {
  // IEEE 754 binary16 bit patterns (what NumPy's float16 stores)
  EXPECT_EQ(npio::float16(1.0f).bits, 0x3c00);
  EXPECT_EQ(npio::float16(-2.0f).bits, 0xc000);
  EXPECT_EQ(npio::float16(65504.0f).bits, 0x7bff);
  EXPECT_EQ(npio::float16(65520.0f).bits, 0x7c00);       // rounds to +inf
  EXPECT_EQ(npio::float16(5.9604645e-08f).bits, 0x0001); // smallest subnormal
  EXPECT_EQ(npio::float16(-0.0f).bits, 0x8000);
  npio::float16 h;
  h.bits = 0x3555;
  EXPECT_EQ(static_cast<float>(h), 0.333251953125f);
  h.bits = 0xfc00;
  EXPECT_EQ(static_cast<float>(h), -std::numeric_limits<float>::infinity());
  h.bits = 0x7e00;
  EXPECT_TRUE(std::isnan(static_cast<float>(h)));
}

TEST(Dtype, BadDescrLiterals) {
  for (const char* s : {"'x'", "[('a',)]", "[('a', '<f8', 'x')]", "[(1, '<f8')]",
                        "[('a', '<f8'), ('a', '<i4')]", "('<f8',)", "3", "'S-1'"}) {
    const auto r = npio::capture([&] { return npio::dtype::from_descr(s); });
    EXPECT_EQ(r.code(), errc::bad_descr) << s;
  }
  for (const char* s : {"'<f8", "[('a', '<f8'", "[('a' '<f8')]x"}) {
    const auto r = npio::capture([&] { return npio::dtype::from_descr(s); });
    EXPECT_EQ(r.code(), errc::header_syntax) << s;
  }
}

} // namespace
