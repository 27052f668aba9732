// `npio scan FILE`: lists the globals the pickles in a file reference.
#pragma once

#include <CLI/CLI.hpp>

namespace npio_cli {

/// Adds the `scan` subcommand. Its callback reports through CLI::RuntimeError:
/// exit 0 all safe, 2 an unknown global, 3 a dangerous one, 1 unreadable.
void register_scan(CLI::App& app);

} // namespace npio_cli
