/// \file atomic_writer.hpp
/// A file written in full or not at all, exactly as named, by the mechanism
/// save() uses: a locked temporary file beside the target (beside the file a
/// symbolic link names, which is then replaced, not the link), renamed over
/// it on commit(); a large replaced file is freed in the background (see
/// flush_releases). Temporary files of writers that died are removed by the
/// next write to the directory (docs/design.md, "Writing").
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace npio {
inline namespace v1 {

class atomic_writer {
public:
  /// Creates the temporary file. Errors: io_error naming `target`.
  explicit atomic_writer(const std::filesystem::path& target);
  atomic_writer(atomic_writer&&) noexcept;
  atomic_writer& operator=(atomic_writer&&) = delete;
  /// Removes the temporary file unless committed.
  ~atomic_writer();
  /// Appends bytes. Errors: io_error (ENOSPC, ...).
  void write(std::span<const std::byte> bytes);
  /// Optionally fsyncs, then renames over the target. Errors: io_error.
  void commit(bool sync = false);

  struct impl;

private:
  std::unique_ptr<impl> p_;
};

} // namespace v1
} // namespace npio
