// Work shared among threads: the one place npio starts worker threads for a
// loop (archive members and chunks, a large file's parts).
#pragma once

#include <cstddef>
#include <functional>

namespace npio {
inline namespace v1 {
namespace detail {

/// The hardware's thread count, 1 to 64.
unsigned default_threads() noexcept;

/// Runs f(i) for i in [0, n) on up to `threads` threads (0: hardware), this
/// one included, each taking the next i; rethrows the first exception (the
/// others then start no new i). Where the system gives fewer threads (or
/// none), the ones started do it all.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& f);

} // namespace detail
} // namespace v1
} // namespace npio
