/// \file load_into.hpp
/// Loading a .npy file into memory the caller already has: for reading many
/// files of one dtype and shape into one reused buffer without allocating or
/// touching fresh pages (see docs/performance.md).
#pragma once

#include <filesystem>
#include <npio/io.hpp>

namespace npio {
inline namespace v1 {

/// Reads the data of the .npy file at `path` straight into the memory of
/// `dst`, with no allocation and no conversion. `dst` must already have the
/// file's dtype (byte order included) and shape, be writeable, and be
/// contiguous in the file's order (C, or Fortran when the header says
/// fortran_order; either for 0-d and 1-d). Uses `max_header_size` and
/// `max_data_bytes` of `options`; `mmap_mode` and the pickle options do not
/// apply. On error `dst` may hold part of the data.
/// Errors: every header error, truncated, io_error (messages name the file),
/// type_mismatch (dtype differs, or object data), bad_shape (shape differs),
/// invalid_argument (not contiguous in the file's order), not_writeable,
/// limit_exceeded (data larger than max_data_bytes).
void load_into(const std::filesystem::path& path, array& dst, const load_options& options = {});

/// The non-throwing twin of load_into.
result<void> try_load_into(const std::filesystem::path& path, array& dst,
                           const load_options& options = {}) noexcept;

} // namespace v1
} // namespace npio
