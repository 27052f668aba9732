// `npio scan FILE`: lists the globals the pickles in a file reference.
#pragma once

#include <CLI/CLI.hpp>

namespace npio_cli {

/// Adds the `scan` subcommand. Its callback reports through CLI::RuntimeError:
/// exit 3 a dangerous or computed global, 2 an unknown global or a structural
/// anomaly (or a stream that breaks after a global), 1 not a pickle or broken
/// before any global, 0 everything read and allowlisted.
void register_scan(CLI::App& app);

} // namespace npio_cli
