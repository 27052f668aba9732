// npio pack OUT.npz NAME=FILE.npy ... [--compress] [--level N] [--threads N]
//
// Members are named NAME.npy (NAME defaults to the file's stem), in the order
// given; the archive is written atomically, `.npz` appended when missing, as
// np.savez / np.savez_compressed do. Input files are mapped, not read whole.
#include "cli.hpp"
#include "progress.hpp"

#include <cstdio>
#include <npio/npio.hpp>
#include <npio/npz.hpp>
#include <set>
#include <string>
#include <vector>

namespace npio_cli {
namespace {

struct pack_args {
  std::string out;
  std::vector<std::string> inputs;
  bool compress = false;
  int level = 6;
  unsigned threads = 0;
};

npio::array load_input(const std::string& file) {
  npio::load_options o;
  o.mmap_mode = npio::mmap_mode::r; // zero-copy for plain arrays
  // Object arrays cannot be mapped: they are read (pack trusts its inputs'
  // pickles no more than np.load would, so allow_pickle stays off).
  try {
    if (npio::read_header(std::filesystem::path(file), o.max_header_size).dtype.has_object())
      o.mmap_mode = npio::mmap_mode::none;
  } catch (const npio::error&) {
    // not a readable .npy: load reports it
  }
  npio::loaded l = npio::load(std::filesystem::path(file), o);
  if (!l.is_array()) throw npio::error(npio::errc::type_mismatch, "not a .npy file", file);
  return std::move(l.array());
}

int run_pack(const pack_args& a) {
  std::vector<npio::named_array> arrays;
  std::set<std::string> names;
  for (const auto& in : a.inputs) {
    std::string name, file;
    if (const auto eq = in.find('='); eq != std::string::npos) {
      name = in.substr(0, eq);
      file = in.substr(eq + 1);
    } else {
      file = in;
      name = std::filesystem::path(file).stem().string();
    }
    if (name.empty()) throw npio::error(npio::errc::invalid_argument, "empty member name", file);
    if (!names.insert(name).second)
      throw npio::error(npio::errc::invalid_argument, "member name '" + name + "' given twice",
                        a.out);
    arrays.emplace_back(name, load_input(file));
  }
  npio::savez_options o;
  o.compress = a.compress;
  o.level = a.level;
  o.threads = a.threads;
  progress_line bar("pack");
  o.progress = [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
  npio::savez(a.out, arrays, o);
  return 0;
}

} // namespace

void add_pack(CLI::App& app) {
  auto args = std::make_shared<pack_args>();
  auto* cmd = app.add_subcommand("pack", "Write .npy files into a .npz archive (np.savez).");
  cmd->add_option("out", args->out, "the archive to write (.npz is appended when missing)")
      ->required();
  cmd->add_option("inputs", args->inputs, "NAME=FILE.npy (or FILE.npy, named by its stem)")
      ->required();
  cmd->add_flag("--compress,-z", args->compress, "deflate the members (np.savez_compressed)");
  cmd->add_option("--level", args->level, "deflate level 1-12 (default 6)")
      ->check(CLI::Range(1, 12));
  cmd->add_option("--threads", args->threads, "compression threads (default: all cores)");
  cmd->callback([args] { run_command(args->out, [&] { return run_pack(*args); }); });
}

} // namespace npio_cli
