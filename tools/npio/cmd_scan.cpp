// `npio scan FILE`: every global the pickles in a file reference (object .npy
// payloads, object members of an .npz, raw pickle files), classified safe
// (npio reconstructs it), unknown, or dangerous. Reconstructs nothing.
#include "cmd_scan.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <npio/npio.hpp>
#include <npio/pickle.hpp>
#include <string>
#include <vector>

namespace npio_cli {

namespace {

struct finding {
  std::string source;
  npio::pickle::global_ref ref;
};

std::vector<std::byte> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw npio::error(npio::errc::io_error, "cannot open file", path);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

bool starts_with(const std::vector<std::byte>& b, const char* magic, std::size_t n) {
  return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
}

npio::pickle::options scan_options() {
  npio::pickle::options o;
  // Python 2 str payloads are never decoded while scanning.
  o.encoding = npio::pickle_encoding::bytes;
  return o;
}

// Scans the pickle after an .npy header when the dtype holds objects.
void scan_npy(const std::vector<std::byte>& bytes, const std::string& source,
              std::vector<finding>& out, bool& any_pickle) {
  const npio::header h = npio::read_header(bytes, std::numeric_limits<std::size_t>::max() / 8);
  if (!h.dtype.has_object()) return;
  any_pickle = true;
  if (h.data_offset > bytes.size())
    throw npio::error(npio::errc::truncated, "the file ends inside its header", source);
  const auto payload =
      std::span<const std::byte>(bytes).subspan(static_cast<std::size_t>(h.data_offset));
  for (auto& g : npio::pickle::scan(payload, scan_options())) {
    g.offset += h.data_offset;
    out.push_back({source, std::move(g)});
  }
}

int run(const std::string& path) {
  std::vector<finding> found;
  bool any_pickle = false;
  const auto bytes = read_all(path);
  if (starts_with(bytes, "PK\x03\x04", 4) || starts_with(bytes, "PK\x05\x06", 4)) {
    npio::load_options lo;
    lo.allow_pickle = true;
    auto z = npio::npz_file::open(path, lo);
    for (const auto& m : z.members()) {
      const auto data = z.bytes(m.filename);
      if (starts_with(data, "\x93NUMPY", 6))
        scan_npy(data, path + ":" + m.filename, found, any_pickle);
    }
  } else if (starts_with(bytes, "\x93NUMPY", 6)) {
    scan_npy(bytes, path, found, any_pickle);
  } else {
    any_pickle = true;
    for (auto& g : npio::pickle::scan(bytes, scan_options()))
      found.push_back({path, std::move(g)});
  }
  int status = 0;
  if (!any_pickle) std::printf("%s: no pickled data\n", path.c_str());
  for (const auto& f : found) {
    const auto& g = f.ref;
    std::printf("%-9s %s.%s  (%s, offset %llu, %zu reference%s)\n",
                npio::pickle::safety_name(g.classification), g.module.c_str(), g.name.c_str(),
                f.source.c_str(), static_cast<unsigned long long>(g.offset), g.count,
                g.count == 1 ? "" : "s");
    if (g.classification == npio::pickle::safety::dangerous)
      status = 3;
    else if (g.classification == npio::pickle::safety::unknown && status < 2)
      status = 2;
  }
  std::fflush(stdout);
  return status;
}

} // namespace

void register_scan(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "scan", "List every global the pickles in FILE reference (.npy object data, .npz members, "
              "raw pickles), classified safe, unknown or dangerous; reconstructs nothing. Exit "
              "status: 0 all safe, 2 unknown present, 3 dangerous present, 1 unreadable.");
  auto file = std::make_shared<std::string>();
  sub->add_option("FILE", *file, "a .npy, .npz or pickle file")->required();
  sub->callback([file] {
    int code = 1;
    try {
      code = run(*file);
    } catch (const npio::error& e) {
      if (e.file().empty())
        std::fprintf(stderr, "npio scan: %s: %s\n", file->c_str(), e.what());
      else
        std::fprintf(stderr, "npio scan: %s\n", e.what());
      code = 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "npio scan: %s: %s\n", file->c_str(), e.what());
      code = 1;
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

} // namespace npio_cli
