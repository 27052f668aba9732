// npio info FILE: format version, dtype in words, shape, order, data offset
// and size of a .npy file, or of each member of a .npz archive.
#include "cli_common.hpp"

#include <algorithm>
#include <cstdio>
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
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k) s += ", ";
    s += std::to_string(shape[k]);
  }
  if (shape.size() == 1) s += ',';
  return s + ")";
}

const char* method_name(std::uint16_t m) {
  switch (m) {
  case 0:
    return "stored";
  case 8:
    return "deflated";
  case 12:
    return "bzip2";
  case 14:
    return "lzma";
  default:
    return "unknown method";
  }
}

void line(std::string& out, const char* key, const std::string& value) {
  out += key;
  out += ':';
  out.append(13 - std::string_view(key).size(), ' ');
  out += value;
  out += '\n';
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
  if (h.dtype.has_object()) {
    const std::uint64_t n = total > h.data_offset ? total - h.data_offset : 0;
    line(out, "data size", "pickled, " + std::to_string(n) + " bytes");
  } else {
    line(out, "data size", std::to_string(h.data_size) + " bytes");
    if (total < h.data_offset + h.data_size)
      throw npio::error(npio::errc::truncated,
                        "file seems not fully written: expected " + std::to_string(h.data_size) +
                            " bytes of array data, found " +
                            std::to_string(total > h.data_offset ? total - h.data_offset : 0),
                        {}, {}, h.data_offset);
  }
}

void info(const info_options& o) {
  std::uint64_t size = 0;
  const auto pre = read_prefix(o.file, 8, size);
  std::string out;
  line(out, "file", o.file);
  if (has_zip_magic(pre)) {
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
        if (m.method == 0 && m.compressed_size == m.uncompressed_size) {
          // Stored: read the header in place instead of the whole member.
          std::uint64_t ignored = 0;
          const auto magic = read_range(
              o.file, m.data_offset,
              static_cast<std::size_t>(std::min<std::uint64_t>(8, m.uncompressed_size)), ignored);
          if (!has_npy_magic(magic)) {
            line(out, "format", "not a .npy file");
            continue;
          }
          describe_npy(
              out,
              read_npy_header_at(o.file, m.data_offset, m.uncompressed_size, o.max_header_size),
              m.uncompressed_size);
          continue;
        }
        // A compressed member: inflate only as far as its header (by filename,
        // which stays unambiguous when both x and x.npy exist).
        if (!z.is_npy(m.filename)) {
          line(out, "format", "not a .npy file");
          continue;
        }
        describe_npy(out, z.header_of(m.filename), m.uncompressed_size);
      } catch (const npio::error& e) {
        throw e.with_context(o.file, m.key);
      }
    }
  } else if (pre.size() >= 2 && pre[0] == std::byte{0x80} && !has_npy_magic(pre)) {
    // What np.load would unpickle: a pickle with a PROTO opcode (protocol 2+).
    line(out, "format", "pickle, protocol " + std::to_string(static_cast<unsigned>(pre[1])));
    line(out, "size", std::to_string(size) + " bytes");
  } else {
    const auto h = read_npy_header(o.file, o.max_header_size, size);
    describe_npy(out, h, size);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0)
    throw npio::error(npio::errc::io_error, "cannot write the output", "<stdout>");
}

} // namespace

void register_info(CLI::App& app) {
  auto o = std::make_shared<info_options>();
  auto* sub = app.add_subcommand(
      "info", "Show the format version, dtype, shape, order, data offset and size of a .npy "
              "file, or of each member of a .npz archive.");
  sub->add_option("FILE", o->file, "a .npy or .npz file")->required();
  sub->add_option("--max-header-size", o->max_header_size,
                  "largest header accepted, in bytes (NumPy's default: 10000)")
      ->capture_default_str();
  sub->callback([o] { run_command(o->file, [&] { info(*o); }); });
}

} // namespace npio_cli
