// npio pack OUT.npz NAME=FILE.npy ... [--compress] [--level N] [--threads N]
//
// Members are named NAME.npy (NAME defaults to the file's stem), in the order
// given; the archive is written atomically, `.npz` appended when missing, as
// np.savez / np.savez_compressed do. Input files are mapped, not read whole.
#include "cmd_pack.hpp"

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

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  std::fflush(stdout);
  std::fprintf(stderr, "npio: %s%s%s\n", file.c_str(), file.empty() ? "" : ": ", what.c_str());
  throw CLI::RuntimeError(1);
}

npio::array load_input(const std::string& file) {
  npio::load_options o;
  o.mmap_mode = npio::mmap_mode::r; // zero-copy for plain arrays
  auto r = npio::try_load(std::filesystem::path(file), o);
  if (!r && r.code() == npio::errc::invalid_argument) {
    // Object arrays cannot be mapped: read them (pack trusts its inputs'
    // pickles no more than np.load would, so allow_pickle stays off).
    o.mmap_mode = npio::mmap_mode::none;
    r = npio::try_load(std::filesystem::path(file), o);
  }
  if (!r) throw r.error();
  if (!r->is_array()) throw npio::error(npio::errc::type_mismatch, "not a .npy file", file);
  return std::move(r->array());
}

void run_pack(const pack_args& a) {
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
    if (name.empty()) fail(file, "empty member name");
    if (!names.insert(name).second) fail(a.out, "member name '" + name + "' given twice");
    try {
      arrays.emplace_back(name, load_input(file));
    } catch (const npio::error& e) {
      fail({}, e.what());
    }
  }
  npio::savez_options o;
  o.compress = a.compress;
  o.level = a.level;
  o.threads = a.threads;
  progress_line bar("pack");
  o.progress = [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
  try {
    npio::savez(a.out, arrays, o);
  } catch (const npio::error& e) {
    bar.finish();
    fail({}, e.what());
  }
}

} // namespace

void register_pack(CLI::App& app) {
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
  cmd->callback([args] { run_pack(*args); });
}

} // namespace npio_cli
