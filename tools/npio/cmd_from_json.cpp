// npio from-json IN.json OUT: the inverse of `npio json`. Writes a .npy for
// a .npy document, a .npz for {"members": ...}, a raw pickle for {"pickle": ...}.
#include "cli_common.hpp"
#include "json_array.hpp"
#include "json_value.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_set>

namespace npio_cli {

namespace {

struct from_json_options {
  std::string input;
  std::string output;
};

// Writes OUT exactly (no suffix appended, unlike np.save), atomically.
void write_npy(const std::filesystem::path& out, const npio::array& a, bool fortran_order) {
  atomic_file f(out);
  if (a.dtype().has_object()) {
    // The pickle follows the header; the library writes it as np.save does.
    f.write(npio::save_bytes(a));
  } else {
    const std::string header = npio::format_header(a.dtype(), a.shape(), fortran_order);
    f.write(std::as_bytes(std::span(header)));
    a.for_each_chunk(fortran_order ? npio::order::f : npio::order::c,
                     [&](std::span<const std::byte> chunk) { f.write(chunk); });
  }
  f.commit();
}

void write_npz(const std::filesystem::path& out, const json& members, const number_texts& texts) {
  if (!members.is_object())
    throw npio::error(npio::errc::invalid_argument, "\"members\" must be an object");
  // In document order, which is archive order: arrays become NAME.npy, and
  // {"$bytes": ...} members (not .npy files) are written as NAME exactly.
  std::vector<npio::npz_member> arrays;
  std::unordered_set<std::string> stored; // member names in the archive
  for (const auto& [name, doc] : members.get_ref<const json::object_t&>()) {
    try {
      const bool raw = doc.is_object() && doc.size() == 1 && doc.contains("$bytes");
      // "x" (an array, stored as x.npy) and "x.npy" (bytes) cannot both be written.
      if (!stored.insert(raw ? name : name + ".npy").second)
        throw npio::error(npio::errc::invalid_argument, "another member is also stored as '" +
                                                            (raw ? name : name + ".npy") + "'");
      if (raw) {
        const json& b64 = doc["$bytes"];
        if (!b64.is_string())
          throw npio::error(npio::errc::invalid_argument, "\"$bytes\" must be a string");
        arrays.emplace_back(
            npio::raw_member{name, base64_decode(b64.get_ref<const std::string&>())});
        continue;
      }
      bool fortran = false;
      arrays.emplace_back(npio::named_array(name, npy_document_from_json(doc, &texts, fortran)));
    } catch (const npio::error& e) {
      throw npio::error(e.code(), "member \"" + name + "\": " + e.detail(), e.file(), e.member(),
                        e.offset());
    }
  }
  // savez writes atomically (and frees a replaced file in the background)
  // but appends ".npz" when missing: then give it a temporary name with the
  // suffix and rename that to exactly OUT.
  if (out.extension() == ".npz") {
    npio::savez(out, arrays);
    return;
  }
  const auto temp = sibling_temp_path(out, ".npz");
  try {
    npio::savez(temp, arrays);
    npio::replace_file(temp, out);
  } catch (const npio::error& e) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    if (e.file() != temp.string()) throw;
    // Name the file being written, not its temporary name.
    throw npio::error(e.code(), e.detail(), out.string(), e.member(), e.offset());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw;
  }
}

void run_from_json(const from_json_options& o) {
  parsed_json doc;
  {
    const auto bytes = read_file(o.input); // freed once parsed
    doc = parse_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  const json& root = *doc.root;
  if (!root.is_object())
    throw npio::error(npio::errc::invalid_argument,
                      "expected a JSON object: a .npy document, {\"members\": ...} or "
                      "{\"pickle\": ...}");
  try {
    if (root.contains("members")) {
      if (root.size() != 1)
        throw npio::error(npio::errc::invalid_argument,
                          "a .npz document has only the key \"members\"");
      write_npz(o.output, root["members"], doc.numbers);
    } else if (root.contains("pickle")) {
      if (root.size() != 1)
        throw npio::error(npio::errc::invalid_argument,
                          "a pickle document has only the key \"pickle\"");
      // Written under a temporary name and renamed, so OUT appears complete or not at all.
      const auto temp = sibling_temp_path(o.output, ".pkl");
      try {
        write_pickle_file(temp, root["pickle"]);
        npio::replace_file(temp, o.output);
      } catch (...) {
        std::error_code ec;
        std::filesystem::remove(temp, ec);
        throw;
      }
    } else {
      bool fortran = false;
      const npio::array a = npy_document_from_json(root, &doc.numbers, fortran);
      write_npy(o.output, a, fortran);
    }
  } catch (const npio::error& e) {
    // Errors about the document name the input; write errors name the output.
    if (e.file().empty()) throw e.with_context(o.input);
    throw;
  }
}

} // namespace

void register_from_json(CLI::App& app) {
  auto o = std::make_shared<from_json_options>();
  auto* sub = app.add_subcommand(
      "from-json", "Write the .npy, .npz or pickle file a tagged JSON document describes "
                   "(the inverse of 'npio json').");
  sub->add_option("IN", o->input, "the JSON document")->required();
  sub->add_option("OUT", o->output,
                  "the file to write, exactly as named (no suffix is added); written "
                  "atomically")
      ->required();
  sub->callback([o] { run_command(o->input, [&] { run_from_json(*o); }); });
}

} // namespace npio_cli
