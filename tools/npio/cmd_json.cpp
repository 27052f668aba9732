// npio json FILE: a .npy, .npz or pickle file as the tagged JSON of shared
// spec/json.md, on stdout.
#include "cli_common.hpp"
#include "json_array.hpp"
#include "json_value.hpp"

#include <cstdio>
#include <limits>
#include <memory>
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

// The document of one .npy held in memory (a file's or an archive member's bytes).
void write_npy_bytes(text_out& out, std::span<const std::byte> bytes,
                     const npio::load_options& lo) {
  npio::loaded l = npio::load(bytes, lo);
  if (!l.is_array()) {
    // An object .npy whose pickle holds something other than an array.
    write_json(out, loaded_value_to_json(l));
    return;
  }
  // load() has checked the header against the limits; read it again for its flag.
  const auto h = npio::read_header(bytes, std::numeric_limits<std::size_t>::max());
  write_npy_document(out, l.array(), h.fortran_order);
}

void run_json(const json_options& o) {
  npio::load_options lo;
  lo.allow_pickle = o.allow_pickle;
  if (o.max_header_given) lo.max_header_size = o.max_header_size;
  lo.pickle.encoding = o.encoding == "latin1"  ? npio::pickle_encoding::latin1
                       : o.encoding == "bytes" ? npio::pickle_encoding::bytes
                                               : npio::pickle_encoding::ascii;
  lo.pickle.allow_unknown_classes = o.inert;
  set_inert_objects(o.inert);

  text_out out(stdout);
  npio::loaded l = npio::load(o.file, lo);
  switch (l.type()) {
  case npio::loaded::kind::array: {
    // load() has checked the header; read it again (only the header) for its flag.
    std::uint64_t size = 0;
    const auto h = read_npy_header(o.file, std::numeric_limits<std::size_t>::max(), size);
    write_npy_document(out, l.array(), h.fortran_order);
    break;
  }
  case npio::loaded::kind::npz: {
    const npio::npz_file& z = l.npz();
    out.put(R"({"members": {)");
    bool first = true;
    for (const auto& m : z.members()) {
      if (!first) out.put(", ");
      first = false;
      write_json(out, json(m.key));
      out.put(": ");
      try {
        const auto bytes = z.bytes(m.filename);
        if (has_npy_magic(bytes)) {
          write_npy_bytes(out, bytes, lo);
        } else {
          out.put(R"({"$bytes": ")");
          out.put(base64_encode(bytes));
          out.put("\"}");
        }
      } catch (const npio::error& e) {
        throw e.with_context(o.file, m.key);
      }
      out.maybe_flush();
    }
    out.put("}}");
    break;
  }
  case npio::loaded::kind::value:
    write_json(out, loaded_value_to_json(l));
    break;
  }
  out.put('\n');
  out.flush();
}

} // namespace

void register_json(CLI::App& app) {
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
  sub->callback([o] { run_command(o->file, [&] { run_json(*o); }); });
}

} // namespace npio_cli
