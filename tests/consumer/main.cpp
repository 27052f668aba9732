// Uses an installed npio as a user would: saves an array, loads it back,
// appends rows, writes and reads a compressed archive, and catches an
// npio::error thrown inside the library (typeinfo must cross a shared library).
#include <cstdio>
#include <npio/npio.hpp>
#include <string>
#include <vector>
#ifdef NPIO_CONSUMER_JSON
#include <npio/json.hpp>
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer FILE\n");
    return 2;
  }
  const std::string out = argv[1];
  try {
    const std::vector<double> values = {1.5, -2.0, 3.25, 4.0, 0.5, 6.0};
    const npio::array a = npio::array::from(values, npio::shape_t{2, 3});
    npio::save(out, a);
    const npio::array b = npio::load(npio::npy_path(out));
    if (!b.equal(a) || b.dtype().descr() != "'<f8'" || b.at<double>(1, 2) != 6.0) {
      std::fprintf(stderr, "consumer: the array did not survive the round trip\n");
      return 1;
    }
    npio::append(npio::npy_path(out), npio::array::from(std::vector<double>{7, 8, 9}));
    if (npio::read_header(npio::npy_path(out)).shape != npio::shape_t{3, 3}) {
      std::fprintf(stderr, "consumer: append did not grow the file\n");
      return 1;
    }
    npio::savez_compressed(out + ".npz", std::vector<npio::named_array>{{"a", a}});
    if (!npio::npz_file::open(out + ".npz").at("a").equal(a)) {
      std::fprintf(stderr, "consumer: the archive did not survive the round trip\n");
      return 1;
    }
    try {
      (void)npio::load(out + ".missing");
      std::fprintf(stderr, "consumer: loading a missing file did not throw\n");
      return 1;
    } catch (const npio::error& e) {
      if (e.code() != npio::errc::io_error) return 1;
    }
#ifdef NPIO_CONSUMER_JSON
    // The optional component, when the install has it (npio::json).
    npio::json::text_out text;
    npio::json::write_npy(text, a, false);
    if (text.str() != R"({"dtype": "<f8", "shape": [2, 3], "fortran_order": false, )"
                      R"("data": [[1.5, -2.0, 3.25], [4.0, 0.5, 6.0]]})") {
      std::fprintf(stderr, "consumer: npio::json wrote %s\n", text.str().c_str());
      return 1;
    }
#endif
    std::printf("consumer: saved, appended and loaded %s, shape (3, 3), descr %s\n",
                npio::npy_path(out).string().c_str(), b.dtype().descr().c_str());
  } catch (const npio::error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
