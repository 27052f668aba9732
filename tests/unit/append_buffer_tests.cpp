// npy_appender's buffer (append_options::buffer_bytes, 64 KiB by default): what
// the file, a reader and a crash see before and after flush(), and headers
// rewritten in place byte for byte as format_header (np.save) writes them.
#include "child_process.hpp"
#include "golden_support.hpp"

#include <gtest/gtest.h>
#include <npio/npio.hpp>

using namespace npio_test;

namespace {

std::vector<std::int32_t> row_of(std::int32_t i) {
  return {i, -i, 7 * i};
}

} // namespace

TEST(AppendBuffer, HeldRowsReachTheFileAndReadersOnFlush) {
  temp_dir d;
  const auto p = d.path() / "log.npy";
  EXPECT_EQ(npio::append_options{}.buffer_bytes, std::size_t(64) << 10);
  npio::npy_appender app(p, {}, npio::dtype::parse("<i4"), {3});
  const auto empty = read_file(p);
  for (std::int32_t i = 0; i < 100; ++i)
    app.append(npio::array::from(row_of(i)));
  // 1200 bytes held: the file and its readers see none of them.
  EXPECT_EQ(app.rows(), 100);
  EXPECT_EQ(app.header().shape, (npio::shape_t{0, 3}));
  EXPECT_EQ(read_file(p), empty);
  EXPECT_EQ(npio::load(p).array().shape(), (npio::shape_t{0, 3}));
  app.flush();
  EXPECT_EQ(app.header().shape, (npio::shape_t{100, 3}));
  const npio::array a = npio::load(p);
  ASSERT_EQ(a.shape(), (npio::shape_t{100, 3}));
  EXPECT_EQ(a.at<std::int32_t>(99, 2), 693);
  const auto flushed = read_file(p);
  app.flush(); // nothing held: the file is untouched
  EXPECT_EQ(read_file(p), flushed);
  // A full buffer is written without a flush: 64 KiB / 12 bytes = 5461 rows.
  for (std::int32_t i = 100; i < 100 + 5462; ++i)
    app.append(npio::array::from(row_of(i)));
  EXPECT_EQ(npio::read_header(p).shape, (npio::shape_t{100 + 5461, 3}));
  EXPECT_EQ(app.rows(), 100 + 5462);
}

TEST(AppendBuffer, ACrashLosesOnlyTheHeldRows) {
  temp_dir d;
  const auto p = d.path() / "log.npy";
  const int st = test_child::in_child([&] {
    npio::npy_appender app(p, {}, npio::dtype::parse("<i4"), {3});
    for (std::int32_t i = 0; i < 50; ++i)
      app.append(npio::array::from(row_of(i)));
    app.flush();
    for (std::int32_t i = 50; i < 80; ++i)
      app.append(npio::array::from(row_of(i)));
    ::_exit(0); // dies holding 30 rows: no destructor, no flush
    return 1;
  });
  ASSERT_EQ(st, 0);
  const npio::array a = npio::load(p);
  ASSERT_EQ(a.shape(), (npio::shape_t{50, 3}));
  EXPECT_EQ(a.at<std::int32_t>(49, 1), -49);
  // The lock went with the process: the file takes appends again.
  npio::append(p, npio::array::from(row_of(50)));
  EXPECT_EQ(npio::load(p).array().shape(), (npio::shape_t{51, 3}));
}

TEST(AppendBuffer, WriteThroughHeadersAreWhatFormatHeaderWrites) {
  // buffer_bytes = 0: each append rewrites only the digits of the length in
  // place, and the header is byte for byte format_header's (so np.save's) of
  // the new shape, across digit boundaries, for C and Fortran order and for a
  // field name that spells 'shape': ( itself.
  struct file_case {
    const char* name;
    const char* descr;
    npio::shape_t row_shape;
    bool fortran;
  };
  const file_case cases[] = {
      {"c", "'<f8'", {3}, false},
      {"f", "'<i2'", {2, 3}, true},
      {"tricky", "[(\"x'shape': (\", '<u1'), ('y', '<i4', (2,))]", {}, false},
  };
  temp_dir d;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto p = d.path() / (std::string(c.name) + ".npy");
    npio::append_options o;
    o.buffer_bytes = 0;
    const npio::dtype dt = npio::dtype::from_descr(c.descr);
    npio::npy_appender app(p, o, dt, c.row_shape, c.fortran);
    npio::shape_t s = c.row_shape;
    if (c.fortran)
      s.push_back(1);
    else
      s.insert(s.begin(), 1);
    const npio::array one(dt, s, c.fortran ? npio::order::f : npio::order::c);
    for (std::int64_t n = 1; n <= 1005; ++n) {
      app.append(one);
      if (n > 12 && n % 97 != 0 && n != 100 && n != 1000 && n != 1005) continue;
      npio::shape_t full = c.row_shape;
      if (c.fortran)
        full.push_back(n);
      else
        full.insert(full.begin(), n);
      const std::string want = npio::format_header(dt, full, c.fortran);
      const auto got = read_file(p);
      ASSERT_GE(got.size(), want.size());
      ASSERT_EQ(std::string(reinterpret_cast<const char*>(got.data()), want.size()), want)
          << "after " << n << " rows";
    }
    EXPECT_EQ(npio::load(p).array().shape()[c.fortran ? c.row_shape.size() : 0], 1005);
  }
}
