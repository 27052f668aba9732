// npio unpack IN.npz DIR: write every member of an archive into DIR.
#pragma once

#include <CLI/CLI.hpp>

namespace npio_cli {
void register_unpack(CLI::App& app);
} // namespace npio_cli
