// Whole files <-> documents: `npio json FILE` and `npio from-json IN OUT`
// (docs/cli.md), over the library's load, savez and atomic writers.
#include "json_internal.hpp"

#include <cerrno>
#include <cstring>
#include <limits>
#include <npio/atomic_writer.hpp>
#include <npio/pickle.hpp>
#include <stdlib.h>

namespace npio {
inline namespace v1 {
namespace json {

using namespace internal;

namespace {

void write_value_document(text_out& out, const py::value& v, const write_options& options) {
  out.put(R"({"pickle": )");
  write(out, value_to_json(v, options));
  out.put('}');
}

// The document of one .npy held in memory (an archive member's bytes).
void write_npy_bytes(text_out& out, std::span<const std::byte> bytes, const load_options& lo,
                     const write_options& options) {
  loaded l = load(bytes, lo);
  // load() has checked the header against the limits; read it again for its flag.
  const bool fortran =
      l.is_array() && read_header(bytes, std::numeric_limits<std::size_t>::max()).fortran_order;
  write_loaded(out, l, fortran, lo, options);
}

} // namespace

void write_loaded(text_out& out, loaded& l, bool fortran_order, const load_options& lo,
                  const write_options& options) {
  switch (l.type()) {
  case loaded::kind::array:
    return write_npy(out, l.array(), fortran_order, options);
  case loaded::kind::value:
    // a raw pickle, or an object .npy whose pickle holds something else than an array
    return write_value_document(out, l.value(), options);
  case loaded::kind::npz:
    break;
  }
  const npz_file& z = l.npz();
  out.put(R"({"members": {)");
  bool first = true;
  for (const auto& m : z.members()) {
    if (!first) out.put(", ");
    first = false;
    write(out, node(m.key));
    out.put(": ");
    try {
      const auto bytes = z.bytes(m.filename);
      if (sniff(bytes) == file_kind::npy) {
        write_npy_bytes(out, bytes, lo, options);
      } else {
        out.put(R"({"$bytes": ")");
        out.put(base64_encode(bytes));
        out.put("\"}");
      }
    } catch (const error& e) {
      throw e.with_context(z.path().string(), m.key);
    }
    out.maybe_flush();
  }
  out.put("}}");
}

void write_file(text_out& out, const std::filesystem::path& path, const load_options& lo,
                const write_options& options) {
  loaded l = load(path, lo);
  // load() has checked the header; read it again (only the header) for its flag.
  const bool fortran =
      l.is_array() && read_header(path, std::numeric_limits<std::size_t>::max()).fortran_order;
  try {
    write_loaded(out, l, fortran, lo, options);
  } catch (const error& e) {
    if (!e.file().empty()) throw;
    throw e.with_context(path.string());
  }
}

namespace {

// Writes OUT exactly (no suffix appended, unlike np.save), atomically.
void save_npy(const std::filesystem::path& out, const array& a, bool fortran_order) {
  atomic_writer f(out);
  if (a.dtype().has_object()) {
    f.write(save_bytes(a)); // the pickle follows the header, as np.save writes it
  } else {
    const std::string header = format_header(a.dtype(), a.shape(), fortran_order);
    f.write(std::as_bytes(std::span(header)));
    a.for_each_chunk(fortran_order ? order::f : order::c,
                     [&](std::span<const std::byte> chunk) { f.write(chunk); });
  }
  f.commit(true);
}

// savez appends ".npz" when missing: the archive is then written into a
// private directory beside the file OUT names and renamed over OUT.
void save_npz(const std::filesystem::path& out, const std::vector<npz_member>& members) {
  savez_options so;
  so.sync = true;
  if (out.extension() == ".npz") return savez(out, members, so);
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(out, ec);
  if (ec) real = out;
  std::filesystem::path dir = real.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + real.filename().string() + ".npio-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    throw error(errc::io_error,
                std::string("cannot create a temporary directory: ") + std::strerror(errno),
                out.string());
  const std::filesystem::path tmp(tmpl);
  try {
    savez(tmp / "a.npz", members, so);
    replace_file(tmp / "a.npz", out);
  } catch (const error& e) {
    std::filesystem::remove_all(tmp, ec);
    throw error(e.code(), e.detail(), out.string(), e.member(), e.offset());
  } catch (...) {
    std::filesystem::remove_all(tmp, ec);
    throw;
  }
  std::filesystem::remove(tmp, ec);
}

void save_pickle(const std::filesystem::path& out, const py::value& v) {
  atomic_writer f(out);
  f.write(pickle::dumps(v, 4));
  f.commit(true);
}

} // namespace

void save_document(const document& doc, const std::filesystem::path& out) {
  const node& root = *doc.root;
  if (!root.is_object())
    invalid("expected a JSON object: a .npy document, {\"members\": ...} or {\"pickle\": ...}");
  if (root.contains("members")) {
    if (root.size() != 1) invalid("a .npz document has only the key \"members\"");
    const auto members = npz_from_json(root["members"], &doc.numbers);
    return save_npz(out, members);
  }
  if (root.contains("pickle")) {
    if (root.size() != 1) invalid("a pickle document has only the key \"pickle\"");
    return save_pickle(out, value_from_json(root["pickle"], &doc.numbers));
  }
  bool fortran = false;
  const array a = npy_from_json(root, &doc.numbers, fortran);
  save_npy(out, a, fortran);
}

} // namespace json
} // namespace v1
} // namespace npio
