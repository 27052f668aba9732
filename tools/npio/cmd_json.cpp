// npio json FILE: a .npy, .npz or pickle file as the tagged JSON of shared
// spec/json.md, on stdout (npio::json::write_file).
#include "cli.hpp"

#include <cstdio>
#include <memory>
#include <npio/json.hpp>
#include <string>

namespace npio_cli {

namespace {

struct json_options {
  std::string file;
  bool allow_pickle = false;
  std::size_t max_header_size = 10000;
  bool max_header_given = false;
  std::string encoding = "ascii";
  bool inert = false;
};

int run_json(const json_options& o) {
  npio::load_options lo;
  lo.allow_pickle = o.allow_pickle;
  if (o.max_header_given) lo.max_header_size = o.max_header_size;
  lo.pickle.encoding = o.encoding == "latin1"  ? npio::pickle_encoding::latin1
                       : o.encoding == "bytes" ? npio::pickle_encoding::bytes
                                               : npio::pickle_encoding::ascii;
  lo.pickle.allow_unknown_classes = o.inert;
  npio::json::text_out out(stdout);
  npio::json::write_file(out, o.file, lo, {.inert = o.inert});
  out.put('\n');
  out.flush();
  return 0;
}

} // namespace

void add_json(CLI::App& app) {
  auto o = std::make_shared<json_options>();
  auto* sub = app.add_subcommand(
      "json", "Print a .npy, .npz or pickle file as tagged JSON (see docs/cli.md).");
  sub->add_option("FILE", o->file, "a .npy, .npz or pickle file")->required();
  sub->add_flag("--allow-pickle", o->allow_pickle,
                "read object arrays and pickle files (decoded without running any code); "
                "also lifts the header size limit, as NumPy does");
  sub->add_option("--max-header-size", o->max_header_size,
                  "largest header accepted, in bytes (NumPy's default: 10000)")
      ->each([o](const std::string&) { o->max_header_given = true; });
  sub->add_option("--encoding", o->encoding,
                  "how Python 2 str objects in pickles are decoded, as np.load's encoding")
      ->check(CLI::IsMember({"ascii", "latin1", "bytes"}))
      ->capture_default_str();
  sub->add_flag("--inert", o->inert,
                "keep instances of unknown classes as inert {\"$object\": ...} values "
                "instead of failing (nothing is ever executed)");
  sub->callback([o] { run_command(o->file, [&] { return run_json(*o); }); });
}

} // namespace npio_cli
