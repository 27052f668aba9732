// Appending rows in place, slices of rows by pread, and streaming chunks from
// .npy files and .npz members, against files NumPy wrote
// (tests/data/generate_rows.py) and NumPy reading the results.
#include "child_process.hpp"
#include "golden_support.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <sys/resource.h>
#include <sys/wait.h>

using namespace npio_test;

namespace {

using npio::errc;

fs::path rows_dir() {
  return fs::path(NPIO_GOLDEN_DIR) / "rows";
}

// Runs NPIO_PYTHON on a script; returns its exit status, output in `out`.
int python(const std::string& script, const std::vector<fs::path>& args, std::string& out) {
  temp_dir d;
  const auto sp = d.path() / "script.py";
  { std::ofstream(sp) << script; }
  std::string cmd = std::string(NPIO_PYTHON) + " '" + sp.string() + "'";
  for (const auto& a : args)
    cmd += " '" + a.string() + "'";
  cmd += " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  std::size_t n;
  out.clear();
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  const int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char* const append_names[] = {"c_f8", "c_i2_1d", "be_i8", "f_i4",  "u3",
                                    "rec",  "empty",   "big_c", "big_f", "old_no_room"};

fs::path copy_golden(const temp_dir& d, const std::string& name) {
  const auto p = d.path() / (name + ".npy");
  fs::copy_file(rows_dir() / (name + ".npy"), p);
  return p;
}

} // namespace

TEST(Append, NumpyFilesGrowToWhatNpSaveWrites) {
  temp_dir d;
  std::vector<fs::path> results;
  for (const std::string name : append_names) {
    SCOPED_TRACE(name);
    const auto p = copy_golden(d, name);
    const auto before = npio::read_header(p);
    npio::append(p, npio::load(rows_dir() / ("append_" + name + "_block.npy")));
    npio::append(p, npio::load(rows_dir() / ("append_" + name + "_row.npy")));
    const auto want = read_file(rows_dir() / ("append_" + name + "_expected.npy"));
    const auto got = read_file(p);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(first_difference(got, want), "");
    // NumPy's padded headers grow in place: the data offset stays.
    if (name != "old_no_room") {
      EXPECT_EQ(npio::read_header(p).data_offset, before.data_offset);
    }
    results.push_back(p);
    results.push_back(rows_dir() / ("append_" + name + "_expected.npy"));
  }
  // NumPy reads every result as the concatenation it computed itself.
  std::string out;
  EXPECT_EQ(python(R"(import sys, numpy as np
a = sys.argv[1:]
for got, want in zip(a[::2], a[1::2]):
    x, y = np.load(got), np.load(want)
    assert x.dtype == y.dtype and x.shape == y.shape, (got, x.dtype, x.shape, y.shape)
    assert x.flags.f_contiguous == y.flags.f_contiguous, got
    assert np.array_equal(x, y), got
print(len(a) // 2, "ok")
)",
                   results, out),
            0)
      << out;
  EXPECT_EQ(out, "10 ok\n");
}

TEST(Append, NoRoomRewritesThroughATemporaryFile) {
  temp_dir d;
  const auto p = copy_golden(d, "old_no_room");
  const auto before = npio::read_header(p);
  EXPECT_EQ(before.data_offset, 128u);
  npio::append(p, npio::load(rows_dir() / "append_old_no_room_block.npy"));
  EXPECT_EQ(npio::read_header(p).data_offset, 192u);
  EXPECT_EQ(npio::read_header(p).shape, (npio::shape_t{11}));
  // no temporary file is left beside it
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path()))
    ++files;
  EXPECT_EQ(files, 1u);
}

TEST(Append, AFailedAppendLeavesTheFileLoadingAsBefore) {
  // The rows are written first: a write that fails midway (here: the file
  // size limit, as a full disk would) leaves the header, and so the array, as it was.
  temp_dir d;
  const auto p = copy_golden(d, "big_c");
  const auto before = read_file(p);
  const npio::array block = npio::load(rows_dir() / "big_c.npy"); // 84000 bytes
  const int st = test_child::in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit r{};
    r.rlim_cur = r.rlim_max = before.size() + 1000;
    if (::setrlimit(RLIMIT_FSIZE, &r) != 0) return 2;
    try {
      npio::append(p, block);
    } catch (const npio::error& e) {
      return e.code() == errc::io_error && e.file() == p.string() ? 0 : 3;
    }
    return 1;
  });
  ASSERT_EQ(st, 0);
  const auto after = read_file(p);
  ASSERT_EQ(after.size(), before.size() + 1000); // the part of the rows that got in
  EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));
  EXPECT_TRUE(npio::load(p).array().equal(npio::load(rows_dir() / "big_c.npy").array()));
  std::string out;
  EXPECT_EQ(python("import sys, numpy as np\n"
                   "assert np.array_equal(np.load(sys.argv[1]), np.load(sys.argv[2]))\n",
                   std::vector<fs::path>{p, rows_dir() / "big_c.npy"}, out),
            0)
      << out;
  // The next append writes over the leftover bytes.
  npio::append(p, npio::load(rows_dir() / "append_big_c_block.npy"));
  npio::append(p, npio::load(rows_dir() / "append_big_c_row.npy"));
  EXPECT_EQ(first_difference(read_file(p), read_file(rows_dir() / "append_big_c_expected.npy")),
            "");
}

TEST(Append, MismatchesNameTheFile) {
  temp_dir d;
  const auto p = copy_golden(d, "c_f8");
  const auto ps = p.string();
  auto message = [&](const npio::array& rows, const fs::path& where) {
    try {
      npio::append(where, rows);
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_EQ(e.file(), where.string());
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(npio::array(npio::dtype::parse("<f4"), {2, 3}), p),
            ps + ": cannot append rows of dtype '<f4' to an array of dtype '<f8' (convert "
                 "them with astype first)");
  EXPECT_EQ(message(npio::array(npio::dtype::parse("<f8"), {2, 4}), p),
            ps + ": cannot append rows of shape (2, 4) to an array of shape (4, 3)");
  EXPECT_EQ(message(npio::array(npio::dtype::parse("<f8"), {4}), p),
            ps + ": cannot append rows of shape (4,) to an array of shape (4, 3)");
  const auto f = copy_golden(d, "f_i4");
  EXPECT_EQ(message(npio::array(npio::dtype::parse("<i4"), {2, 4, 5}), f),
            f.string() + ": cannot append rows of shape (2, 4, 5) to an array of shape (3, 4, 5) "
                         "(Fortran order: rows are along the last axis)");
  const auto s = copy_golden(d, "scalar");
  EXPECT_EQ(message(npio::array(npio::dtype::parse("<u2"), {}), s),
            s.string() + ": cannot append to a 0-d array");
  EXPECT_EQ(read_file(p), read_file(rows_dir() / "c_f8.npy")); // untouched
}

TEST(Append, CreatesAMissingFileAndTheAppenderKeepsItOpen) {
  temp_dir d;
  const auto p = d.path() / "log.npy";
  npio::npy_appender app(p, {}, npio::dtype::parse("<f4"), {3});
  EXPECT_EQ(app.rows(), 0);
  for (int i = 0; i < 1500; ++i) {
    const std::vector<float> row = {float(i), float(i) / 2, -float(i)};
    app.append(npio::array::from(row));
  }
  EXPECT_EQ(app.rows(), 1500);
  app.flush(); // rows held in the buffer (64 KiB by default) reach the file
  EXPECT_EQ(app.header().shape, (npio::shape_t{1500, 3}));
  std::string out;
  EXPECT_EQ(python("import sys, numpy as np\n"
                   "a = np.load(sys.argv[1]); i = np.arange(1500, dtype='f4')\n"
                   "assert a.shape == (1500, 3) and a.dtype == '<f4'\n"
                   "assert np.array_equal(a, np.stack([i, i / 2, -i], axis=1))\n"
                   "print('ok')\n",
                   std::vector<fs::path>{p}, out),
            0)
      << out;
  // append() on a missing file writes the rows as they are
  const auto q = d.path() / "new.npy";
  npio::append(q, npio::array::from(std::vector<std::int16_t>{1, 2, 3}));
  npio::append(q, npio::array::from(std::vector<std::int16_t>{4}));
  EXPECT_TRUE(
      npio::load(q).array().equal(npio::array::from(std::vector<std::int16_t>{1, 2, 3, 4})));
}

TEST(Append, BufferedRowsReachTheFileOnFlush) {
  temp_dir d;
  const auto p = d.path() / "log.npy";
  npio::append_options o;
  o.buffer_bytes = 100; // 8 rows of 12 bytes
  {
    npio::npy_appender app(p, o, npio::dtype::parse("<i4"), {3});
    for (std::int32_t i = 0; i < 20; ++i)
      app.append(npio::array::from(std::vector<std::int32_t>{i, 2 * i, 3 * i}));
    EXPECT_EQ(app.rows(), 20);
    EXPECT_EQ(npio::read_header(p).shape, (npio::shape_t{16, 3})); // two buffers full
    app.flush();
    EXPECT_EQ(npio::read_header(p).shape, (npio::shape_t{20, 3}));
    // a block larger than the buffer goes straight through
    app.append(npio::array(npio::dtype::parse("<i4"), {10, 3}));
    app.append(npio::array::from(std::vector<std::int32_t>{-1, -2, -3}));
    EXPECT_EQ(npio::read_header(p).shape, (npio::shape_t{30, 3}));
  } // the destructor flushes
  const npio::array a = npio::load(p);
  ASSERT_EQ(a.shape(), (npio::shape_t{31, 3}));
  EXPECT_EQ(a.at<std::int32_t>(19, 2), 57);
  EXPECT_EQ(a.at<std::int32_t>(25, 0), 0);
  EXPECT_EQ(a.at<std::int32_t>(30, 1), -2);
}

TEST(Append, AnOpenAppenderLocksTheFile) {
  temp_dir d;
  const auto p = d.path() / "log.npy";
  const auto row = npio::array::from(std::vector<std::int64_t>{1, 2});
  {
    npio::npy_appender app(p, {}, npio::dtype::parse("<i8"), {2});
    app.append(row);
    try {
      npio::append(p, row); // fails at once instead of waiting for itself
      ADD_FAILURE();
    } catch (const npio::error& e) {
      EXPECT_EQ(std::string(e.what()),
                p.string() + ": another npy_appender (or append) is appending to the file");
    }
  }
  npio::append(p, row);
  EXPECT_EQ(npio::read_header(p).shape, (npio::shape_t{2, 2}));
}

TEST(LoadRows, SlicesAxisZeroLikeNumpy) {
  struct slice {
    std::int64_t b, e;
  };
  const slice slices[] = {{0, 1}, {1, 3},        {0, 100000},  {-2, 100000},
                          {2, 1}, {-1000000, 2}, {1000, 2000}, {2999, 3000}};
  for (const char* name :
       {"c_f8", "c_i2_1d", "be_i8", "f_i4", "u3", "rec", "empty", "big_c", "big_f"}) {
    const auto p = rows_dir() / (std::string(name) + ".npy");
    const npio::array all = npio::load(p);
    for (auto [b, e] : slices) {
      SCOPED_TRACE(std::string(name) + " [" + std::to_string(b) + ", " + std::to_string(e) + ")");
      const auto n = all.shape()[0];
      auto clip = [n](std::int64_t i) {
        return std::min(i < 0 ? std::max<std::int64_t>(0, i + n) : i, n);
      };
      const auto cb = clip(b), ce = std::max(cb, clip(e));
      const npio::array got = npio::load_rows(p, b, e);
      EXPECT_TRUE(got.equal(all.slice(0, cb, ce)));
      if (std::string(name) == "f_i4" || std::string(name) == "big_f") {
        EXPECT_TRUE(got.is_f_contiguous());
      }
    }
  }
}

TEST(LoadRows, FortranRowsFarApartAreReadRunByRun) {
  // Columns 1.2 MB apart: each run of rows is its own read.
  temp_dir d;
  const auto p = d.path() / "wide.npy";
  npio::array a(npio::dtype::parse("<f4"), {300000, 3}, npio::order::f);
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t i = 0; i < 300000; i += 997)
      a.set<float>(float(i * 10 + c), i, c);
  npio::save(p, a);
  const auto got = npio::load_rows(p, 1000, 300000);
  EXPECT_TRUE(got.equal(a.slice(0, 1000, 300000)));
  EXPECT_TRUE(npio::load_rows(p, 5, 7).equal(a.slice(0, 5, 7)));
}

TEST(LoadRows, Errors) {
  temp_dir d;
  const auto s = rows_dir() / "scalar.npy";
  try {
    (void)npio::load_rows(s, 0, 1);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_EQ(std::string(e.what()),
              s.string() + ": load_rows needs an array with at least one dimension");
  }
  // a truncated file
  const auto t = d.path() / "t.npy";
  auto b = read_file(rows_dir() / "c_f8.npy");
  b.resize(b.size() - 8);
  write_file(t, b);
  EXPECT_EQ(npio::try_load(t).code(), errc::truncated);
  try {
    (void)npio::load_rows(t, 0, 1);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(std::string(e.what()), t.string() +
                                         ": file seems not fully written: expected 96 bytes of "
                                         "array data, found 88 (at byte 128)");
  }
  npio::load_options o;
  o.max_data_bytes = 47;
  EXPECT_EQ(npio::capture([&] { return npio::load_rows(rows_dir() / "c_f8.npy", 0, 2, o); }).code(),
            errc::limit_exceeded);
  EXPECT_EQ(npio::capture([&] { return npio::load_rows(rows_dir() / "c_f8.npy", 0, 1, o); }).code(),
            errc::ok);
}

namespace {

// Reads every chunk; checks their shapes; returns the bytes in file order.
std::vector<std::byte> drain(npio::npy_reader& r, std::int64_t n) {
  std::vector<std::byte> all;
  const auto o = r.header().fortran_order ? npio::order::f : npio::order::c;
  std::int64_t seen = 0;
  while (auto c = r.next(n)) {
    EXPECT_EQ(c->dtype(), r.header().dtype);
    if (!c->shape().empty()) {
      EXPECT_EQ(c->shape()[r.axis()], std::min(n, r.rows() - seen));
      seen += c->shape()[r.axis()];
    } else {
      seen += 1;
    }
    const auto b = c->tobytes(o);
    all.insert(all.end(), b.begin(), b.end());
  }
  EXPECT_EQ(seen, r.rows());
  EXPECT_EQ(r.position(), r.rows());
  EXPECT_FALSE(r.next(n).has_value());
  return all;
}

} // namespace

TEST(NpyReader, ChunksOfFilesAndMembers) {
  const auto stored = npio::npz_file::open(rows_dir() / "members.npz");
  const auto deflated = npio::npz_file::open(rows_dir() / "members_deflated.npz");
  for (const std::string name :
       {"c_f8", "c_i2_1d", "be_i8", "f_i4", "u3", "rec", "empty", "scalar", "big_c", "big_f"}) {
    const npio::array all = npio::load(rows_dir() / (name + ".npy"));
    const auto want = all.tobytes(all.is_c_contiguous() ? npio::order::c : npio::order::f);
    for (std::int64_t n : {1, 2, 1000, 1 << 20}) {
      SCOPED_TRACE(name + " by " + std::to_string(n));
      npio::npy_reader r(rows_dir() / (name + ".npy"));
      EXPECT_EQ(r.header().shape, all.shape());
      EXPECT_EQ(drain(r, n), want);
      auto s = stored.reader(name);
      EXPECT_EQ(drain(s, n), want);
      auto z = deflated.reader(name);
      EXPECT_EQ(drain(z, n), want);
    }
  }
  npio::npy_reader f(rows_dir() / "f_i4.npy");
  EXPECT_EQ(f.axis(), 2u);
  EXPECT_EQ(f.rows(), 5);
  EXPECT_EQ(f.next(2)->shape(), (npio::shape_t{3, 4, 2}));
}

TEST(NpyReader, CorruptMembersFailAtTheEnd) {
  temp_dir d;
  auto b = read_file(rows_dir() / "members.npz");
  const auto z = npio::npz_file::open(rows_dir() / "members.npz");
  std::uint64_t at = 0;
  for (const auto& m : z.members())
    if (m.key == "big_c") at = m.data_offset + m.uncompressed_size - 3;
  b[at] ^= std::byte{1};
  write_file(d.path() / "bad.npz", b);
  auto r = npio::npz_file::open(d.path() / "bad.npz").reader("big_c");
  std::int64_t chunks = 0;
  try {
    while (r.next(1000))
      ++chunks;
    ADD_FAILURE() << "no CRC error";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::zip_crc);
    EXPECT_EQ(e.file(), (d.path() / "bad.npz").string());
    EXPECT_EQ(e.member(), "big_c.npy");
  }
  EXPECT_EQ(chunks, 3);
  // a truncated .npy stops with the file's name
  auto t = read_file(rows_dir() / "big_c.npy");
  t.resize(t.size() - 100);
  write_file(d.path() / "t.npy", t);
  npio::npy_reader tr(d.path() / "t.npy");
  EXPECT_TRUE(tr.next(2000).has_value());
  try {
    (void)tr.next(2000);
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::truncated);
    EXPECT_EQ(e.file(), (d.path() / "t.npy").string());
  }
}

TEST(ReadHeader, FromAPath) {
  const auto h = npio::read_header(rows_dir() / "f_i4.npy");
  EXPECT_EQ(h.shape, (npio::shape_t{3, 4, 5}));
  EXPECT_TRUE(h.fortran_order);
  EXPECT_EQ(h.data_offset, 128u);
  EXPECT_EQ(h.data_size, 240u);
  try {
    (void)npio::read_header(rows_dir() / "pickle_p3.pkl");
    ADD_FAILURE();
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::bad_magic);
    EXPECT_EQ(e.file(), (rows_dir() / "pickle_p3.pkl").string());
  }
}

TEST(NpyReader, AHeaderLengthIsNotTrustedBeforeTheBytesArrive) {
  // A v2 header that claims 4 GiB of text: with allow_pickle the header limit
  // is lifted, and still nothing is allocated beyond the bytes present.
  temp_dir d;
  const auto p = d.path() / "claims.npy";
  std::string f("\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr': '<f8', ", 28);
  write_file(p, to_bytes(f));
  npio::load_options o;
  o.allow_pickle = true;
  EXPECT_EQ(npio::capture([&] { return npio::npy_reader(p, o).rows(); }).code(), errc::truncated);
  EXPECT_EQ(npio::capture([&] { return npio::load_rows(p, 0, 1, o); }).code(), errc::truncated);
  EXPECT_EQ(npio::capture([&] { return npio::read_header(p, std::size_t(1) << 40); }).code(),
            errc::truncated);
}

TEST(NpyReader, NpiosChunkedDeflateMembers) {
  // npio deflates large members in independent chunks (docs/npz.md): one
  // stream to zlib all the same.
  temp_dir d;
  npio::array a(npio::dtype::parse("<u4"), {400000, 3});
  for (std::int64_t i = 0; i < 400000; ++i)
    for (std::int64_t k = 0; k < 3; ++k)
      a.set<std::uint32_t>(static_cast<std::uint32_t>((i * 2654435761u + k) % 100003), i, k);
  const npio::array f = a.copy(npio::order::f);
  npio::savez_compressed(d.path() / "big.npz", {{"c", a}, {"f", f}});
  const auto z = npio::npz_file::open(d.path() / "big.npz");
  EXPECT_GT(z.members()[0].uncompressed_size, 4u << 20);
  auto r = z.reader("c");
  EXPECT_EQ(drain(r, 70000), a.tobytes());
  auto rf = z.reader("f");
  EXPECT_EQ(rf.axis(), 1u);
  EXPECT_EQ(drain(rf, 1), f.tobytes(npio::order::f));
}
