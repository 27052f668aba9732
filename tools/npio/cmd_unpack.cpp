// npio unpack IN.npz DIR
//
// Writes every member of the archive as DIR/NAME (its name in the archive),
// CRC-checked, each atomically (npio::atomic_writer). Names that could land
// outside DIR (absolute, `..`, drive letters, backslashes) are refused before
// anything is written, and no file is written through a symbolic link.
#include "cli.hpp"
#include "progress.hpp"

#include <npio/atomic_writer.hpp>
#include <string>

namespace npio_cli {

namespace {

struct unpack_args {
  std::string in, dir;
  unsigned threads = 0; // kept for compatibility: members are written one by one
};

// Creates the directories of `rel` under `root` one level at a time, refusing
// symbolic links on the way and at the end.
std::filesystem::path prepare(const std::filesystem::path& root, const std::string& rel) {
  std::filesystem::path at = root;
  for (const auto& part : std::filesystem::path(rel)) {
    if (at != root && !std::filesystem::exists(at)) std::filesystem::create_directory(at);
    at /= part;
    std::error_code ec;
    if (std::filesystem::is_symlink(at, ec))
      throw npio::error(npio::errc::zip_bad_name,
                        "refusing to write through symbolic link " + at.string());
  }
  return at;
}

int run_unpack(const unpack_args& a) {
  const auto z = npio::npz_file::open(a.in);
  std::uint64_t total = 0, done = 0;
  for (const auto& m : z.members()) {
    if (!npio::safe_member_name(m.filename) || m.filename.back() == '/')
      throw npio::error(npio::errc::zip_bad_name,
                        "unsafe member name '" + m.filename + "' (nothing was written)", a.in);
    total += m.uncompressed_size;
  }
  const std::filesystem::path root(a.dir);
  std::filesystem::create_directories(root);
  progress_line bar("unpack");
  for (const auto& m : z.members()) {
    npio::atomic_writer f(prepare(root, m.filename));
    f.write(z.bytes(m.filename));
    f.commit();
    bar.update(done += m.uncompressed_size, total);
  }
  return 0;
}

} // namespace

void add_unpack(CLI::App& app) {
  auto args = std::make_shared<unpack_args>();
  auto* cmd = app.add_subcommand("unpack", "Write the members of a .npz archive into a directory.");
  cmd->add_option("in", args->in, "the archive")->required()->check(CLI::ExistingFile);
  cmd->add_option("dir", args->dir, "where to write the members (created when missing)")
      ->required();
  cmd->add_option("--threads", args->threads, "ignored (members are written in turn)");
  cmd->callback([args] { run_command(args->dir, [&] { return run_unpack(*args); }); });
}

} // namespace npio_cli
