// npio pack OUT.npz NAME=FILE.npy ... [--compress]: build an archive from .npy files.
#pragma once

#include <CLI/CLI.hpp>

namespace npio_cli {
void register_pack(CLI::App& app);
} // namespace npio_cli
