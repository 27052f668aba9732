// Issue #10, the .npy framing in one place (src/npy_framing.hpp) and np.load's
// dispatcher on top (src/load.cpp): one sniffing rule whatever the mmap_mode,
// one open per load, one header-size limit for every reader, load_options
// holding a pickle::options, open_memmap taking an options struct. The
// shape-size loops of npy_writer and open_memmap(w+) are covered by
// issue10_regression_tests.cpp.

#include "golden_support.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <npio/load_into.hpp>
#include <npio/npio.hpp>
#include <npio/pickle.hpp>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace npio_test;
using npio::errc;
using npio::file_kind;
using npio::mmap_mode;
using npio::shape_t;

npio::load_options with(mmap_mode m, bool allow_pickle = false) {
  npio::load_options o;
  o.mmap_mode = m;
  o.allow_pickle = allow_pickle;
  return o;
}

bytes npy_of(const npio::array& a) {
  return npio::save_bytes(a);
}

// A version-2 .npy whose header text is `text` padded to `hlen` bytes.
bytes npy_v2(std::string text, std::uint32_t hlen) {
  text.resize(hlen - 1, ' ');
  text += '\n';
  std::string s = "\x93NUMPY";
  s += '\x02';
  s += '\x00';
  for (int i = 0; i < 4; ++i)
    s += static_cast<char>((hlen >> (8 * i)) & 0xFF);
  return to_bytes(s + text + std::string(8, '\0'));
}

TEST(framing, sniff_follows_np_load) {
  EXPECT_EQ(npio::sniff(to_bytes("")), file_kind::empty);
  EXPECT_EQ(npio::sniff(to_bytes("PK\x03\x04rest")), file_kind::npz);
  EXPECT_EQ(npio::sniff(to_bytes("PK\x05\x06rest")), file_kind::npz);
  // Only those two: a data descriptor or a spanned-archive marker is not a zip to np.load.
  EXPECT_EQ(npio::sniff(to_bytes("PK\x07\x08rest")), file_kind::other);
  EXPECT_EQ(npio::sniff(to_bytes("PK\x01\x02rest")), file_kind::other);
  EXPECT_EQ(npio::sniff(npy_of(npio::array::from(std::vector<int>{1}, shape_t{1}))),
            file_kind::npy);
  EXPECT_EQ(npio::sniff(to_bytes("\x93NUMPX\x01\x00")), file_kind::other);
  EXPECT_EQ(npio::sniff(to_bytes("\x80\x04\x95")), file_kind::pickle);
  EXPECT_EQ(npio::sniff(to_bytes("id,x\n1,2\n")), file_kind::other);

  temp_dir d;
  write_file(d / "z", to_bytes("PK\x05\x06"));
  EXPECT_EQ(npio::sniff(d / "z"), file_kind::npz);
  write_file(d / "e", to_bytes(""));
  EXPECT_EQ(npio::sniff(d / "e"), file_kind::empty);
  EXPECT_EQ(code_of([&] { (void)npio::sniff(d / "missing"); }), errc::io_error);
}

// What a reader must read for read_header: never more than the limit allows.
TEST(framing, header_bytes_needed) {
  const bytes v1 = npy_of(npio::array::from(std::vector<int>{1}, shape_t{1}));
  const auto first12 = [](const bytes& b) { return std::span<const std::byte>(b).first(12); };
  EXPECT_EQ(npio::header_bytes_needed(first12(v1)), npio::read_header(v1).data_offset);
  const std::string text = "{'descr': '|i1', 'fortran_order': False, 'shape': (8,), }";
  const bytes v2 = npy_v2(text, 20000);
  EXPECT_EQ(npio::header_bytes_needed(first12(v2)), 12u); // over 10000: the preamble only
  EXPECT_EQ(npio::header_bytes_needed(first12(v2), 30000), 12u + 20000u);
  EXPECT_EQ(npio::header_bytes_needed(to_bytes(std::string("\x93NUMPY\x01\x00", 8))), 10u);
  EXPECT_EQ(npio::header_bytes_needed(to_bytes("\x93NUM")), 12u);
}

// A file starting PK\x07\x08 gave pickle_disallowed (or bad_magic) without a
// map but zip_bad_archive with mmap_mode r: now every mode sniffs the same way.
TEST(framing, zip_rule_is_the_same_with_and_without_a_map) {
  temp_dir d;
  for (const char* start : {"PK\x07\x08", "PK\x01\x02", "PK\x03\x04", "PK\x05\x06"}) {
    const auto p = d / "f.npy";
    write_file(p, to_bytes(std::string(start, 4) + std::string(40, 'x')));
    for (bool pickle : {false, true}) {
      const errc plain = code_of([&] { (void)npio::load(p, with(mmap_mode::none, pickle)); });
      EXPECT_NE(plain, errc{});
      for (auto m : {mmap_mode::r, mmap_mode::r_plus, mmap_mode::c})
        EXPECT_EQ(code_of([&] { (void)npio::load(p, with(m, pickle)); }), plain)
            << start[2] + 0 << " mode " << static_cast<int>(m) << " allow_pickle " << pickle;
    }
  }
  // The rule itself: PK\x07\x08 is not an archive, PK\x03\x04 is.
  write_file(d / "a", to_bytes(std::string("PK\x07\x08", 4) + std::string(40, 'x')));
  EXPECT_EQ(code_of([&] { (void)npio::load(d / "a", with(mmap_mode::r)); }), errc::bad_magic);
  write_file(d / "b", to_bytes(std::string("PK\x03\x04", 4) + std::string(40, 'x')));
  EXPECT_EQ(code_of([&] { (void)npio::load(d / "b", with(mmap_mode::r)); }), errc::zip_bad_archive);
}

// Counts the opens of one file with inotify while `f` runs. Reads and closes
// are watched too: inotify merges identical events in a row.
template <class F> int opens_of(const fs::path& p, F&& f) {
  const int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0) return -1;
  const int w = ::inotify_add_watch(in, p.c_str(), IN_OPEN | IN_ACCESS | IN_CLOSE);
  if (w < 0) {
    ::close(in);
    return -1;
  }
  f();
  int n = 0;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    const ssize_t got = ::read(in, buf, sizeof buf);
    if (got <= 0) break;
    for (ssize_t at = 0; at < got;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
      if (e->mask & IN_OPEN) ++n;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  ::close(in);
  return n;
}

// With a map, a file that was not .npy was opened three times; every load
// now opens the file once (mode r+ reopens an .npy for writing, as NumPy does).
TEST(framing, load_opens_the_file_once) {
  temp_dir d;
  const npio::array a = npio::array::from(std::vector<double>{1, 2, 3}, shape_t{3});
  npio::save(d / "a.npy", a);
  npio::savez(d / "z.npz", {{"x", a}});
  write_file(d / "p.pkl", npio::pickle::dumps(npio::py::value(std::int64_t(7))));
  write_file(d / "t.npy", to_bytes("id,x\n1,2\n"));
  write_file(d / "e.npy", to_bytes(""));
  for (auto m : {mmap_mode::none, mmap_mode::r, mmap_mode::c, mmap_mode::r_plus}) {
    SCOPED_TRACE(static_cast<int>(m));
    EXPECT_EQ(opens_of(d / "a.npy", [&] { EXPECT_EQ(npio::load(d / "a.npy", with(m)).size(), 3); }),
              m == mmap_mode::r_plus ? 2 : 1);
    EXPECT_EQ(
        opens_of(d / "z.npz", [&] { EXPECT_TRUE(npio::load(d / "z.npz", with(m)).is_npz()); }), 1);
    EXPECT_EQ(
        opens_of(d / "p.pkl",
                 [&] { EXPECT_EQ(npio::load(d / "p.pkl", with(m, true)).value().as<int>(), 7); }),
        1);
    EXPECT_EQ(opens_of(d / "t.npy",
                       [&] {
                         EXPECT_EQ(code_of([&] { (void)npio::load(d / "t.npy", with(m)); }),
                                   errc::bad_magic);
                       }),
              1);
    EXPECT_EQ(opens_of(d / "e.npy",
                       [&] {
                         EXPECT_EQ(code_of([&] { (void)npio::load(d / "e.npy", with(m)); }),
                                   errc::truncated);
                       }),
              1);
  }
}

// The first read of a file is one read(2); a short one is the end of a
// regular file (its size says so), but a FIFO's writer may simply not have
// written the rest yet: it is read on, as np.load reads a pipe to its end.
TEST(framing, a_fifo_is_read_to_its_end) {
  temp_dir d;
  // A reader that gives up early must fail the test, not kill it.
  const auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::int32_t> v(3000); // 12 KiB: more than the first read's 4 KiB
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::int32_t>(i * 7);
  for (const std::int64_t n : {std::int64_t(5), std::int64_t(v.size())}) {
    SCOPED_TRACE(n);
    const std::vector<std::int32_t> want(v.begin(), v.begin() + n);
    const bytes file = npy_of(npio::array::from(want, shape_t{n}));
    const fs::path fifo = d / ("p" + std::to_string(n));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // The writer sends the preamble alone, then the rest: the reader's
    // first read returns 10 bytes.
    std::thread writer([&] {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return;
      (void)!::write(fd, file.data(), 10);
      ::usleep(50000);
      (void)!::write(fd, file.data() + 10, file.size() - 10);
      ::close(fd);
    });
    npio::array a;
    const errc e = code_of([&] { a = npio::load(fifo); });
    writer.join();
    ASSERT_EQ(e, errc{});
    EXPECT_EQ(a.to_vector<std::int32_t>(), want);
  }
  ::signal(SIGPIPE, old_pipe);
}

// The first read is one pread of 4 KiB: a short one is the whole file, a
// full one asks fstat for the rest. Files around that size load whole, with
// and without a map, and one byte short is refused.
TEST(framing, files_around_the_first_read) {
  temp_dir d;
  for (const std::int64_t total : {std::int64_t(4095), std::int64_t(4096), std::int64_t(4097),
                                   std::int64_t(8192), std::int64_t(8193)}) {
    SCOPED_TRACE(total);
    const std::int64_t n = total - 128; // the header of a 1-d uint8 array is 128 bytes
    std::vector<std::uint8_t> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<std::uint8_t>(i * 31 + 7);
    const fs::path p = d / ("f" + std::to_string(total) + ".npy");
    npio::save(p, npio::array::from(v, shape_t{n}));
    ASSERT_EQ(static_cast<std::int64_t>(fs::file_size(p)), total);
    for (auto m : {mmap_mode::none, mmap_mode::r, mmap_mode::c})
      EXPECT_EQ(npio::load(p, with(m)).array().to_vector<std::uint8_t>(), v);
    fs::resize_file(p, static_cast<std::uintmax_t>(total - 1));
    for (auto m : {mmap_mode::none, mmap_mode::r})
      EXPECT_EQ(code_of([&] { (void)npio::load(p, with(m)); }), errc::truncated);
  }
}

// The first read's errors other than "cannot pread" (a pipe) are typed and
// name the file: a directory opens, but reading it fails.
TEST(framing, a_directory_is_a_read_error) {
  temp_dir d;
  for (auto m : {mmap_mode::none, mmap_mode::r}) {
    try {
      (void)npio::load(d.path(), with(m));
      ADD_FAILURE() << "a directory loaded";
    } catch (const npio::error& e) {
      EXPECT_EQ(e.code(), errc::io_error);
      EXPECT_NE(std::string(e.what()).find(d.path().string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
    }
  }
}

// A large .npy is read on several threads, by offset, in parts that start on
// 2 MiB boundaries: every part lands in its place (an odd size leaves a short
// last part), and a file cut short is refused before anything is read.
TEST(framing, a_large_load_reads_every_part) {
  temp_dir d;
  const std::int64_t n = (std::int64_t(72) << 20) / 4 + 12345; // about 72 MiB of int32
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::int32_t>(i * 2654435761u);
  npio::save(d / "big.npy", npio::array::from(v, shape_t{n}));
  for (auto m : {mmap_mode::none, mmap_mode::r}) {
    const npio::array a = npio::load(d / "big.npy", with(m));
    ASSERT_EQ(a.size(), n);
    const auto got = a.view<std::int32_t>();
    EXPECT_TRUE(std::equal(got.begin(), got.end(), v.begin()));
  }
  std::filesystem::resize_file(d / "big.npy", std::filesystem::file_size(d / "big.npy") - 4);
  EXPECT_EQ(code_of([&] { (void)npio::load(d / "big.npy"); }), errc::truncated);
}

// One limit: every reader refuses a header over max_header_size the same way,
// from the preamble (nothing is read or allocated from the length field), and
// reads one within the limit, for version 3 (which counts characters) too.
TEST(framing, one_header_limit_for_every_reader) {
  temp_dir d;
  const npio::array a =
      npio::array::from(std::vector<std::int8_t>{1, 2, 3, 4, 5, 6, 7, 8}, shape_t{8});
  const std::string text = "{'descr': '|i1', 'fortran_order': False, 'shape': (8,), }";
  struct file_case {
    std::uint32_t hlen;
    errc want; // with max_header_size 10000
  };
  for (const file_case c :
       {file_case{20000, errc::header_too_large}, file_case{0xFFFFFFF0u, errc::header_too_large},
        file_case{9000, errc{}}}) {
    SCOPED_TRACE(c.hlen);
    const auto p = d / "h.npy";
    bytes b = c.hlen < 100000 ? npy_v2(text, c.hlen) : npy_v2(text, 200);
    if (c.hlen >= 100000)
      for (int i = 0; i < 4; ++i)
        b[8 + static_cast<std::size_t>(i)] = static_cast<std::byte>((c.hlen >> (8 * i)) & 0xFF);
    if (c.want == errc{}) std::fill(b.end() - 8, b.end(), std::byte{1});
    write_file(p, b);
    npio::load_options o;
    EXPECT_EQ(code_of([&] { (void)npio::load(p, o); }), c.want);
    EXPECT_EQ(code_of([&] { (void)npio::load(std::span<const std::byte>(b), o); }), c.want);
    for (auto m : {mmap_mode::r, mmap_mode::c, mmap_mode::r_plus})
      EXPECT_EQ(code_of([&] { (void)npio::load(p, with(m)); }), c.want);
    EXPECT_EQ(code_of([&] { (void)npio::open_memmap(p, {.mode = mmap_mode::r}); }), c.want);
    EXPECT_EQ(code_of([&] { (void)npio::read_header(p); }), c.want);
    EXPECT_EQ(code_of([&] { npio::npy_reader r(p, o); }), c.want);
    npio::array dst(npio::dtype::parse("|i1"), shape_t{8});
    EXPECT_EQ(code_of([&] { npio::load_into(p, dst, o); }), c.want);
  }
}

// The old limits disagreed: past its first 4 KiB read, load_into read a
// version-3 header only when its byte length was within max_header_size, so
// a header of few enough characters but more bytes was reported truncated;
// now every reader applies read_header's rule (characters, for version 3).
TEST(framing, version3_header_counts_characters_everywhere) {
  temp_dir d;
  // A field name of 2000 euro signs: 6000 bytes, 2000 characters.
  std::string name;
  for (int i = 0; i < 2000; ++i)
    name += "\xe2\x82\xac";
  const npio::dtype dt = npio::dtype::from_descr("[('" + name + "', '<i4')]");
  const npio::array a(dt, shape_t{2});
  npio::save_options so;
  so.version = npio::format_version{3, 0};
  npio::save(d / "u.npy", a, so);
  const npio::header h = npio::read_header(d / "u.npy", 100000);
  const std::size_t bytes_len = static_cast<std::size_t>(h.data_offset) - 12;
  ASSERT_GT(bytes_len, 4096u);
  npio::load_options o;
  o.max_header_size = bytes_len - 4000 + 10; // enough characters, fewer than the bytes
  EXPECT_EQ(code_of([&] { (void)npio::read_header(d / "u.npy", bytes_len - 4000 - 10); }),
            errc::header_too_large);
  EXPECT_EQ(npio::load(d / "u.npy", o).shape(), shape_t{2});
  npio::array dst(dt, shape_t{2});
  EXPECT_NO_THROW(npio::load_into(d / "u.npy", dst, o));
  EXPECT_EQ(npio::load(d / "u.npy", with(mmap_mode::r)).shape(), shape_t{2});
  npio::memmap_options mo;
  mo.mode = mmap_mode::r;
  mo.max_header_size = o.max_header_size;
  EXPECT_EQ(npio::open_memmap(d / "u.npy", mo).shape(), shape_t{2});
}

// load_options holds a pickle::options, which reaches the decoder as it is
// (pickle_numpy.cpp copied four fields back into one).
TEST(framing, load_options_holds_pickle_options) {
  npio::load_options o;
  o.allow_pickle = true;
  o.pickle.limits.max_depth = 7;
  // The same options decode a pickle directly.
  EXPECT_EQ(npio::pickle::loads(npio::pickle::dumps(npio::py::value(std::int64_t(3))), o.pickle)
                .as<int>(),
            3);
  temp_dir d;
  npio::py::value deep = npio::py::value::list({});
  for (int i = 0; i < 20; ++i)
    deep = npio::py::value::list({deep});
  write_file(d / "deep.pkl", npio::pickle::dumps(deep));
  EXPECT_EQ(code_of([&] { (void)npio::load(d / "deep.pkl", o); }), errc::limit_exceeded);
  o.pickle.limits.max_depth = 100;
  EXPECT_TRUE(npio::load(d / "deep.pkl", o).is_value());
  // encoding reaches np.load's pickles: a Python 2 str with a non-ASCII byte.
  const bytes py2 = to_bytes(std::string("U\x01\xe9q\x00.", 6));
  write_file(d / "py2.pkl", py2);
  EXPECT_EQ(code_of([&] { (void)npio::load(d / "py2.pkl", o); }), errc::pickle_encoding);
  o.pickle.encoding = npio::pickle_encoding::latin1;
  EXPECT_EQ(npio::load(d / "py2.pkl", o).value().as<std::string>(), "\xc3\xa9");
  o.pickle.encoding = npio::pickle_encoding::bytes;
  EXPECT_TRUE(npio::load(d / "py2.pkl", o).value().is_bytes());
}

TEST(framing, open_memmap_takes_options) {
  temp_dir d;
  npio::memmap_options w;
  w.mode = mmap_mode::w_plus;
  w.dtype = npio::dtype::parse("<i2");
  w.shape = shape_t{2, 3};
  w.fortran_order = true;
  w.version = npio::format_version{2, 0};
  {
    npio::array m = npio::open_memmap(d / "m.npy", w);
    EXPECT_TRUE(m.writeable());
    m.mutable_data()[0] = std::byte{5};
  }
  const npio::header h = npio::read_header(d / "m.npy");
  EXPECT_EQ(h.version, (npio::format_version{2, 0}));
  EXPECT_TRUE(h.fortran_order);
  EXPECT_EQ(h.shape, (shape_t{2, 3}));
  const npio::array r = npio::open_memmap(d / "m.npy", {.mode = mmap_mode::r});
  EXPECT_FALSE(r.writeable());
  EXPECT_EQ(r.at<std::int16_t>(0, 0), 5);
  // The default mode is r+, as numpy.lib.format.open_memmap's.
  EXPECT_TRUE(npio::open_memmap(d / "m.npy").writeable());
  EXPECT_EQ(code_of([&] { (void)npio::open_memmap(d / "n.npy", {.mode = mmap_mode::w_plus}); }),
            errc::invalid_argument);
}

} // namespace
