// docs/guide.md, task 3: a structured array saved with np.savez_compressed.
#include "check.hpp"

#include <cstdint>
#include <filesystem>
#include <npio/npio.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";

  // [task3]
  const npio::npz_file z = npio::npz_file::open(dir / "particles.npz");
  const npio::array p = z.at("particles"); // [('id', '<i4'), ('pos', '<f4', (3,)), ('name', '<U8')]
  const npio::array ids = p.field("id");   // views of one field each
  const npio::array pos = p.field("pos");  // shape (n, 3)
  const npio::array name = p.field("name");
  // NEW-API: a C++ struct bound to the dtype (records), and name.to_vector<std::string>()
  const npio::py::value names = npio::py::tolist(name);
  for (std::int64_t i = 0; i < p.shape()[0]; ++i)
    std::printf("id %d pos (%g, %g, %g) name %s\n", ids.at<std::int32_t>(i),
                double(pos.at<float>(i, 0)), double(pos.at<float>(i, 1)),
                double(pos.at<float>(i, 2)), names.at(i).as<std::string>().c_str());

  // Writing records: numeric fields through field views of a new array.
  npio::array out(p.dtype(), {2});
  npio::array out_id = out.field("id");
  npio::array out_pos = out.field("pos");
  for (std::int64_t i = 0; i < 2; ++i) {
    out_id.set<std::int32_t>(static_cast<std::int32_t>(100 + i), i);
    for (std::int64_t k = 0; k < 3; ++k)
      out_pos.set<float>(float(i + k), i, k);
  }
  // NEW-API: out.field("name").set(std::string("new"), 0) (string setters on S/U fields)
  npio::savez_compressed(dir / "particles_out.npz", {{"particles", out}});
  // [task3]

  GUIDE_CHECK(p.shape() == (npio::shape_t{5}) && ids.at<std::int32_t>(3) == 30);
  GUIDE_CHECK(pos.at<float>(4, 2) == 14.0f && names.at(3).as<std::string>() == "\xce\xb1-p3");
  const npio::array back = npio::npz_file::open(dir / "particles_out.npz").at("particles");
  GUIDE_CHECK(back.equal(out) && back.field("id").at<std::int32_t>(1) == 101);
  return 0;
}
