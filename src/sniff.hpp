// What a file that is neither .npy nor zip looks like: a plausible pickle, or
// something else (bad_magic). Used by load's dispatch (src/io.cpp).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace npio {
inline namespace v1 {
namespace detail {

/// How many leading bytes looks_like_pickle and the messages use.
inline constexpr std::size_t sniff_bytes = 64;

/// Whether `head` (the first bytes of a file, up to sniff_bytes) starts like a
/// pickle stream; the rule is in docs/errors.md ("plausible pickle").
bool looks_like_pickle(std::span<const std::byte> head) noexcept;

/// `b` as Python's repr of bytes: b'id,x\n\x00', or b"it's" when that needs no escape.
std::string python_bytes_repr(std::span<const std::byte> b);

/// bad_magic for a file that is neither .npy, zip nor pickle, showing its first bytes.
[[noreturn]] void throw_not_npy(std::span<const std::byte> head);

/// pickle_disallowed for a raw pickle file loaded without allow_pickle.
[[noreturn]] void throw_pickle_disallowed(std::span<const std::byte> head);

} // namespace detail
} // namespace v1
} // namespace npio
