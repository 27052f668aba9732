// Private layout of py::value nodes, shared by the value type and the pickle
// layer (which mutates shared nodes in place while a stream is decoded, to get
// Python's reference semantics, and then checks the result for cycles).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <npio/py/value.hpp>
#include <string>
#include <vector>

namespace npio {
inline namespace v1 {
namespace py {
namespace detail {

struct node {
  std::atomic<std::uint32_t> refs{1};
  std::uint32_t mark = 0;  // scratch for graph walks (pickle result checks)
  std::uint32_t depth = 0; // containers: nesting depth, kept by the pickle VM
  std::uint8_t flags = 0;  // node_pooled | node_pinned | node_deferred
};

// node::flags. Pooled: the memory comes from a node_arena chunk (freed with
// the chunk's last node). Pinned: the pickle VM's memo refers to the node
// without owning a reference (see defer_hook). Deferred: a pinned node whose
// count reached zero while the VM ran; the VM destroys it (or not, when a
// memo GET brought it back) when it finishes.
inline constexpr std::uint8_t node_pooled = 1;
inline constexpr std::uint8_t node_pinned = 2;
inline constexpr std::uint8_t node_deferred = 4;

// Bump allocation of the nodes of one pickle load, from 2 MiB chunks
// prefaulted in one call: no per-node malloc, and no page fault per 4 KiB
// (no huge pages: their compaction stalled first loads, docs/pickle.md). A chunk is freed when
// the arena is done with it and its last node is destroyed (on any thread:
// the chunk's count is atomic), so values outlive the load as usual; one
// surviving value keeps its chunk's memory.
class node_arena {
public:
  node_arena() = default;
  node_arena(const node_arena&) = delete;
  node_arena& operator=(const node_arena&) = delete;
  ~node_arena() { close(); }
  // A default-constructed node of type N (refs == 1). Errors: std::bad_alloc.
  template <class N> N* make() {
    static_assert(alignof(N) <= 16 && sizeof(N) <= 1024);
    constexpr std::size_t size = (sizeof(N) + 15) & ~std::size_t(15);
    if (size > static_cast<std::size_t>(end_ - cur_)) refill();
    N* n = ::new (static_cast<void*>(cur_)) N();
    cur_ += size;
    ++count_;
    n->flags = node_pooled;
    return n;
  }
  static constexpr std::size_t chunk_size = std::size_t(2) << 20;

private:
  void refill();
  void close() noexcept;
  std::byte* cur_ = nullptr;
  std::byte* end_ = nullptr;
  void* chunk_ = nullptr;
  std::uint64_t count_ = 0; // nodes made from the current chunk
};

// Gives back the memory of a pooled node whose destructor has run.
void arena_release(node* n) noexcept;

// Destroys a node object whose count reached zero (not its children: the
// caller took them) and frees its memory, pooled or not.
template <class N> void free_node(N* n) noexcept {
  if (n->flags & node_pooled) {
    n->~N();
    arena_release(n);
  } else {
    delete n;
  }
}

// While the pickle VM runs on a thread, pinned nodes whose count reaches
// zero are handed to it instead of being destroyed (its memo still refers to
// them). Set only by the VM, for the nodes it made.
struct defer_hook {
  void (*fn)(void* ctx, kind k, node* n) = nullptr;
  void* ctx = nullptr;
};
defer_hook& current_defer_hook() noexcept;

// A hash index over a container's items (open addressing; slots hold
// position + 1, 0 is empty), built past 8 items. One pointer: most containers
// never get one, and a pickle makes millions of small ones.
class hash_index {
public:
  std::size_t size() const noexcept { return t_ ? t_->size() : 0; }
  bool empty() const noexcept { return size() == 0; }
  std::uint32_t& operator[](std::size_t i) noexcept { return (*t_)[i]; }
  // n slots, all v.
  void assign(std::size_t n, std::uint32_t v) {
    if (!t_) t_ = std::make_unique<std::vector<std::uint32_t>>();
    t_->assign(n, v);
  }
  void clear() noexcept { t_.reset(); }

private:
  std::unique_ptr<std::vector<std::uint32_t>> t_;
};

struct str_node : node { // str, bytes, bytearray, decimal
  std::string s;
};
struct bigint_node : node { // minimal little-endian two's complement
  std::vector<std::uint8_t> le;
};
struct complex_node : node {
  double re = 0, im = 0;
};
struct seq_node : node { // list, tuple, set, frozenset
  std::vector<value> items;
  hash_index index; // sets only
};
struct dict_node : node {
  dict_entries items;
  hash_index index;
};
struct array_node : node {
  npio::array a;
  bool pending = false; // made by _reconstruct, waiting for BUILD
};
struct scalar_node : node {
  npio::dtype dt;
  std::string raw;
};
struct dtype_node : node {
  npio::dtype dt;
  char ctor_kind = 0; // from numpy.dtype('f8', ...) until BUILD
  std::size_t ctor_size = 0;
  bool pending = false;
};
struct datetime_node : node { // datetime, date, time
  datetime_t dt;
  value tzinfo;
};
struct timedelta_node : node {
  timedelta_t td;
};
struct global_node : node {
  std::string module, name;
};
struct object_node : node {
  std::string cls;
  value args;
  value state;
  value list_items; // None, or a list of APPENDed items
  value dict_items; // None, or a dict of SETITEMS
};

// Raw access for the pickle layer.
struct access {
  static node* ptr(const value& v) noexcept { return v.is_heap() ? v.u_.p : nullptr; }
  static bool heap(const value& v) noexcept { return v.is_heap(); }
  template <class N> static N& as(const value& v) noexcept { return *static_cast<N*>(v.u_.p); }
  static kind tag(const value& v) noexcept { return v.tag(); }
  static bool big(const value& v) noexcept { return v.big(); }
  // Takes ownership of a fresh node (refs == 1).
  static value make(kind k, node* n, bool big = false) noexcept {
    value v;
    v.meta_ = value::meta_of(k) | value::heap_flag | (big ? value::big_flag : 0);
    v.u_.p = n;
    return v;
  }
  static void set_kind(value& v, kind k) noexcept {
    v.meta_ = (v.meta_ & ~value::meta_of(kind(0xff))) | value::meta_of(k);
  }
  static constexpr std::size_t small_max = value::small_max;
  // A str of at most small_max bytes, held inline.
  static value small_str(std::string_view s) noexcept {
    static_assert(offsetof(value, u_) == 8 && sizeof(value) == 16 &&
                  value::small_offset + value::small_max == sizeof(value));
    unsigned char b[sizeof(value)] = {};
    b[0] = static_cast<unsigned char>(kind::str);
    b[2] = static_cast<unsigned char>(s.size() + 1);
    if (!s.empty()) std::memcpy(b + value::small_offset, s.data(), s.size());
    value v;
    std::memcpy(&v.meta_, b, 8);
    std::memcpy(&v.u_, b + 8, 8);
    return v;
  }
  // The same from a buffer with at least small_max bytes readable at p
  // (n <= small_max of them the str's): whole-word loads, no byte loop.
  static value small_str_at(const char* p, std::size_t n) noexcept {
    if constexpr (!value::little) {
      return small_str({p, n});
    } else {
      std::uint64_t w0, w1;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + 5, 8);
      if (n <= 5) {
        w0 = n ? w0 & (~std::uint64_t(0) >> (64 - 8 * n)) : 0;
        w1 = 0;
      } else {
        w1 &= ~std::uint64_t(0) >> (64 - 8 * (n - 5));
      }
      value v;
      v.meta_ = value::meta_of(kind::str) | std::uint64_t(n + 1) << value::small_shift | w0 << 24;
      v.u_.i = static_cast<std::int64_t>(w1);
      return v;
    }
  }
  // The text of a str, bytes, bytearray or decimal value.
  static std::string_view text(const value& v) noexcept;
  // Reference counting without atomic instructions, for nodes no other thread
  // can see yet (the pickle VM's own): a copy, and dropping a reference.
  static value local_copy(const value& v) noexcept {
    value r;
    r.meta_ = v.meta_;
    r.u_ = v.u_;
    if (v.is_heap())
      v.u_.p->refs.store(v.u_.p->refs.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
    return r;
  }
  static void local_release(value& v) noexcept {
    if (!v.is_heap()) return;
    auto& refs = v.u_.p->refs;
    const std::uint32_t n = refs.load(std::memory_order_relaxed);
    if (n > 1) {
      refs.store(n - 1, std::memory_order_relaxed);
      forget(v);
    } else {
      v = value(); // the last reference: the usual destruction
    }
  }
  // A value's words without ownership (the pickle VM's memo slots), with a
  // `present` flag (all zero: absent).
  struct raw {
    static constexpr std::uint64_t present_flag = std::uint64_t(4) << value::flag_shift;
    std::uint64_t meta = 0, bits = 0;
    bool present() const noexcept { return meta & present_flag; }
    kind tag() const noexcept { return static_cast<kind>((meta >> value::tag_shift) & 0xff); }
  };
  static raw to_raw(const value& v) noexcept {
    raw r;
    r.meta = v.meta_ | raw::present_flag;
    std::memcpy(&r.bits, &v.u_, 8);
    return r;
  }
  static value from_raw(const raw& r) noexcept {
    value v;
    v.meta_ = r.meta & ~raw::present_flag;
    std::memcpy(&v.u_, &r.bits, 8);
    return v;
  }
  static node* raw_ptr(const raw& r) noexcept {
    value v = from_raw(r);
    node* n = v.is_heap() ? v.u_.p : nullptr;
    forget(v);
    return n;
  }
  // A new reference to a raw slot's value (local_copy's counting).
  static value copy_raw(const raw& r) noexcept {
    value v = from_raw(r);
    if (v.is_heap())
      v.u_.p->refs.store(v.u_.p->refs.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
    return v;
  }
  static std::int64_t ival(const value& v) noexcept { return v.u_.i; }
  static double fval(const value& v) noexcept { return v.u_.f; }
  // Forgets the node without releasing it (the caller took over the reference).
  static void forget(value& v) noexcept {
    v.meta_ = 0;
    v.u_.i = 0;
  }
};

inline std::string_view access::text(const value& v) noexcept {
  if (const unsigned n = v.small_len1()) return {v.small_data(), n - 1};
  return static_cast<const str_node*>(v.u_.p)->s;
}

// Dict / set operations that bypass copy-on-write (the pickle VM's in-place
// mutation). Errors: invalid_argument for unhashable keys.
void dict_set(dict_node& d, value key, value v);
const value* dict_find(const dict_node& d, const value& key);
void set_add(seq_node& s, value item);
// Children of a node (for graph walks); empty for leaves.
void for_each_child(kind k, node* n, void (*f)(value&, void*), void* ctx);
// Drops every child of a container node (breaks reference cycles).
void clear_children(kind k, node* n) noexcept;

} // namespace detail
} // namespace py
} // namespace v1
} // namespace npio
