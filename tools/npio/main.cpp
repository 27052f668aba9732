// npio: inspect and convert NumPy .npy/.npz files from the command line.
//
// Each subcommand reports a failure as one line "npio: FILE: what went wrong"
// on stderr and exits with status 1, usage errors included (status 2 and 3
// belong to `npio scan`'s verdicts). Nothing escapes main as an exception or a signal.
#include "cli_common.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#if __has_include("cmd_scan.hpp")
#include "cmd_scan.hpp"
#define NPIO_CLI_HAS_SCAN 1
#endif
#if __has_include("cmd_pack.hpp")
#include "cmd_pack.hpp"
#define NPIO_CLI_HAS_PACK 1
#endif
#if __has_include("cmd_unpack.hpp")
#include "cmd_unpack.hpp"
#define NPIO_CLI_HAS_UNPACK 1
#endif

namespace {

int run(int argc, char** argv) {
  CLI::App app{"Inspect and convert NumPy .npy and .npz files.", "npio"};
  app.require_subcommand(1);
  app.footer("Run 'npio COMMAND --help' for a command's options.");
  npio_cli::register_info(app);
  npio_cli::register_json(app);
  npio_cli::register_from_json(app);
#ifdef NPIO_CLI_HAS_SCAN
  npio_cli::register_scan(app);
#endif
#ifdef NPIO_CLI_HAS_PACK
  npio_cli::register_pack(app);
#endif
#ifdef NPIO_CLI_HAS_UNPACK
  npio_cli::register_unpack(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    // A subcommand finished with this status (and reported its own errors).
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e); // --help
    std::fflush(stdout);
    std::fprintf(stderr, "npio: %s (see 'npio --help')\n", e.what());
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // A closed pipe (npio json big.npy | head) becomes a write error, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (...) {
    const std::string msg = npio_cli::describe_current_exception("");
    std::fprintf(stderr, "npio: %s\n", msg.c_str());
    return 1;
  }
}
