// docs/guide.md, task 3: a structured array saved with np.savez_compressed.
#include "check.hpp"

#include <cstdint>
#include <filesystem>
#include <npio/npio.hpp>
#include <string>
#include <vector>

// [task3-struct]
struct particle {
  std::int32_t id;
  float pos[3];
  std::string name;
};
// The fields, listed once: names as in the file; the dtype's string type given for std::string.
NPIO_RECORD(particle, npio::member("id", &particle::id), npio::member("pos", &particle::pos),
            npio::member("name", &particle::name, "U8"));
// [task3-struct]

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : ".";

  // [task3]
  const npio::npz_file z = npio::npz_file::open(dir / "particles.npz");
  const npio::array p = z.at("particles"); // [('id', '<i4'), ('pos', '<f4', (3,)), ('name', '<U8')]
  // Read by field name; a missing field or an unsafe cast is an error naming the field.
  const std::vector<particle> ps = p.to_vector<particle>();
  for (const particle& q : ps)
    std::printf("id %d pos (%g, %g, %g) name %s\n", q.id, double(q.pos[0]), double(q.pos[1]),
                double(q.pos[2]), q.name.c_str());
  // One field as plain values: p.field("name").to_vector<std::string>().

  // Writing records: the same struct, the same dtype.
  const std::vector<particle> mine{{100, {0, 1, 2}, "new"}, {101, {1, 2, 3}, "\xce\xb2-p"}};
  const npio::array out = npio::array::from(mine);
  npio::savez_compressed(dir / "particles_out.npz", {{"particles", out}});
  // [task3]

  GUIDE_CHECK(ps.size() == 5 && ps[3].id == 30 && ps[4].pos[2] == 14.0f);
  GUIDE_CHECK(ps[3].name == "\xce\xb1-p3" &&
              p.field("name").to_vector<std::string>()[3] == "\xce\xb1-p3");
  GUIDE_CHECK(out.dtype() == p.dtype());
  const npio::array back = npio::npz_file::open(dir / "particles_out.npz").at("particles");
  GUIDE_CHECK(back.equal(out) && back.field("id").at<std::int32_t>(1) == 101);
  GUIDE_CHECK(back.field("name").at<std::string>(1) == "\xce\xb2-p");
  return 0;
}
