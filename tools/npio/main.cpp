// npio: inspect and convert NumPy .npy/.npz files from the command line.
//
// Each subcommand reports a failure as one line "npio: FILE: what went wrong"
// on stderr and exits with status 1, usage errors included (status 2 and 3
// belong to `npio scan`'s verdicts). Nothing escapes main as an exception or a signal.
#include "cli.hpp"

#include <csignal>
#include <cstdio>
#include <string>

namespace npio_cli {

namespace {

// Newlines folded, then control characters, invalid UTF-8 and bidi overrides
// escaped (`\x1b`), as `npio scan` shows names: a crafted file or member name
// cannot redraw the error line. Backslashes stay (messages spell bytes as \xNN).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return npio::pickle::escape_name(s, false);
}

// The command registry, in the order `npio --help` lists them.
constexpr void (*commands[])(CLI::App&) = {add_info, add_json, add_from_json,
                                           add_scan, add_pack, add_unpack};

int run(int argc, char** argv) {
  CLI::App app{"Inspect and convert NumPy .npy and .npz files.", "npio"};
  app.require_subcommand(1);
  app.footer("Run 'npio COMMAND --help' for a command's options.");
  for (auto add : commands)
    add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code(); // a subcommand's status (it reported its own errors)
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

std::string describe_current_exception(const std::string& file) {
  const std::string prefix = file.empty() ? std::string() : file + ": ";
  try {
    throw;
  } catch (const npio::error& e) {
    if (e.file().empty() && !file.empty()) return one_line(e.with_context(file).what());
    return one_line(e.what());
  } catch (const std::bad_alloc&) {
    return one_line(prefix + "out of memory");
  } catch (const std::exception& e) {
    std::string what = e.what(); // nlohmann's start with a bracketed tag: keep the sentence
    if (what.starts_with("[json.exception") && what.find("] ") != std::string::npos)
      what.erase(0, what.find("] ") + 2);
    return one_line(prefix + what);
  } catch (...) {
    return one_line(prefix + "unknown error");
  }
}

void run_command(const std::string& file, const std::function<int()>& work) {
  int status = 1;
  try {
    status = work();
  } catch (...) {
    const std::string msg = describe_current_exception(file);
    std::fflush(stdout);
    std::fprintf(stderr, "npio: %s\n", msg.c_str());
  }
  if (status != 0) throw CLI::RuntimeError(status);
}

} // namespace npio_cli

int main(int argc, char** argv) {
  // A closed pipe (npio json big.npy | head) becomes a write error, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return npio_cli::run(argc, argv);
  } catch (...) {
    const std::string msg = npio_cli::describe_current_exception("");
    std::fprintf(stderr, "npio: %s\n", msg.c_str());
    return 1;
  }
}
