// What the npio subcommands share: error reporting, reading a .npy header
// without the data, and atomic file writes. Public npio API only.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <npio/npio.hpp>
#include <span>
#include <string>
#include <vector>

namespace npio_cli {

void register_info(CLI::App& app);
void register_json(CLI::App& app);
void register_from_json(CLI::App& app);

/// The one-line message for the exception being handled, "FILE: what went
/// wrong": npio::error messages already name their file; others get `file`
/// (nothing when `file` is empty).
/// Newlines are folded so the message stays on one line.
std::string describe_current_exception(const std::string& file);

/// Runs a subcommand's work. Any exception is reported as one line
/// "npio: FILE: what went wrong" on stderr and becomes CLI::RuntimeError(1),
/// which main turns into the exit status.
void run_command(const std::string& file, const std::function<void()>& work);

/// The whole file. Errors: io_error naming the file.
std::vector<std::byte> read_file(const std::filesystem::path& path);

/// The first `n` bytes of a file (fewer when it is shorter) and its size.
/// Errors: io_error.
std::vector<std::byte> read_prefix(const std::filesystem::path& path, std::size_t n,
                                   std::uint64_t& file_size);

/// Up to `n` bytes from `offset` (fewer at the end of the file) and the
/// file's size. Errors: io_error.
std::vector<std::byte> read_range(const std::filesystem::path& path, std::uint64_t offset,
                                  std::size_t n, std::uint64_t& file_size);

/// The preamble and header of a .npy held in bytes [offset, offset + length)
/// of a file (a stored archive member, say), reading only those bytes.
/// Errors: as npio::read_header, io_error.
npio::header read_npy_header_at(const std::filesystem::path& path, std::uint64_t offset,
                                std::uint64_t length, std::size_t max_header_size);

/// The preamble and header of a .npy file, reading only those bytes.
/// Errors: as npio::read_header, io_error.
npio::header read_npy_header(const std::filesystem::path& path, std::size_t max_header_size,
                             std::uint64_t& file_size);

/// True when `bytes` start with the .npy magic "\x93NUMPY".
bool has_npy_magic(std::span<const std::byte> bytes) noexcept;
/// True when `bytes` start like a zip archive (what np.load treats as .npz).
bool has_zip_magic(std::span<const std::byte> bytes) noexcept;

/// A file written in full or not at all: a temporary file in the target's
/// directory is renamed over the target by commit(); destroying an
/// uncommitted one removes the temporary file.
class atomic_file {
public:
  /// Errors: io_error naming the target.
  explicit atomic_file(std::filesystem::path target);
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  ~atomic_file();
  /// Errors: io_error.
  void write(std::span<const std::byte> bytes);
  /// Errors: io_error.
  void commit();

private:
  std::filesystem::path target_, temp_;
  int fd_ = -1;
};

/// A path in the same directory as `target` for a library call that writes
/// its own file (which then gets renamed); ends with `suffix`.
std::filesystem::path sibling_temp_path(const std::filesystem::path& target,
                                        const std::string& suffix);

} // namespace npio_cli
