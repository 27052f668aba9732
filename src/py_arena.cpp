// node_arena: the py::value nodes of one pickle load, bump-allocated from
// 2 MiB chunks (see py_node.hpp). A chunk starts with its header: a count that
// holds `bias` while the arena allocates from the chunk, minus one per node
// destroyed; closing the chunk takes back the bias less the nodes made, so
// the count then equals the nodes alive, and the last one frees the chunk.
#include "py_node.hpp"

#include <cstdint>
#include <sys/mman.h>

namespace npio {
inline namespace v1 {
namespace py {
namespace detail {

namespace {

struct chunk_header {
  std::atomic<std::uint64_t> live;
};
// More nodes than a chunk can hold: the count cannot reach zero while open.
constexpr std::uint64_t bias = std::uint64_t(1) << 40;
constexpr std::size_t header_size = 64; // keeps nodes off the header's cache line

chunk_header* chunk_of(const void* p) noexcept {
  return reinterpret_cast<chunk_header*>(reinterpret_cast<std::uintptr_t>(p) &
                                         ~(std::uintptr_t(node_arena::chunk_size) - 1));
}

// chunk_size bytes aligned to chunk_size (so a node finds its header by
// masking its address): map twice the size and trim both ends.
void* map_chunk() {
  constexpr std::size_t n = node_arena::chunk_size;
  void* raw = ::mmap(nullptr, 2 * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto a = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (a + n - 1) & ~(std::uintptr_t(n) - 1);
  if (aligned > a) ::munmap(raw, aligned - a);
  if (aligned + n < a + 2 * n)
    ::munmap(reinterpret_cast<void*>(aligned + n), a + 2 * n - aligned - n);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_POPULATE_WRITE
  ::madvise(p, n, MADV_POPULATE_WRITE);
#endif
  return p;
}

void unmap_chunk(chunk_header* c) noexcept {
  c->~chunk_header();
  ::munmap(c, node_arena::chunk_size);
}

} // namespace

void node_arena::refill() {
  close();
  void* p = map_chunk();
  auto* h = ::new (p) chunk_header{};
  h->live.store(bias, std::memory_order_relaxed);
  chunk_ = p;
  cur_ = static_cast<std::byte*>(p) + header_size;
  end_ = static_cast<std::byte*>(p) + chunk_size;
  count_ = 0;
}

void node_arena::close() noexcept {
  if (!chunk_) return;
  auto* h = static_cast<chunk_header*>(chunk_);
  const std::uint64_t give_back = bias - count_;
  if (h->live.fetch_sub(give_back, std::memory_order_acq_rel) == give_back) unmap_chunk(h);
  chunk_ = nullptr;
  cur_ = end_ = nullptr;
  count_ = 0;
}

void arena_release(node* n) noexcept {
  chunk_header* h = chunk_of(n);
  if (h->live.fetch_sub(1, std::memory_order_acq_rel) == 1) unmap_chunk(h);
}

defer_hook& current_defer_hook() noexcept {
  thread_local defer_hook hook;
  return hook;
}

} // namespace detail
} // namespace py
} // namespace v1
} // namespace npio
