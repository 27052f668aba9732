// What the npio subcommands share: the command registry and the one error
// path. Public npio API only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <npio/npio.hpp>
#include <string>

namespace npio_cli {

/// Each command adds its CLI11 subcommand; main.cpp lists them all.
void add_info(CLI::App& app);
void add_json(CLI::App& app);
void add_from_json(CLI::App& app);
void add_scan(CLI::App& app);
void add_pack(CLI::App& app);
void add_unpack(CLI::App& app);

/// Runs a subcommand's work, which returns its exit status. Any exception is
/// reported as one line "npio: FILE: what went wrong" on stderr (npio::error
/// messages already name their file; others get `file`) and gives status 1.
/// A nonzero status becomes CLI::RuntimeError(status), which main returns.
void run_command(const std::string& file, const std::function<int()>& work);

/// The one-line message of the exception being handled (see run_command).
std::string describe_current_exception(const std::string& file);

} // namespace npio_cli
