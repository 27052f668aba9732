// docs/guide.md, task 4: append rows to a .npy log; read rows 1000..2000 of a big file.
#include "check.hpp"

#include <cstdint>
#include <filesystem>
#include <npio/npio.hpp>
#include <vector>

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";
  std::filesystem::remove(dir / "log.npy");

  // [task4-append]
  // A log of (step, loss) rows: created on first use, grown in place.
  std::int64_t logged = 0;
  {
    npio::npy_appender log(dir / "log.npy", {}, npio::dtype::parse("<f8"), {2});
    for (int step = 0; step < 100; ++step) {
      const std::vector<double> row = {double(step), 1.0 / (1 + step)};
      log.append(npio::array::from(row)); // held in a 64 KiB buffer, like a Python file's
      if (step % 10 == 9) log.flush();    // now readers see these rows, and a crash keeps them
    }
    logged = log.rows();
  } // closing the appender flushes the rest and unlocks the file
  // One-off appends open, lock and close the file each time; rows of shape (k, 2) or (2,).
  npio::append(dir / "log.npy", npio::array::from(std::vector<double>{100, 0.0099}));
  // [task4-append]

  // [task4-rows]
  const npio::header h = npio::read_header(dir / "big.npy"); // the header alone
  // Rows 1000..2000 by pread: memory for 1000 rows, no mapping.
  const npio::array part = npio::load_rows(dir / "big.npy", 1000, 2000);
  // Or every row, 512 at a time, holding one chunk (also for .npz members:
  // npz_file::reader(name), deflated or stored).
  npio::npy_reader reader(dir / "big.npy");
  std::int64_t total = 0;
  while (auto chunk = reader.next(512))
    for (std::int64_t i = 0; i < chunk->shape()[0]; ++i)
      total += chunk->at<std::int64_t>(i, 0);
  // [task4-rows]

  std::printf("log rows %lld; big.npy shape (%lld, %lld), rows 1000..2000 start with %lld; "
              "sum of column 0 %lld\n",
              (long long)logged, (long long)h.shape[0], (long long)h.shape[1],
              (long long)part.at<std::int64_t>(0, 0), (long long)total);
  GUIDE_CHECK(logged == 100);
  GUIDE_CHECK(npio::read_header(dir / "log.npy").shape == (npio::shape_t{101, 2}));
  GUIDE_CHECK(part.shape() == (npio::shape_t{1000, 4}) && part.at<std::int64_t>(0, 0) == 4000);
  GUIDE_CHECK(total == 4 * (4999LL * 5000 / 2));
  return 0;
}
