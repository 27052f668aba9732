// npio info FILE: format version, dtype in words, shape, order, data offset
// and size of a .npy file, or of each member of a .npz archive.
#include "cli.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

namespace npio_cli {

namespace {

struct info_options {
  std::string file;
  std::size_t max_header_size = 10000;
};

std::string shape_text(const npio::shape_t& shape) {
  std::string s = "(";
  for (std::size_t k = 0; k < shape.size(); ++k)
    s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

const char* method_name(std::uint16_t m) {
  return m == 0    ? "stored"
         : m == 8  ? "deflated"
         : m == 12 ? "bzip2"
         : m == 14 ? "lzma"
                   : "unknown method";
}

void line(std::string& out, const char* key, const std::string& value) {
  out += key;
  out += ':';
  out.append(13 - std::string_view(key).size(), ' ');
  out += value + '\n';
}

// The lines describing one .npy (file or member) of `total` bytes.
void describe_npy(std::string& out, const npio::header& h, std::uint64_t total) {
  line(out, "format",
       "npy " + std::to_string(h.version.major) + "." + std::to_string(h.version.minor));
  line(out, "dtype", h.dtype.name());
  line(out, "descr", h.dtype.descr());
  line(out, "shape", shape_text(h.shape));
  line(out, "order", h.fortran_order ? "Fortran" : "C");
  line(out, "data offset", std::to_string(h.data_offset));
  const std::uint64_t present = total > h.data_offset ? total - h.data_offset : 0;
  if (h.dtype.has_object())
    return line(out, "data size", "pickled, " + std::to_string(present) + " bytes");
  line(out, "data size", std::to_string(h.data_size) + " bytes");
  if (present < h.data_size)
    throw npio::error(npio::errc::truncated,
                      "file seems not fully written: expected " + std::to_string(h.data_size) +
                          " bytes of array data, found " + std::to_string(present),
                      {}, {}, h.data_offset);
}

int info(const info_options& o) {
  unsigned char pre[8] = {};
  std::ifstream in(o.file, std::ios::binary);
  if (!in) throw npio::error(npio::errc::io_error, "cannot open the file", o.file);
  in.read(reinterpret_cast<char*>(pre), sizeof pre);
  const auto got = in.gcount();
  in.close();
  const npio::file_kind kind =
      npio::sniff(std::as_bytes(std::span(pre, static_cast<std::size_t>(got))));
  const bool npy = kind == npio::file_kind::npy;
  std::string out;
  line(out, "file", o.file);
  if (kind == npio::file_kind::npz) {
    npio::load_options lo;
    lo.max_header_size = o.max_header_size;
    auto z = npio::npz_file::open(o.file, lo);
    const auto& members = z.members();
    line(out, "format",
         "npz archive, " + std::to_string(members.size()) +
             (members.size() == 1 ? " member" : " members"));
    for (const auto& m : members) {
      out += '\n';
      line(out, "member",
           m.key + " (" + m.filename + ", " + method_name(m.method) + ", " +
               std::to_string(m.compressed_size) + " of " + std::to_string(m.uncompressed_size) +
               " bytes)");
      try {
        // By filename, which stays unambiguous when both x and x.npy exist;
        // header_of inflates (or reads in place) only as far as the header.
        if (!z.is_npy(m.filename))
          line(out, "format", "not a .npy file");
        else
          describe_npy(out, z.header_of(m.filename), m.uncompressed_size);
      } catch (const npio::error& e) {
        throw e.with_context(o.file, m.key);
      }
    }
  } else if (!npy && got >= 2 && pre[0] == 0x80) {
    // What np.load would unpickle: a pickle with a PROTO opcode (protocol 2+).
    line(out, "format", "pickle, protocol " + std::to_string(pre[1]));
    line(out, "size", std::to_string(std::filesystem::file_size(o.file)) + " bytes");
  } else {
    const auto h = npio::read_header(std::filesystem::path(o.file), o.max_header_size);
    describe_npy(out, h, npy ? std::filesystem::file_size(o.file) : 0);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0)
    throw npio::error(npio::errc::io_error, "cannot write the output", "<stdout>");
  return 0;
}

} // namespace

void add_info(CLI::App& app) {
  auto o = std::make_shared<info_options>();
  auto* sub = app.add_subcommand(
      "info", "Show the format version, dtype, shape, order, data offset and size of a .npy "
              "file, or of each member of a .npz archive.");
  sub->add_option("FILE", o->file, "a .npy or .npz file")->required();
  sub->add_option("--max-header-size", o->max_header_size,
                  "largest header accepted, in bytes (NumPy's default: 10000)")
      ->capture_default_str();
  sub->callback([o] { run_command(o->file, [&] { return info(*o); }); });
}

} // namespace npio_cli
