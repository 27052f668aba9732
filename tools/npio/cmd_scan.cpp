// `npio scan FILE`: every global the pickles in a file reference (object .npy
// payloads, object members of an .npz, raw pickle files), classified safe
// (npio reconstructs it), unknown, or dangerous, with the structural anomalies
// and the error that stopped the scan. Reconstructs nothing.
#include "cli.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <npio/pickle.hpp>
#include <string>
#include <vector>

namespace npio_cli {

namespace {

namespace pk = npio::pickle;

struct scanned {
  std::string source;
  std::uint64_t base = 0; // offset of the pickle in the source
  pk::scan_report report;
};

std::vector<std::byte> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw npio::error(npio::errc::io_error, "cannot open file", path);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

// Scans the pickle after an .npy header when the dtype holds objects.
void scan_npy(const std::vector<std::byte>& bytes, const std::string& source,
              const pk::options& opt, std::vector<scanned>& out, bool& any_pickle) {
  const npio::header h = npio::read_header(bytes, std::numeric_limits<std::size_t>::max() / 8);
  if (!h.dtype.has_object()) return;
  any_pickle = true;
  if (h.data_offset > bytes.size())
    throw npio::error(npio::errc::truncated, "the file ends inside its header", source);
  const auto payload =
      std::span<const std::byte>(bytes).subspan(static_cast<std::size_t>(h.data_offset));
  out.push_back({source, h.data_offset, pk::scan_all(payload, opt)});
}

std::string esc(std::string_view s) {
  return pk::escape_name(s);
}
// Messages spell bytes as \xNN already: their backslashes stay.
std::string esc_msg(std::string_view s) {
  return pk::escape_name(s, false);
}

int run(const std::string& path, const pk::options& opt) {
  std::vector<scanned> found;
  bool any_pickle = false;
  const auto bytes = read_all(path);
  const npio::file_kind kind = npio::sniff(bytes);
  if (kind == npio::file_kind::npz) {
    npio::load_options lo;
    lo.allow_pickle = true;
    auto z = npio::npz_file::open(path, lo);
    for (const auto& m : z.members()) {
      const auto data = z.bytes(m.filename);
      if (npio::sniff(data) == npio::file_kind::npy)
        scan_npy(data, path + ":" + m.filename, opt, found, any_pickle);
    }
  } else if (kind == npio::file_kind::npy) {
    scan_npy(bytes, path, opt, found, any_pickle);
  } else {
    any_pickle = true;
    found.push_back({path, 0, pk::scan_all(bytes, opt)});
  }
  if (!any_pickle) std::printf("%s: no pickled data\n", esc(path).c_str());
  int status = 0;
  for (const auto& f : found) {
    const auto& r = f.report;
    const std::string src = esc(f.source);
    for (const auto& g : r.globals) {
      std::printf("%-9s %s.%s  (%s, offset %llu, %zu reference%s",
                  pk::safety_name(g.classification), esc(g.module).c_str(), esc(g.name).c_str(),
                  src.c_str(), static_cast<unsigned long long>(f.base + g.offset), g.count,
                  g.count == 1 ? "" : "s");
      if (g.computed)
        std::printf("; computed: %s", g.note.c_str());
      else if (!g.note.empty())
        std::printf("; %s", g.note.c_str());
      std::printf(")\n");
    }
    for (const auto& a : r.anomalies)
      std::printf("anomaly   %s: %s  (%s, offset %llu)\n", pk::anomaly_name(a.what),
                  esc_msg(a.message).c_str(), src.c_str(),
                  static_cast<unsigned long long>(f.base + a.offset));
    if (r.pickles > 1)
      std::printf("pickles   %zu read one after another  (%s)\n", r.pickles, src.c_str());
    if (r.error) {
      std::fflush(stdout);
      std::fprintf(stderr, "npio scan: %s: %s (at byte %llu)%s\n", src.c_str(),
                   esc_msg(r.error->detail()).c_str(),
                   static_cast<unsigned long long>(f.base + r.error->offset().value_or(0)),
                   r.globals.empty() ? "" : "; the globals above were read before it");
    }
    const pk::safety v = r.verdict();
    const int s = v == pk::safety::dangerous ? 3
                  : r.unreadable()           ? 1
                  : v == pk::safety::unknown ? 2
                                             : 0;
    status = std::max(status, s);
  }
  std::fflush(stdout);
  return status;
}

} // namespace

void add_scan(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "scan", "List every global the pickles in FILE reference (.npy object data, .npz members, "
              "raw pickles, and pickles concatenated after the first), classified safe, unknown or "
              "dangerous, with structural anomalies; reconstructs nothing. Exit status: 3 a "
              "dangerous or computed global (even if the stream breaks later), 2 an unknown "
              "global, an anomaly, or a stream that breaks after a global, 1 not a pickle (or "
              "broken before any global), 0 read to the end and every global allowlisted.");
  auto file = std::make_shared<std::string>();
  auto encoding = std::make_shared<std::string>("latin1");
  sub->add_option("FILE", *file, "a .npy, .npz or pickle file")->required();
  sub->add_option("--encoding", *encoding,
                  "how Python 2 str operands are decoded, as np.load's encoding (latin1, the "
                  "default, reads every name ASCII would, and more)")
      ->check(CLI::IsMember({"ascii", "latin1", "bytes"}));
  sub->callback([file, encoding] {
    pk::options opt;
    opt.encoding = *encoding == "ascii"   ? npio::pickle_encoding::ascii
                   : *encoding == "bytes" ? npio::pickle_encoding::bytes
                                          : npio::pickle_encoding::latin1;
    run_command(*file, [&] { return run(*file, opt); });
  });
}

} // namespace npio_cli
