// npio from-json IN.json OUT: the inverse of `npio json`. Writes a .npy for
// a .npy document, a .npz for {"members": ...}, a raw pickle for {"pickle": ...}
// (npio::json::save_document: exactly OUT, atomically, through a symbolic link).
#include "cli.hpp"

#include <fstream>
#include <iterator>
#include <memory>
#include <npio/json.hpp>
#include <string>

namespace npio_cli {

namespace {

struct from_json_options {
  std::string input;
  std::string output;
};

int run_from_json(const from_json_options& o) {
  npio::json::document doc;
  {
    std::ifstream in(o.input, std::ios::binary);
    if (!in) throw npio::error(npio::errc::io_error, "cannot open the file", o.input);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw npio::error(npio::errc::io_error, "cannot read the file", o.input);
    doc = npio::json::parse(text); // the text is freed once parsed
  }
  try {
    npio::json::save_document(doc, o.output);
  } catch (const npio::error& e) {
    // Errors about the document name the input; write errors name the output.
    if (e.file().empty()) throw e.with_context(o.input);
    throw;
  }
  return 0;
}

} // namespace

void add_from_json(CLI::App& app) {
  auto o = std::make_shared<from_json_options>();
  auto* sub = app.add_subcommand(
      "from-json", "Write the .npy, .npz or pickle file a tagged JSON document describes "
                   "(the inverse of 'npio json').");
  sub->add_option("IN", o->input, "the JSON document")->required();
  sub->add_option("OUT", o->output,
                  "the file to write, exactly as named (no suffix is added); written "
                  "atomically")
      ->required();
  sub->callback([o] { run_command(o->input, [&] { return run_from_json(*o); }); });
}

} // namespace npio_cli
