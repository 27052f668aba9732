// npio demo: save three arrays NumPy can read, then load them back.
//
//   npio_demo OUT_DIR
//
// writes OUT_DIR/matrix.npy (a float64 matrix), OUT_DIR/table.npy (a
// big-endian structured table) and OUT_DIR/times.npy (a datetime64 column).
// examples/run-demo.sh (`make run`) then shows them with `npio info`,
// `npio json` and, when it is installed, NumPy.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <npio/npio.hpp>
#include <string>
#include <vector>

namespace {

npio::array make_matrix() {
  std::vector<double> values;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      values.push_back(i + 0.25 * j);
  return npio::array::from(values, npio::shape_t{3, 4});
}

npio::array make_table() {
  // np.dtype([('id', '>i4'), ('name', 'S8'), ('score', '>f8'), ('pos', '>f4', (2,))])
  const auto dt =
      npio::dtype::record({{"id", npio::dtype::parse(">i4")},
                           {"name", npio::dtype::parse("S8")},
                           {"score", npio::dtype::parse(">f8")},
                           {"pos", npio::dtype::subarray(npio::dtype::parse(">f4"), {2})}});
  npio::array table(dt, {3});
  const char* names[] = {"ada", "grace", "linus"};
  npio::array id = table.field("id"), name = table.field("name"), score = table.field("score"),
              pos = table.field("pos");
  for (std::int64_t i = 0; i < 3; ++i) {
    id.set<std::int32_t>(static_cast<std::int32_t>(100 + i), i);
    score.set<double>(90.5 - 7.25 * static_cast<double>(i), i);
    pos.set<float>(static_cast<float>(i), i, 0);
    pos.set<float>(static_cast<float>(i) / 2 - 1, i, 1);
    // S8: the bytes, NUL-padded (the array starts zero-filled)
    std::byte* p = name.mutable_data() + i * name.strides()[0];
    std::memcpy(p, names[i], std::strlen(names[i]));
  }
  return table;
}

npio::array make_times() {
  // datetime64[s]: seconds since 1970-01-01T00:00:00, and NaT
  const std::vector<std::int64_t> seconds = {0, 1700000000, 1893456000,
                                             std::numeric_limits<std::int64_t>::min()};
  npio::array t(npio::dtype::datetime('M', npio::time_unit::s), {4});
  for (std::int64_t i = 0; i < 4; ++i)
    t.set<std::int64_t>(seconds[static_cast<std::size_t>(i)], i);
  return t;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: npio_demo OUT_DIR\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  try {
    std::filesystem::create_directories(out);
    const std::pair<const char*, npio::array> arrays[] = {
        {"matrix", make_matrix()}, {"table", make_table()}, {"times", make_times()}};
    for (const auto& [name, a] : arrays) {
      const auto path = npio::npy_path(out / name); // np.save appends .npy
      npio::save(path, a);
      // read it back and check it survived
      npio::array back = npio::load(path);
      std::string shape = "(";
      for (std::size_t i = 0; i < back.ndim(); ++i)
        shape += std::to_string(back.shape()[i]) + (back.ndim() == 1      ? ","
                                                    : i + 1 < back.ndim() ? ", "
                                                                          : "");
      std::cout << "saved " << path.string() << ": " << a.dtype().name() << ", shape " << shape
                << "), descr " << back.dtype().descr() << (back.equal(a) ? "" : "  MISMATCH")
                << "\n";
      if (!back.equal(a)) return 1;
    }
  } catch (const npio::error& e) {
    std::cerr << "npio_demo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
