// Saves an array with an installed npio, loads it back and checks it.
#include <cstdio>
#include <npio/npio.hpp>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer FILE\n");
    return 2;
  }
  try {
    const std::vector<double> values = {1.5, -2.0, 3.25, 4.0, 0.5, 6.0};
    const npio::array a = npio::array::from(values, npio::shape_t{2, 3});
    npio::save(argv[1], a);
    const npio::array b = npio::load(npio::npy_path(argv[1]));
    if (!b.equal(a) || b.dtype().descr() != "'<f8'" || b.at<double>(1, 2) != 6.0) {
      std::fprintf(stderr, "consumer: the array did not survive the round trip\n");
      return 1;
    }
    std::printf("consumer: saved and loaded %s, shape (2, 3), descr %s\n",
                npio::npy_path(argv[1]).string().c_str(), b.dtype().descr().c_str());
  } catch (const npio::error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
