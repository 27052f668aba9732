// docs/guide.md, task 2: column means of a memory-mapped float32 file.
#include "check.hpp"

#include <cmath>
#include <filesystem>
#include <npio/npio.hpp>
#include <vector>

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";

  // [task2]
  npio::load_options opts;
  opts.mmap_mode = npio::mmap_mode::r; // pages come in as they are read
  const npio::array m = npio::load(dir / "samples.npy", opts);
  if (m.dtype() != npio::dtype::parse("<f4") || m.ndim() != 2)
    throw npio::error(npio::errc::type_mismatch, "expected a 2-d float32 array");
  // view/mdview give const access, so a read-only mapping reads directly.
  const auto md = m.mdview<float, 2>();
  const std::int64_t rows = md.extent(0), cols = md.extent(1);
  std::vector<double> sum(static_cast<std::size_t>(cols), 0.0);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      sum[static_cast<std::size_t>(j)] += md(i, j);
  for (auto& s : sum)
    s /= double(rows);
  // [task2]

  std::printf("%lld rows, column means %g %g %g\n", (long long)rows, sum[0], sum[1], sum[2]);
  GUIDE_CHECK(rows == 4000 && cols == 3);
  GUIDE_CHECK(std::fabs(sum[0] - 1999.5) < 1e-9 && std::fabs(sum[1] - 3999.0) < 1e-9 &&
              sum[2] == 1.0);
  return 0;
}
