// The README's library example, compiled and run, so the documentation cannot rot.
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <sstream>

namespace {

struct in_temp_dir {
  std::filesystem::path old = std::filesystem::current_path();
  std::filesystem::path dir;
  in_temp_dir() {
    dir = std::filesystem::temp_directory_path() /
          ("npio-readme-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
           "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(dir);
    std::filesystem::current_path(dir);
  }
  ~in_temp_dir() {
    std::filesystem::current_path(old);
    std::filesystem::remove_all(dir);
  }
};

} // namespace

// The README declares this struct and its record inside the example; C++
// wants both at namespace scope.
struct particle {
  std::int64_t id;
  float pos[3];
  std::string name;
};
NPIO_RECORD(particle, npio::member("id", &particle::id), npio::member("pos", &particle::pos),
            npio::member("name", &particle::name, "U16")); // at namespace scope

TEST(Readme, LibraryExampleRuns) {
  in_temp_dir tmp;
  npio::save("ints.npy", npio::array::from(std::vector<std::int32_t>{1, 2, 3}));
  npio::save("meta.npy", npio::py::make_object_array(
                             {}, {npio::py::dict({{"tags", npio::py::list({"a", "b"})},
                                                  {"shape", npio::py::tuple({2, 3})}})}));
  std::ostringstream cout_; // the README's std::cout
  auto& cout = cout_;
  // ---- begin README example (keep in sync) ----
  auto a = npio::array::from(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  npio::save("matrix.npy", a);
  npio::array b = npio::load("matrix.npy");
  double x = b.at<double>(1, 2);
  std::span<const double> all = b.view<double>();
  cout << b << "\n";

  npio::load_options opts;
  opts.mmap_mode = npio::mmap_mode::r;
  npio::array m = npio::load("matrix.npy", opts);
  std::span<const double> mapped = m.view<double>();
  auto md = m.mdview<double, 2>();
  npio::array w = npio::open_memmap("big.npy", {.mode = npio::mmap_mode::w_plus,
                                                .dtype = npio::dtype::parse("<f4"),
                                                .shape = npio::shape_t{1000, 1000}});
  w.mutable_view<float>()[0] = 1;

  std::vector<double> v = npio::load_as<double>("ints.npy");
  std::vector<float> f = b.to_vector<float>(npio::casting::same_kind);
  npio::array i = b.astype(npio::dtype::parse(">i2"));

  npio::array labels(npio::dtype::parse("<U8"), {2});
  labels.set("caf\u00e9", 0);
  std::string first = labels.at<std::string>(0);
  std::vector<std::string> all_labels = labels.to_vector<std::string>();

  npio::save("particles.npy", npio::array::from(std::vector<particle>{{1, {0, 1, 2}, "a"}}));
  std::vector<particle> ps = npio::load("particles.npy").to_vector<particle>();

  auto rec = npio::dtype::from_descr("[('id', '<i8'), ('pos', '>f4', (3,)), ('when', '<M8[ns]')]");

  if (auto r = npio::try_load("upload.npy"); !r) std::puts(r.error().what());

  npio::load_options trusted;
  trusted.allow_pickle = true;
  npio::array obj = npio::load("meta.npy", trusted);
  npio::py::value meta = npio::py::item(obj);
  auto tags = meta["tags"].as<std::vector<std::string>>();
  auto shape = meta["shape"].as<std::tuple<int, int>>();
  meta.insert("epoch", 3);
  int epoch = meta["epoch"].as<int>();
  std::size_t cells = 0;
  for (const auto& row : npio::py::tolist(b).items())
    cells += row.size();
  // ---- end README example ----

  EXPECT_EQ(x, 6.0);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[4], 5.0);
  EXPECT_EQ(cout_.str(), "array([[1., 2., 3.],\n       [4., 5., 6.]])\n");
  EXPECT_TRUE(m.equal(a));
  EXPECT_FALSE(m.writeable());
  EXPECT_EQ(mapped[5], 6.0);
  EXPECT_EQ(md(1, 2), 6.0);
  EXPECT_TRUE(w.writeable());
  EXPECT_EQ(w.at<float>(0, 0), 1.0f);
  EXPECT_EQ(w.shape(), (npio::shape_t{1000, 1000}));
  EXPECT_EQ(std::filesystem::file_size("big.npy"), 128u + 4'000'000u);
  EXPECT_EQ(v, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(f[5], 6.0f);
  EXPECT_EQ(i.dtype().str(), ">i2");
  EXPECT_EQ(i.at<std::int16_t>(1, 0), 4);
  EXPECT_EQ(first, "caf\xc3\xa9");
  EXPECT_EQ(all_labels, (std::vector<std::string>{"caf\xc3\xa9", ""}));
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].pos[2], 2.0f);
  EXPECT_EQ(ps[0].name, "a");
  EXPECT_EQ(rec.itemsize(), 8u + 12u + 8u);
  EXPECT_EQ(rec.descr(), "[('id', '<i8'), ('pos', '>f4', (3,)), ('when', '<M8[ns]')]");
  auto r = npio::try_load("upload.npy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), npio::errc::io_error);
  EXPECT_EQ(std::string(r.error().what()), "upload.npy: cannot open: No such file or directory");
  EXPECT_EQ(tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(shape, std::make_tuple(2, 3));
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(cells, 6u);
  try {
    (void)meta["epochs"];
    ADD_FAILURE() << "a missing key must throw";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.detail(), "KeyError: 'epochs'");
  }
}
