// Golden files: every .npy that tests/data/generate.py made with real NumPy
// (every dtype x byte order x C/F/strided x shape class, versions 1.0/2.0/3.0
// and legacy headers) must load to what NumPy saw and save byte-identically to
// np.save. The manifest (manifest.tsv) is the oracle; see docs/testing.md.

#include "golden_support.hpp"

#include <complex>
#include <cstring>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <sstream>

namespace {

using namespace npio_test;

struct golden_row {
  std::string name, file, group, version, descr, str, native_str, base, ops;
  std::size_t itemsize = 0;
  npio::shape_t shape;
  bool fortran = false;
  std::uint64_t data_offset = 0;
  std::string bin, native_bin, save;
  std::size_t max_header = 0;

  fs::path path() const { return golden_dir() / file; }
  npio::load_options options(npio::mmap_mode m = npio::mmap_mode::none) const {
    npio::load_options o;
    o.max_header_size = std::max<std::size_t>(10000, max_header);
    o.mmap_mode = m;
    return o;
  }
  bytes expected_bin() const { return read_file(golden_dir() / bin); }
  bytes expected_native() const {
    return read_file(golden_dir() / (native_bin == "-" ? bin : native_bin));
  }
  bool has_save() const { return save != "-"; }
  bytes expected_save() const { return read_file(golden_dir() / save); }
  bool is_legacy() const { return group == "legacy"; }
};

const std::vector<golden_row>& manifest() {
  static const std::vector<golden_row> rows = [] {
    std::vector<golden_row> out;
    for (const auto& r : read_tsv(golden_dir() / "manifest.tsv")) {
      golden_row g;
      g.name = r["name"];
      g.file = r["file"];
      g.group = r["group"];
      g.version = r["version"];
      g.descr = r["descr"];
      g.str = r["str"];
      g.itemsize = std::stoul(r["itemsize"]);
      g.shape = parse_shape(r["shape"]);
      g.fortran = r["fortran"] == "1";
      g.data_offset = std::stoull(r["data_offset"]);
      g.bin = r["bin"];
      g.native_bin = r["native_bin"];
      g.native_str = r["native_str"];
      g.save = r["save"];
      g.base = r["base"];
      g.ops = r["ops"];
      g.max_header = std::stoul(r["max_header"]);
      out.push_back(std::move(g));
    }
    return out;
  }();
  return rows;
}

const golden_row& row_named(const std::string& name) {
  for (const auto& r : manifest())
    if (r.name == name) return r;
  throw std::runtime_error("no golden row " + name);
}

std::int64_t product(const npio::shape_t& s) {
  std::int64_t n = 1;
  for (auto d : s)
    n *= d;
  return n;
}

/// Applies generate.py's view operations to an array: "T" transpose, "i2"
/// a[2], "s1:0:6:2" a[:, 0:6:2], "r3:16" reshape, "fname" a['name'].
npio::array apply_ops(npio::array a, const std::string& ops) {
  for (const auto& op : split(ops, ',')) {
    if (op[0] == 'f') {
      a = a.field(op.substr(1));
    } else if (op[0] == 'r') {
      npio::shape_t s;
      for (const auto& d : split(op.substr(1), ':'))
        s.push_back(std::stoll(d));
      a = a.reshape(s);
    } else if (op == "T") {
      a = a.transpose();
    } else if (op[0] == 'i') {
      a = a[std::stoll(op.substr(1))];
    } else if (op[0] == 's') {
      const auto parts = split(op.substr(1), ':');
      a = a.slice(std::stoul(parts[0]), std::stoll(parts[1]), std::stoll(parts[2]),
                  std::stoll(parts[3]));
    } else {
      throw std::runtime_error("unknown view op " + op);
    }
  }
  return a;
}

/// Byte comparison that ignores the 6 unused bytes of x87 long doubles
/// ('f16' and the halves of 'c32'), whose content NumPy does not define.
std::string compare_elements(const npio::dtype& dt, std::span<const std::byte> got,
                             std::span<const std::byte> want) {
  const bool ld =
      (dt.kind() == 'f' && dt.itemsize() == 16) || (dt.kind() == 'c' && dt.itemsize() == 32);
  if (!ld || got.size() != want.size()) return first_difference(got, want);
  const bool big = dt.order() == npio::byte_order::big;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::size_t in = i % 16;
    const bool used = big ? in >= 6 : in < 10;
    if (used && got[i] != want[i]) return "long double bytes differ at byte " + std::to_string(i);
  }
  return {};
}

template <class F>
void for_each_row(F&& f, const std::function<bool(const golden_row&)>& pick = {}) {
  failures fails;
  for (const auto& row : manifest()) {
    if (pick && !pick(row)) continue;
    fails.run(row.name, [&] { f(row, fails); });
  }
  EXPECT_GT(fails.rows(), 0u);
  fails.report();
}

// ---- the manifest itself ---------------------------------------------------

TEST(Golden, ManifestCoversTheMatrix) {
  const auto& rows = manifest();
  ASSERT_GE(rows.size(), 2000u) << "generate.py wrote too few files";
  std::map<std::string, int> groups, versions;
  int fortran = 0, zero_d = 0, empty = 0, big_endian = 0;
  for (const auto& r : rows) {
    ++groups[r.group];
    ++versions[r.version];
    fortran += r.fortran;
    zero_d += r.shape.empty();
    empty += !r.shape.empty() && product(r.shape) == 0;
    big_endian += r.str[0] == '>';
  }
  for (const char* g : {"scalar", "struct", "view", "version", "legacy"})
    EXPECT_GT(groups[g], 0) << g;
  for (const char* v : {"1.0", "2.0", "3.0"})
    EXPECT_GT(versions[v], 0) << v;
  EXPECT_GT(fortran, 100);
  EXPECT_GT(zero_d, 100);
  EXPECT_GT(empty, 100);
  EXPECT_GT(big_endian, 300);
}

// ---- reading ----------------------------------------------------------------

TEST(Golden, ReadHeaderMatchesNumpy) {
  for_each_row([](const golden_row& row, failures& fails) {
    const auto file = read_file(row.path());
    const auto h = npio::read_header(file, row.options().max_header_size);
    const std::string version =
        std::to_string(h.version.major) + "." + std::to_string(h.version.minor);
    GOLDEN_CHECK_EQ(fails, row.name, version, row.version);
    GOLDEN_CHECK_EQ(fails, row.name, h.dtype.descr(), row.descr);
    GOLDEN_CHECK_EQ(fails, row.name, h.dtype.str(), row.str);
    GOLDEN_CHECK_EQ(fails, row.name, h.dtype.itemsize(), row.itemsize);
    GOLDEN_CHECK_EQ(fails, row.name, shape_string(h.shape), shape_string(row.shape));
    GOLDEN_CHECK_EQ(fails, row.name, h.fortran_order, row.fortran);
    GOLDEN_CHECK_EQ(fails, row.name, h.data_offset, row.data_offset);
    GOLDEN_CHECK_EQ(fails, row.name, h.data_size,
                    static_cast<std::uint64_t>(product(row.shape)) * row.itemsize);
  });
}

TEST(Golden, LoadEqualsNumpy) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().descr(), row.descr);
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().str(), row.str);
    GOLDEN_CHECK_EQ(fails, row.name, shape_string(a.shape()), shape_string(row.shape));
    GOLDEN_CHECK_EQ(fails, row.name, a.size(), product(row.shape));
    GOLDEN_CHECK_EQ(fails, row.name, a.nbytes(),
                    static_cast<std::size_t>(product(row.shape)) * row.itemsize);
    if (row.fortran)
      GOLDEN_CHECK(fails, row.name, a.is_f_contiguous(), "Fortran file, array not F-contiguous");
    if (!row.fortran)
      GOLDEN_CHECK(fails, row.name, a.is_c_contiguous(), "C file, array not C-contiguous");
    GOLDEN_CHECK(fails, row.name, a.writeable(), "a loaded (not mapped) array is writeable");
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(npio::order::c), row.expected_bin(),
                       "tobytes(c)");
  });
}

TEST(Golden, FileDataIsTobytesInFileOrder) {
  // The bytes after the header are tobytes(F) for Fortran files, tobytes(C) otherwise.
  for_each_row([](const golden_row& row, failures& fails) {
    const auto file = read_file(row.path());
    npio::array a = npio::load(row.path(), row.options());
    const std::size_t n = a.nbytes();
    GOLDEN_CHECK(fails, row.name, file.size() >= row.data_offset + n, "file shorter than its data");
    const std::span<const std::byte> data(file.data() + row.data_offset, n);
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(row.fortran ? npio::order::f : npio::order::c),
                       data, "tobytes(file order)");
  });
}

TEST(Golden, LoadFromBytesAndTryLoad) {
  for_each_row([](const golden_row& row, failures& fails) {
    const auto file = read_file(row.path());
    npio::array a = npio::load(std::span<const std::byte>(file), row.options());
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().descr(), row.descr);
    GOLDEN_CHECK_EQ(fails, row.name, shape_string(a.shape()), shape_string(row.shape));
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(), row.expected_bin(), "load(bytes)");
    auto r = npio::try_load(std::span<const std::byte>(file), row.options());
    GOLDEN_CHECK(fails, row.name, r.has_value(), "try_load(bytes) failed");
    GOLDEN_CHECK_BYTES(fails, row.name, r->array().tobytes(), row.expected_bin(),
                       "try_load(bytes)");
    auto rp = npio::try_load(row.path(), row.options());
    GOLDEN_CHECK(fails, row.name, rp.has_value(), "try_load(path) failed");
    GOLDEN_CHECK_BYTES(fails, row.name, rp->array().tobytes(), row.expected_bin(),
                       "try_load(path)");
  });
}

TEST(Golden, LoadFromStreamAtItsPosition) {
  for_each_row([](const golden_row& row, failures& fails) {
    const auto file = read_file(row.path());
    std::istringstream in("prefix!" + to_string(file), std::ios::binary);
    in.seekg(7);
    npio::array a = npio::load(in, row.options());
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().descr(), row.descr);
    GOLDEN_CHECK_EQ(fails, row.name, shape_string(a.shape()), shape_string(row.shape));
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(), row.expected_bin(), "load(stream)");
  });
}

TEST(Golden, StreamHoldsConsecutiveArrays) {
  // np.save appends to an open file and np.load reads them back one by one
  // (numpy test_load_multiple_arrays_until_eof): load(stream) must stop at
  // the end of the data.
  const auto& a = row_named("le_f8.2f");
  const auto& b = row_named("be_st_nested.3c");
  const auto& c = row_named("le_M8_ns.0d");
  std::string all;
  for (const auto* r : {&a, &b, &c})
    all += to_string(read_file(r->path()));
  std::istringstream in(all, std::ios::binary);
  for (const auto* r : {&a, &b, &c}) {
    npio::array x = npio::load(in);
    EXPECT_EQ(x.dtype().descr(), r->descr);
    EXPECT_EQ(first_difference(x.tobytes(), r->expected_bin()), "") << r->name;
  }
}

TEST(Golden, MmapReadOnly) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options(npio::mmap_mode::r));
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().descr(), row.descr);
    GOLDEN_CHECK_EQ(fails, row.name, shape_string(a.shape()), shape_string(row.shape));
    GOLDEN_CHECK(fails, row.name, !a.writeable(), "mmap_mode r must be read-only");
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(), row.expected_bin(), "mmap r");
  });
}

TEST(Golden, MmapCopyOnWrite) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options(npio::mmap_mode::c));
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().descr(), row.descr);
    GOLDEN_CHECK_EQ(fails, row.name, shape_string(a.shape()), shape_string(row.shape));
    GOLDEN_CHECK(fails, row.name, a.writeable(), "mmap_mode c must be writeable");
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(), row.expected_bin(), "mmap c");
  });
}

TEST(Golden, OpenMemmapReadOnly) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::open_memmap(
        row.path(), {.mode = npio::mmap_mode::r, .max_header_size = row.options().max_header_size});
    GOLDEN_CHECK_EQ(fails, row.name, a.dtype().descr(), row.descr);
    GOLDEN_CHECK_BYTES(fails, row.name, a.tobytes(), row.expected_bin(), "open_memmap r");
  });
}

// ---- writing ----------------------------------------------------------------

TEST(Golden, SaveBytesIdenticalToNumpy) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    GOLDEN_CHECK_BYTES(fails, row.name, npio::save_bytes(a), row.expected_save(), "save_bytes");
  });
}

TEST(Golden, SaveOfMappedArrayIdenticalToNumpy) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options(npio::mmap_mode::r));
    GOLDEN_CHECK_BYTES(fails, row.name, npio::save_bytes(a), row.expected_save(),
                       "save_bytes(mmap r)");
  });
}

TEST(Golden, FormatHeaderIdenticalToNumpy) {
  for_each_row([](const golden_row& row, failures& fails) {
    const auto want = row.expected_save();
    const auto h = npio::read_header(want, row.options().max_header_size);
    const std::string got = npio::format_header(h.dtype, h.shape, h.fortran_order);
    GOLDEN_CHECK_EQ(fails, row.name, got.size(), static_cast<std::size_t>(h.data_offset));
    GOLDEN_CHECK_BYTES(fails, row.name, to_bytes(got),
                       std::span<const std::byte>(want.data(), h.data_offset), "format_header");
    GOLDEN_CHECK_EQ(fails, row.name, got.size() % 64, 0u);
  });
}

TEST(Golden, ExplicitVersionLikeWriteArray) {
  // np.lib.format.write_array(f, a, version=(2, 0)) etc.: save_options.version
  for_each_row(
      [](const golden_row& row, failures& fails) {
        npio::array a = npio::load(row.path());
        npio::save_options o;
        o.version = npio::format_version{static_cast<std::uint8_t>(row.version[0] - '0'), 0};
        GOLDEN_CHECK_BYTES(fails, row.name, npio::save_bytes(a, o), read_file(row.path()),
                           "save_bytes(version)");
        const auto h = npio::read_header(read_file(row.path()));
        GOLDEN_CHECK_BYTES(
            fails, row.name,
            to_bytes(npio::format_header(h.dtype, h.shape, h.fortran_order, o.version)),
            std::span<const std::byte>(read_file(row.path())).first(h.data_offset),
            "format_header(version)");
      },
      [](const golden_row& r) { return r.name.rfind("forced_", 0) == 0; });
  // NumPy refuses a version the header does not fit: 1.0 for a 77 kB header
  // ("Header length 77... too big for version=(1, 0)") and 1.0 or 2.0 for a
  // non-latin1 field name.
  npio::load_options lift;
  lift.max_header_size = 200000;
  npio::array big = npio::load(row_named("v2_many_fields").path(), lift);
  npio::array utf8 = npio::load(row_named("forced_v3_utf8").path());
  for (auto [arr, ver] : std::initializer_list<std::pair<const npio::array*, npio::format_version>>{
           {&big, {1, 0}}, {&utf8, {1, 0}}, {&utf8, {2, 0}}}) {
    npio::save_options o;
    o.version = ver;
    const auto r = npio::capture([&, a = arr] { return npio::save_bytes(*a, o); });
    EXPECT_EQ(r.code(), npio::errc::invalid_argument) << int(ver.major);
  }
  // numpy test_write_version: versions that do not exist
  npio::array small = npio::load(row_named("le_f8.1d").path());
  for (auto ver : std::initializer_list<npio::format_version>{
           {1, 1}, {0, 0}, {0, 1}, {2, 2}, {255, 255}, {4, 0}}) {
    npio::save_options o;
    o.version = ver;
    EXPECT_EQ(npio::capture([&] { return npio::save_bytes(small, o); }).code(),
              npio::errc::invalid_argument)
        << int(ver.major) << "." << int(ver.minor);
    EXPECT_EQ(npio::capture([&] {
                return npio::format_header(small.dtype(), small.shape(), false, ver);
              }).code(),
              npio::errc::invalid_argument);
  }
}

TEST(Golden, SaveToStreamIdenticalToNumpy) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    std::ostringstream out(std::ios::binary);
    out << "head";
    npio::save(out, a);
    const std::string s = out.str();
    GOLDEN_CHECK(fails, row.name, s.rfind("head", 0) == 0,
                 "save(stream) must write at the position");
    GOLDEN_CHECK_BYTES(fails, row.name, to_bytes(s.substr(4)), row.expected_save(), "save(stream)");
  });
}

TEST(Golden, SaveToPathIdenticalToNumpy) {
  temp_dir dir;
  std::size_t i = 0;
  for_each_row([&](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    // np.save appends ".npy" when missing
    const auto stem = dir / ("f" + std::to_string(i++));
    npio::save(stem, a);
    GOLDEN_CHECK(fails, row.name, fs::exists(fs::path(stem.string() + ".npy")),
                 "save did not append .npy");
    GOLDEN_CHECK_BYTES(fails, row.name, read_file(stem.string() + ".npy"), row.expected_save(),
                       "save(path)");
    fs::remove(stem.string() + ".npy");
  });
  EXPECT_TRUE(dir.entries().empty()) << "stray files after saves";
}

TEST(Golden, NpyPathAppendsLikeNpSave) {
  // np.save: `if not file.endswith('.npy'): file = file + '.npy'` (case-sensitive)
  EXPECT_EQ(npio::npy_path("a"), fs::path("a.npy"));
  EXPECT_EQ(npio::npy_path("dir/a.npy"), fs::path("dir/a.npy"));
  EXPECT_EQ(npio::npy_path("a.npz"), fs::path("a.npz.npy"));
  EXPECT_EQ(npio::npy_path("a.NPY"), fs::path("a.NPY.npy"));
  EXPECT_EQ(npio::npy_path("a.npy.bak"), fs::path("a.npy.bak.npy"));
  temp_dir dir;
  npio::save(dir / "x.npz", npio::load(row_named("le_f8.1d").path()));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"x.npz.npy"});
}

TEST(Golden, SavingViewsWritesLikeNumpy) {
  // The view files were saved by NumPy from views of "<dtype>.base"; rebuilding
  // the same view with npio and saving it must give the same bytes (C order for
  // strided views, Fortran order only for F- and not C-contiguous ones).
  for_each_row(
      [](const golden_row& row, failures& fails) {
        npio::array base = npio::load(row_named(row.base).path());
        npio::array v = apply_ops(base, row.ops);
        GOLDEN_CHECK_EQ(fails, row.name, shape_string(v.shape()), shape_string(row.shape));
        GOLDEN_CHECK_EQ(fails, row.name, v.dtype().descr(), row.descr);
        GOLDEN_CHECK_BYTES(fails, row.name, v.tobytes(), row.expected_bin(), "view tobytes");
        GOLDEN_CHECK_BYTES(fails, row.name, npio::save_bytes(v), read_file(row.path()),
                           "save_bytes(view)");
        npio::array mapped = apply_ops(
            npio::load(row_named(row.base).path(), row.options(npio::mmap_mode::r)), row.ops);
        GOLDEN_CHECK_BYTES(fails, row.name, npio::save_bytes(mapped), read_file(row.path()),
                           "save_bytes(view of mapping)");
      },
      [](const golden_row& r) { return r.base != "-"; });
}

TEST(Golden, CopiesInBothOrders) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    const auto want = row.expected_bin();
    npio::array c = a.copy(npio::order::c);
    npio::array f = a.copy(npio::order::f);
    GOLDEN_CHECK(fails, row.name, c.is_c_contiguous() && f.is_f_contiguous(), "copy order");
    GOLDEN_CHECK_BYTES(fails, row.name, c.tobytes(), want, "copy(c)");
    GOLDEN_CHECK_BYTES(fails, row.name, f.tobytes(), want, "copy(f)");
    GOLDEN_CHECK(fails, row.name, a.equal(c) && c.equal(f) && f.equal(a), "equal() after copies");
    // An F copy of a Fortran file saves as the same file.
    if (row.fortran && !row.is_legacy())
      GOLDEN_CHECK_BYTES(fails, row.name, npio::save_bytes(f), row.expected_save(),
                         "save(copy(f))");
  });
}

// ---- byte order and conversion ---------------------------------------------

TEST(Golden, ToNativeMatchesByteswap) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    npio::array n = a.to_native();
    GOLDEN_CHECK(fails, row.name, n.dtype().is_native(), "to_native() is not native");
    if (row.native_bin == "-") {
      GOLDEN_CHECK_EQ(fails, row.name, n.dtype().str(), row.str);
      GOLDEN_CHECK(fails, row.name, n.data() == a.data(),
                   "to_native() of a native array must not copy");
      return;
    }
    GOLDEN_CHECK_EQ(fails, row.name, n.dtype().str(), row.native_str);
    GOLDEN_CHECK_BYTES(fails, row.name, n.tobytes(), row.expected_native(), "to_native");
    // and back: astype to the file's dtype restores the file's bytes
    npio::array back = n.astype(a.dtype());
    GOLDEN_CHECK_EQ(fails, row.name, back.dtype().descr(), row.descr);
    GOLDEN_CHECK(fails, row.name, back.equal(a), "astype(original) after to_native differs");
    GOLDEN_CHECK_EQ(fails, row.name,
                    compare_elements(a.dtype(), back.tobytes(), row.expected_bin()), std::string());
  });
}

TEST(Golden, AstypeToSameDtypeIsIdentity) {
  for_each_row([](const golden_row& row, failures& fails) {
    npio::array a = npio::load(row.path(), row.options());
    npio::array b = a.astype(a.dtype());
    GOLDEN_CHECK_EQ(fails, row.name, b.dtype().descr(), row.descr);
    GOLDEN_CHECK_BYTES(fails, row.name, b.tobytes(), row.expected_bin(), "astype(same)");
  });
}

// ---- typed access -------------------------------------------------------------

using index5 = std::array<std::int64_t, 5>;

/// a.at<T>(i0, ..., i{nd-1}) for a runtime rank up to 5.
template <class T> T at_n(const npio::array& a, std::size_t nd, const index5& i) {
  switch (nd) {
  case 0:
    return a.at<T>();
  case 1:
    return a.at<T>(i[0]);
  case 2:
    return a.at<T>(i[0], i[1]);
  case 3:
    return a.at<T>(i[0], i[1], i[2]);
  case 4:
    return a.at<T>(i[0], i[1], i[2], i[3]);
  case 5:
    return a.at<T>(i[0], i[1], i[2], i[3], i[4]);
  default:
    throw std::runtime_error("rank");
  }
}

template <class T> void set_n(npio::array& a, T v, std::size_t nd, const index5& i) {
  switch (nd) {
  case 0:
    return a.set<T>(v);
  case 1:
    return a.set<T>(v, i[0]);
  case 2:
    return a.set<T>(v, i[0], i[1]);
  case 3:
    return a.set<T>(v, i[0], i[1], i[2]);
  case 4:
    return a.set<T>(v, i[0], i[1], i[2], i[3]);
  case 5:
    return a.set<T>(v, i[0], i[1], i[2], i[3], i[4]);
  default:
    throw std::runtime_error("rank");
  }
}

template <class T>
std::string check_typed(const npio::array& a, std::span<const std::byte> native) {
  const auto n = static_cast<std::size_t>(a.size());
  if (native.size() != n * sizeof(T)) return "native data size";
  const npio::shape_t& s = a.shape();
  const std::size_t nd = s.size();
  index5 idx{};
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t rest = k;
    for (std::size_t d = nd; d-- > 0;) {
      idx[d] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(s[d]));
      rest /= static_cast<std::size_t>(s[d]);
    }
    T v{};
    v = at_n<T>(a, nd, idx);
    std::byte got[sizeof(T)];
    std::memcpy(got, &v, sizeof(T));
    if constexpr (std::is_same_v<T, bool>)
      got[0] = std::byte{static_cast<unsigned char>(v ? 1 : 0)};
    std::size_t cmp = sizeof(T);
    if constexpr (std::is_same_v<T, long double>) cmp = 10;
    bool same = std::memcmp(got, native.data() + k * sizeof(T), cmp) == 0;
    if constexpr (std::is_same_v<T, std::complex<long double>>)
      same = std::memcmp(got, native.data() + k * sizeof(T), 10) == 0 &&
             std::memcmp(got + 16, native.data() + k * sizeof(T) + 16, 10) == 0;
    if (!same) return "at<T> differs at flat index " + std::to_string(k);
  }
  // item<T>() of a size-1 array, and set<T>() of every element into a zeroed array
  if (n == 1) {
    T v = a.item<T>();
    const T w = at_n<T>(a, nd, index5{});
    if (std::memcmp(&v, &w, std::is_same_v<T, long double> ? 10 : sizeof(T)) != 0 &&
        !std::is_same_v<T, std::complex<long double>>)
      return "item<T>() differs from at<T>()";
  }
  npio::array z(a.dtype(), a.shape());
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t rest = k;
    for (std::size_t d = nd; d-- > 0;) {
      idx[d] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(s[d]));
      rest /= static_cast<std::size_t>(s[d]);
    }
    T v{};
    std::memcpy(&v, native.data() + k * sizeof(T), sizeof(T));
    if constexpr (std::is_same_v<T, bool>) v = native[k] != std::byte{0};
    set_n<T>(z, v, nd, idx);
  }
  const std::string d = compare_elements(a.dtype(), z.tobytes(), a.tobytes());
  if (!d.empty()) return "set<T> into a zeroed array: " + d;
  return {};
}

std::string check_typed_any(const npio::array& a, std::span<const std::byte> native) {
  const auto& dt = a.dtype();
  const std::size_t sz = dt.itemsize();
  switch (dt.kind()) {
  case 'b':
    return check_typed<bool>(a, native);
  case 'i':
    if (sz == 1) return check_typed<std::int8_t>(a, native);
    if (sz == 2) return check_typed<std::int16_t>(a, native);
    if (sz == 4) return check_typed<std::int32_t>(a, native);
    return check_typed<std::int64_t>(a, native);
  case 'u':
    if (sz == 1) return check_typed<std::uint8_t>(a, native);
    if (sz == 2) return check_typed<std::uint16_t>(a, native);
    if (sz == 4) return check_typed<std::uint32_t>(a, native);
    return check_typed<std::uint64_t>(a, native);
  case 'f':
    if (sz == 2) return check_typed<npio::float16>(a, native);
    if (sz == 4) return check_typed<float>(a, native);
    if (sz == 8) return check_typed<double>(a, native);
    return check_typed<long double>(a, native);
  case 'c':
    if (sz == 8) return check_typed<std::complex<float>>(a, native);
    if (sz == 16) return check_typed<std::complex<double>>(a, native);
    return check_typed<std::complex<long double>>(a, native);
  case 'M':
  case 'm':
    return check_typed<std::int64_t>(a, native);
  default:
    return {};
  }
}

bool typed_kind(const golden_row& r) {
  return r.str.size() > 1 && std::string("biufcMm").find(r.str[1]) != std::string::npos &&
         r.shape.size() <= 5;
}

TEST(Golden, TypedAccessMatchesNumpyValues) {
  for_each_row(
      [](const golden_row& row, failures& fails) {
        npio::array a = npio::load(row.path(), row.options());
        const auto native = row.expected_native();
        GOLDEN_CHECK_EQ(fails, row.name, check_typed_any(a, native), std::string());
      },
      typed_kind);
}

TEST(Golden, TypedAccessOnMappedAndMisalignedData) {
  // Mapped files put the data wherever the header ends: legacy files without
  // padding give misaligned elements, which at<T>() must still read.
  for_each_row(
      [](const golden_row& row, failures& fails) {
        npio::array a = npio::load(row.path(), row.options(npio::mmap_mode::c));
        const auto native = row.expected_native();
        GOLDEN_CHECK_EQ(fails, row.name, check_typed_any(a, native), std::string());
      },
      [](const golden_row& r) {
        return typed_kind(r) && (r.is_legacy() || r.name.find(".2f") != std::string::npos);
      });
  npio::array m =
      npio::load(row_named("legacy_misaligned_f8").path(), {.mmap_mode = npio::mmap_mode::r});
  EXPECT_FALSE(m.is_aligned());
  EXPECT_EQ(m.at<double>(0), -2.25);
  EXPECT_EQ(m.at<double>(4), 1.75);
  EXPECT_EQ(m.at<double>(-1), 1.75);
  try {
    (void)m.view<double>();
    ADD_FAILURE() << "view<double>() of misaligned data must throw";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::misaligned);
  }
  npio::array be =
      npio::load(row_named("legacy_misaligned_be_i4").path(), {.mmap_mode = npio::mmap_mode::r});
  EXPECT_EQ(be.at<std::int32_t>(1, 2), 5);
  EXPECT_EQ(be.to_native().view<std::int32_t>()[4], 4);
}

TEST(Golden, CopyOnWriteLeavesTheFileAlone) {
  temp_dir dir;
  const auto p = dir / "x.npy";
  fs::copy_file(row_named("le_f8.2c").path(), p);
  const auto before = read_file(p);
  {
    npio::array a = npio::load(p, {.mmap_mode = npio::mmap_mode::c});
    a.set<double>(42.5, 1, 2);
    EXPECT_EQ(a.at<double>(1, 2), 42.5);
  }
  EXPECT_EQ(first_difference(read_file(p), before), "");
  {
    npio::array a = npio::load(p, {.mmap_mode = npio::mmap_mode::r_plus});
    EXPECT_TRUE(a.writeable());
    a.set<double>(42.5, 1, 2);
  }
  npio::array b = npio::load(p);
  EXPECT_EQ(b.at<double>(1, 2), 42.5);
  npio::array r = npio::load(p, {.mmap_mode = npio::mmap_mode::r});
  try {
    r.set<double>(1.0, 0, 0);
    ADD_FAILURE() << "set on mmap_mode r must throw";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::not_writeable);
  }
}

TEST(Golden, ViewsOutliveTheirMapping) {
  npio::array row;
  {
    npio::array a = npio::load(row_named("le_i4.3c").path(), {.mmap_mode = npio::mmap_mode::r});
    row = a[1].transpose();
  }
  npio::array full = npio::load(row_named("le_i4.3c").path());
  EXPECT_TRUE(row.equal(full[1].transpose()));
}

TEST(Golden, OpenMemmapWritePlusMatchesNpSave) {
  // numpy test_memmap_roundtrip: open_memmap('w+') gives np.save's bytes.
  temp_dir dir;
  for (const char* name :
       {"le_f8.2c", "be_c16.3f", "le_st_aligned.1d", "v3_utf8_name", "le_M8_25s.0d", "be_U5.e30"}) {
    const auto& row = row_named(name);
    npio::array src = npio::load(row.path());
    const auto p = dir / (std::string(name) + ".npy");
    {
      npio::array m = npio::open_memmap(p, {.mode = npio::mmap_mode::w_plus,
                                            .dtype = src.dtype(),
                                            .shape = src.shape(),
                                            .fortran_order = row.fortran});
      EXPECT_TRUE(m.writeable());
      ASSERT_EQ(m.nbytes(), src.nbytes());
      const auto data = src.tobytes(row.fortran ? npio::order::f : npio::order::c);
      if (!data.empty()) std::memcpy(m.mutable_data(), data.data(), data.size());
    }
    EXPECT_EQ(first_difference(read_file(p), read_file(row.path())), "") << name;
  }
}

} // namespace
