// docs/guide.md, task 5: a file from someone you do not trust.
#include "check.hpp"

#include <filesystem>
#include <map>
#include <npio/npio.hpp>
#include <string>

// [task5]
// Loads an upload without trusting it: no pickles (the default), small limits,
// and every failure a value, not an exception.
npio::result<npio::array> load_upload(const std::filesystem::path& p) {
  npio::load_options o;
  o.allow_pickle = false;      // the default: pickles are refused
  o.max_header_size = 10000;   // NumPy's default
  o.max_data_bytes = 64 << 20; // no upload above 64 MiB
  auto r = npio::try_load(p, o);
  if (!r) return r.error(); // bad_magic, truncated, pickle_disallowed, ...
  if (!r->is_array()) return npio::error(npio::errc::type_mismatch, "not a .npy file", p.string());
  return std::move(r->array());
}
// [task5]

int main(int argc, char** argv) {
  const std::filesystem::path dir = std::filesystem::path(argc > 1 ? argv[1] : ".") / "untrusted";
  std::map<std::string, npio::errc> got;
  for (const char* name : {"good.npy", "table.npy", "model.npy", "cut.npy", "huge.npy"}) {
    const auto r = load_upload(dir / name);
    got[name] = r.code();
    std::printf("%-10s %s\n", name, r ? "ok" : r.error().what());
  }
  GUIDE_CHECK(got["good.npy"] == npio::errc::ok);
  GUIDE_CHECK(got["table.npy"] == npio::errc::bad_magic);
  GUIDE_CHECK(got["model.npy"] == npio::errc::pickle_disallowed);
  GUIDE_CHECK(got["cut.npy"] == npio::errc::truncated);
  GUIDE_CHECK(got["huge.npy"] == npio::errc::size_overflow ||
              got["huge.npy"] == npio::errc::limit_exceeded);
  return 0;
}
