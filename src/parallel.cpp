#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

unsigned default_threads() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n ? std::min(n, 64u) : 1u;
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& f) {
  if (threads == 0) threads = default_threads();
  const std::size_t workers = std::min<std::size_t>(threads, n);
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i)
      f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first;
  std::mutex mu;
  auto run = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n || stop.load()) return;
      try {
        f(i);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!first) first = std::current_exception();
        stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t t = 1; t < workers; ++t) {
    try {
      pool.emplace_back(run);
    } catch (const std::system_error&) {
      break; // no more threads: the ones started and this one do it all
    }
  }
  run();
  for (auto& t : pool)
    t.join();
  if (first) std::rethrow_exception(first);
}

} // namespace detail
} // namespace v1
} // namespace npio
