// The unpickler: an iterative virtual machine over every opcode of protocols
// 0-5 (CPython's Lib/pickletools.py lists them). It never recurses on input
// depth, checks every declared length against the bytes present before
// allocating, and builds values with Python's reference semantics (shared,
// mutable nodes), then checks the result for cycles, depth and size.
#include "literal.hpp"
#include "pickle_internal.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <sys/mman.h>
#include <unordered_map>

namespace npio {
inline namespace v1 {
namespace pickle {
namespace detail {

void context::fail(errc code, const std::string& msg) const {
  throw error(code, msg, {}, {}, offset);
}

void context::charge(std::uint64_t n) {
  bytes_built += n;
  if (bytes_built > opt.limits.max_bytes)
    fail(errc::limit_exceeded, "pickle builds more than max_bytes (" +
                                   std::to_string(opt.limits.max_bytes) + ") bytes of values");
}

} // namespace detail

namespace {

using detail::context;
using py::kind;
using py::value;
using py::detail::access;
namespace pyd = py::detail;

enum op : std::uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  STRING = 'S',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  UNICODE = 'V',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

std::string utf8(char32_t c) {
  std::string s;
  npio::detail::append_utf8(s, static_cast<std::uint32_t>(c));
  return s;
}

// Validates UTF-8 as Python's 'surrogatepass' decoder does; returns the byte
// position of the first invalid sequence or npos.
std::size_t utf8_error(std::string_view s) {
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  unsigned any = 0; // all ASCII (the usual case): one branch-free pass
  for (std::size_t k = 0; k < n; ++k)
    any |= p[k];
  if (any < 0x80) return std::string_view::npos;
  while (i < n) {
    if (n - i >= 8) { // ASCII, eight bytes at a time
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!(w & 0x8080808080808080u)) {
        i += 8;
        continue;
      }
    }
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    char32_t cp, min;
    if ((c & 0xe0) == 0xc0)
      len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
      len = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
      len = 4, cp = c & 0x07, min = 0x10000;
    else
      return i;
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) return i;
    i += len;
  }
  return std::string_view::npos;
}

value* child_at(kind k, pyd::node* n, std::size_t i);

// The VM's stack: a vector whose push is inline, so a value made just before
// is stored from registers (std::vector's out-of-line emplace_back reloads it
// from memory, which stalls on the partial stores that made it).
class value_stack {
public:
  value_stack() = default;
  value_stack(const value_stack&) = delete;
  value_stack& operator=(const value_stack&) = delete;
  ~value_stack() {
    clear();
    ::operator delete(begin_);
  }
  std::size_t size() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  value* begin() noexcept { return begin_; }
  value* end() noexcept { return end_; }
  value& operator[](std::size_t i) noexcept { return begin_[i]; }
  value& back() noexcept { return end_[-1]; }
  [[gnu::always_inline]] void push_back(value&& v) {
    if (end_ == cap_) [[unlikely]]
      grow();
    ::new (static_cast<void*>(end_)) value(std::move(v));
    ++end_;
  }
  void pop_back() noexcept { (--end_)->~value(); }
  void resize(std::size_t n) noexcept { // shrinks only
    while (size() > n)
      pop_back();
  }
  void clear() noexcept { resize(0); }
  void reserve(std::size_t n) {
    if (static_cast<std::size_t>(cap_ - begin_) < n) grow(n);
  }

private:
  [[gnu::noinline]] void grow(std::size_t want = 0) {
    const std::size_t n = size();
    const std::size_t cap = std::max({std::size_t(64), 2 * n, want});
    auto* p = static_cast<value*>(::operator new(cap * sizeof(value)));
    for (std::size_t i = 0; i < n; ++i) {
      ::new (static_cast<void*>(p + i)) value(std::move(begin_[i]));
      begin_[i].~value();
    }
    ::operator delete(begin_);
    begin_ = p;
    end_ = p + n;
    cap_ = p + cap;
  }
  value* begin_ = nullptr;
  value* end_ = nullptr;
  value* cap_ = nullptr;
};

// The memo's dense part: slots that do not own their values (see memo_put);
// an all-zero slot is absent. Large tables live in address space reserved up
// front (touched only as used, in huge pages where the kernel allows), so
// they neither regrow nor zero-fill.
class memo_table {
public:
  using raw = access::raw;
  memo_table() = default;
  memo_table(const memo_table&) = delete;
  memo_table& operator=(const memo_table&) = delete;
  ~memo_table() { clear(); }
  std::size_t size() const noexcept { return map_ ? size_ : vec_.size(); }
  raw& operator[](std::size_t i) noexcept { return map_ ? map_[i] : vec_[i]; }
  // Room for `cap` slots without regrowing.
  void reserve(std::size_t cap) {
    if (cap * sizeof(raw) < (std::size_t(4) << 20)) return vec_.reserve(cap);
    map_ = map(cap);
    cap_ = cap;
  }
  // (inline: the slot is stored from registers; a call reloads the fresh
  // slot with wider loads than the byte stores that made it, and stalls)
  [[gnu::always_inline]] void push_back(const raw& r) {
    if (!map_) return vec_.push_back(r);
    if (size_ == cap_) grow(size_ + 1);
    map_[size_++] = r;
  }
  void resize(std::size_t n) {
    if (!map_) return vec_.resize(n);
    if (n > cap_) grow(n);
    size_ = std::max(size_, n); // never shrinks; slots past size_ were never written
  }
  void clear() noexcept {
    if (map_) ::munmap(map_, cap_ * sizeof(raw));
    map_ = nullptr;
    size_ = cap_ = 0;
    vec_.clear();
  }

private:
  static raw* map(std::size_t cap) {
    void* p = ::mmap(nullptr, cap * sizeof(raw), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    ::madvise(p, cap * sizeof(raw), MADV_HUGEPAGE);
#endif
    return static_cast<raw*>(p);
  }
  void grow(std::size_t need) {
    const std::size_t cap = std::max(need, cap_ * 2);
    raw* p = map(cap);
    std::memcpy(static_cast<void*>(p), map_, size_ * sizeof(raw));
    ::munmap(map_, cap_ * sizeof(raw));
    map_ = p;
    cap_ = cap;
  }
  std::vector<raw> vec_;
  raw* map_ = nullptr;
  std::size_t size_ = 0, cap_ = 0;
};
bool has_children(kind k);

class vm {
public:
  vm(std::span<const std::byte> in, const pickle::options& opt, bool scan,
     scan_report* report = nullptr, std::uint64_t base = 0,
     std::unordered_map<std::string, std::size_t>* seen = nullptr)
      : p_(reinterpret_cast<const std::uint8_t*>(in.data())), n_(in.size()),
        opt_(opt), cx_{opt, 0, 0, 0, nullptr}, scan_(scan), report_(report), base_(base),
        seen_(seen) {
    // Large inputs make many nodes: from an arena (small ones would pay for a
    // whole chunk).
    arena_on_ = !scan && n_ >= detail::arena_min_input().load(std::memory_order_relaxed);
    pyd::defer_hook& h = pyd::current_defer_hook();
    saved_hook_ = h;
    h = pyd::defer_hook{&vm::on_defer, this};
    hooked_ = true;
  }

  ~vm() { cleanup(true); }

  value run(std::size_t& consumed);
  // The stream probably holds a list of about n items (an object array's
  // elements): the first list that grows past one pickle batch gets room for
  // them at once, bounded by the input left (each item takes a byte).
  void expect_list(std::uint64_t n) { list_hint_ = n; }

private:
  [[noreturn]] void fail(errc c, const std::string& m) const { cx_.fail(c, m); }

  // Frames (protocol 4+) as CPython's pure-Python _Unframer reads them: a read
  // that starts at a frame's end leaves the frame; one that starts inside it
  // must end inside it. (Old C unpicklers read across, and a file reader and a
  // bytes reader then disagree on what the stream holds.)
  static constexpr std::size_t no_frame = std::numeric_limits<std::size_t>::max();
  [[gnu::cold, gnu::noinline]] void cross_frame() {
    if (pos_ == frame_end_) {
      frame_end_ = no_frame;
      return;
    }
    frame_error("pickle exhausted before end of frame");
  }
  [[noreturn, gnu::cold]] void frame_error(const char* msg) {
    if (scan_) anomaly(scan_anomaly::kind::frame, msg);
    fail(errc::pickle_invalid, msg);
  }
  const std::uint8_t* take(std::size_t k) {
    if (k > frame_end_ - pos_) [[unlikely]]
      cross_frame();
    if (k > n_ - pos_) fail(errc::pickle_truncated, "pickle data was truncated");
    const auto* r = p_ + pos_;
    pos_ += k;
    return r;
  }
  std::uint64_t le(std::size_t k) {
    const auto* b = take(k);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < k; ++i)
      v |= std::uint64_t(b[i]) << (8 * i);
    return v;
  }
  std::string_view line() {
    if (frame_end_ == pos_) frame_end_ = no_frame;
    const std::size_t end = std::min(n_, frame_end_);
    const void* nl = std::memchr(p_ + pos_, '\n', end - pos_);
    if (!nl && frame_end_ != no_frame) frame_error("pickle exhausted before end of frame");
    if (!nl) fail(errc::pickle_truncated, "pickle data was truncated");
    const auto* e = static_cast<const std::uint8_t*>(nl);
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_),
                       static_cast<std::size_t>(e - (p_ + pos_)));
    pos_ += s.size() + 1;
    return s;
  }
  // The argument line of INT, LONG, FLOAT: CPython calls an empty one truncated.
  std::string_view text_line() {
    const auto s = line();
    if (s.empty()) fail(errc::pickle_truncated, "pickle data was truncated");
    return s;
  }
  // A declared length: checked against the bytes present before anything is allocated.
  std::string_view payload(std::uint64_t len) {
    if (len != 0 && len > frame_end_ - pos_) cross_frame();
    if (len > n_ - pos_) fail(errc::pickle_truncated, "pickle data was truncated");
    cx_.charge(len);
    return {reinterpret_cast<const char*>(take(static_cast<std::size_t>(len))),
            static_cast<std::size_t>(len)};
  }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  [[gnu::always_inline]] void push(value v) {
    if (stack_.size() >= opt_.limits.max_stack) [[unlikely]]
      stack_full();
    stack_.push_back(std::move(v));
  }
  [[noreturn, gnu::cold, gnu::noinline]] void stack_full() const {
    fail(errc::limit_exceeded, "pickle stack grew beyond max_stack (" +
                                   std::to_string(opt_.limits.max_stack) + ") entries");
  }
  value pop() {
    if (stack_.size() <= floor()) fail(errc::pickle_stack, "unpickling stack underflow");
    value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  value& top() {
    if (stack_.size() <= floor()) fail(errc::pickle_stack, "unpickling stack underflow");
    return stack_.back();
  }
  // Pops the last MARK; the items above it stay on the stack (stack_[m..]).
  std::size_t mark_start() {
    if (marks_.empty()) fail(errc::pickle_stack, "could not find MARK");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  std::span<value> above(std::size_t m) {
    return std::span<value>(stack_.begin() + m, stack_.end());
  }
  // The object just below a MARK at m (what APPENDS, SETITEMS, ADDITEMS extend).
  value& below_mark(std::size_t m) {
    if (m == 0 || m <= floor()) fail(errc::pickle_stack, "unpickling stack underflow");
    return stack_[m - 1];
  }
  std::vector<value> pop_mark() {
    const std::size_t m = mark_start();
    std::vector<value> items(std::make_move_iterator(stack_.begin() + m),
                             std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  template <class N> N* new_node() { return arena_on_ ? arena_.make<N>() : new N; }
  value container(kind k) {
    pyd::node* n = k == kind::dict ? static_cast<pyd::node*>(new_node<pyd::dict_node>())
                                   : static_cast<pyd::node*>(new_node<pyd::seq_node>());
    n->depth = 1;
    return access::make(k, n);
  }
  // A str / bytes value of this load.
  value text(kind k, std::string_view s) {
    if (k == kind::str && s.size() <= access::small_max) {
      // when s lies in the input with small_max bytes there: whole-word reads
      const auto at = reinterpret_cast<std::uintptr_t>(s.data());
      const auto begin = reinterpret_cast<std::uintptr_t>(p_);
      if (at >= begin && at - begin <= n_ && n_ - (at - begin) >= access::small_max)
        return access::small_str_at(s.data(), s.size());
      return access::small_str(s);
    }
    value v = access::make(k, new_node<pyd::str_node>());
    access::as<pyd::str_node>(v).s.assign(s); // v owns the node if this throws
    return v;
  }

  // A container that gets a second reference (memo, DUP) may end up inside
  // itself; it is registered so that cycles can be broken. Registered nodes
  // stay alive while the memo (or the graveyard) holds them.
  static constexpr std::uint32_t tracked_bit = 0x80000000u;
  void track(const value& v) { track(access::tag(v), access::ptr(v)); }
  void track(kind k, pyd::node* n) {
    if (!n || (n->mark & tracked_bit)) return;
    switch (k) {
    case kind::list:
    case kind::tuple:
    case kind::set:
    case kind::frozenset:
    case kind::dict:
    case kind::ndarray:
    case kind::object:
    case kind::datetime:
    case kind::time:
      n->mark |= tracked_bit;
      created_.emplace_back(k, n);
      break;
    default:
      break;
    }
  }

  // ---- memo ----
  // ---- nesting depth, kept as values are built (a full walk at STOP is
  // needed only when a container was referenced twice: memo GET or DUP) ----
  static std::uint32_t depth_of(const value& v) {
    pyd::node* n = access::ptr(v);
    return n && has_children(access::tag(v)) ? n->depth : 0;
  }
  void deeper(pyd::node* n, std::uint32_t child_depth) {
    if (child_depth + 1 > n->depth) {
      n->depth = child_depth + 1;
      if (n->depth > opt_.limits.max_depth && !scan_)
        fail(errc::limit_exceeded, "pickle value nests deeper than max_depth (" +
                                       std::to_string(opt_.limits.max_depth) + ")");
    }
  }
  void depth_from_children(const value& v) {
    pyd::node* n = access::ptr(v);
    const kind k = access::tag(v);
    if (!n || !has_children(k)) return;
    std::uint32_t d = 0;
    for (std::size_t i = 0; value* c = child_at(k, n, i); ++i)
      d = std::max(d, depth_of(*c));
    deeper(n, d);
  }
  [[gnu::always_inline]] void note_get(const value& v) {
    if (shared_ || !access::ptr(v) || !has_children(access::tag(v))) return;
    first_shared();
  }
  [[gnu::noinline]] void first_shared() {
    shared_ = true;
    // Every container a later GET can reach is in the memo now or will be put
    // there (tracked then): any cycle goes through a tracked node.
    for (std::size_t i = 0; i < dense_.size(); ++i)
      if (dense_[i].present()) track(dense_[i].tag(), access::raw_ptr(dense_[i]));
    for (const auto& [k, m] : sparse_)
      track(m);
    // From now on values may be reached twice: give state lists back their items.
    for (auto& [n, table] : stolen_) {
      auto& items = static_cast<pyd::seq_node*>(n)->items;
      items.clear();
      items.reserve(table->size() - 1);
      for (std::size_t i = 1; i < table->size(); ++i)
        items.push_back(access::local_copy((*table)[i]));
    }
    stolen_.clear();
  }

  // Memo slots do not own their values: the node is pinned instead (no count
  // to take now and none to drop at the end, for the one or two memo entries
  // a typical pickle makes per object). A pinned node whose count reaches zero
  // is deferred (on_defer), not destroyed, until the VM finishes.
  [[gnu::always_inline]] void memo_put(std::uint64_t key, const value& v) {
    if (!shared_ && key == dense_.size() && key < opt_.limits.max_memo &&
        memo_count_ < opt_.limits.max_memo) [[likely]] {
      // the usual case: the next id (MEMOIZE, or PUTs as CPython numbers them)
      if (pyd::node* n = access::ptr(v)) n->flags |= pyd::node_pinned;
      dense_.push_back(access::to_raw(v));
      ++memo_count_;
      return;
    }
    memo_put_any(key, v);
  }
  [[gnu::noinline]] void memo_put_any(std::uint64_t key, const value& v) {
    // Containers need tracking only once one can be reached twice (see note_get).
    if (shared_) track(v);
    if (pyd::node* n = access::ptr(v)) n->flags |= pyd::node_pinned;
    if (key == dense_.size() && key < opt_.limits.max_memo) { // MEMOIZE, sequential PUTs
      dense_.push_back(access::to_raw(v));
      ++memo_count_;
    } else if (key < dense_.size() + 4096 && key < opt_.limits.max_memo) {
      if (key >= dense_.size()) dense_.resize(key + 1);
      if (!dense_[key].present()) ++memo_count_;
      // a replaced entry stays pinned: alive until the end, as CPython's would
      // be while the unpickler's stack or other values hold it
      dense_[key] = access::to_raw(v);
    } else {
      auto it = sparse_.find(key);
      if (it == sparse_.end()) {
        sparse_.emplace(key, v);
        ++memo_count_;
      } else {
        graveyard_.push_back(std::move(it->second));
        it->second = v;
      }
    }
    if (memo_count_ > opt_.limits.max_memo)
      fail(errc::limit_exceeded, "pickle memo grew beyond max_memo (" +
                                     std::to_string(opt_.limits.max_memo) + ") entries");
  }
  // A new reference to a memo entry.
  [[gnu::always_inline]] value memo_get(std::uint64_t key) {
    if (key < dense_.size() && dense_[key].present()) return access::copy_raw(dense_[key]);
    auto it = sparse_.find(key);
    if (it == sparse_.end())
      fail(errc::pickle_memo, "Memo value not found at index " + std::to_string(key));
    return access::local_copy(it->second);
  }
  static void on_defer(void* ctx, kind k, pyd::node* n) {
    if (n->flags & pyd::node_deferred) return;
    n->flags |= pyd::node_deferred;
    static_cast<vm*>(ctx)->deferred_.emplace_back(k, n);
  }
  std::uint64_t decimal_arg(std::string_view s, const char* what) {
    std::uint64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
      if (!s.empty() && s[0] == '-')
        fail(errc::pickle_invalid, std::string("negative ") + what + " argument");
      fail(errc::pickle_invalid,
           std::string("invalid ") + what + " argument: '" + std::string(s) + "'");
    }
    return v;
  }

  // ---- strings ----
  value py2_string(std::string_view raw) {
    switch (opt_.encoding) {
    case pickle_encoding::bytes:
      return text(kind::bytes, raw);
    case pickle_encoding::latin1: {
      std::string s;
      s.reserve(raw.size());
      for (unsigned char c : raw)
        s += utf8(c);
      return value(std::move(s));
    }
    default:
      for (std::size_t i = 0; i < raw.size(); ++i)
        if (static_cast<unsigned char>(raw[i]) >= 0x80) {
          char b[160];
          std::snprintf(b, sizeof b,
                        "'ascii' codec can't decode byte 0x%02x in position %zu: ordinal not in "
                        "range(128)",
                        static_cast<unsigned char>(raw[i]), i);
          fail(errc::pickle_encoding, b);
        }
      return text(kind::str, raw);
    }
  }
  value unicode(std::string_view raw) {
    const auto bad = utf8_error(raw);
    if (bad != std::string_view::npos) {
      char b[160];
      std::snprintf(b, sizeof b,
                    "'utf-8' codec can't decode byte 0x%02x in position %zu: invalid "
                    "start byte or continuation",
                    static_cast<unsigned char>(raw[bad]), bad);
      fail(errc::pickle_encoding, b);
    }
    return text(kind::str, raw);
  }
  // STRING's argument: a Python 2 repr, quotes included; decoded like codecs.escape_decode.
  std::string escape_decode(std::string_view s) {
    if (s.size() < 2 || s.front() != s.back() || (s.front() != '\'' && s.front() != '"'))
      fail(errc::pickle_invalid, "the STRING opcode argument must be quoted");
    s = s.substr(1, s.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (++i >= s.size()) fail(errc::pickle_invalid, "Trailing \\ in string");
      c = s[i];
      switch (c) {
      case '\n':
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'v':
        out += '\v';
        break;
      case 'a':
        out += '\a';
        break;
      case 'x': {
        auto hex = [](char h) {
          return h >= '0' && h <= '9'   ? h - '0'
                 : h >= 'a' && h <= 'f' ? h - 'a' + 10
                 : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                        : -1;
        };
        if (i + 2 >= s.size())
          fail(errc::pickle_invalid, "invalid \\x escape at position " + std::to_string(i - 1));
        const int h1 = hex(s[i + 1]), h2 = hex(s[i + 2]);
        if (h1 < 0 || h2 < 0)
          fail(errc::pickle_invalid, "invalid \\x escape at position " + std::to_string(i - 1));
        out += static_cast<char>(h1 * 16 + h2);
        i += 2;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + (s[++i] - '0');
          out += static_cast<char>(v & 0xff);
        } else {
          out += '\\';
          out += c;
        }
      }
    }
    return out;
  }
  // UNICODE's argument: raw-unicode-escape (only \uXXXX and \UXXXXXXXX escapes).
  std::string raw_unicode_escape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '\\' && i + 1 < s.size() && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
        // an odd number of backslashes before makes it an escape
        std::size_t bs = 0;
        for (std::size_t j = i; j-- > 0 && s[j] == '\\';)
          ++bs;
        if (bs % 2 == 0) {
          const std::size_t nd = s[i + 1] == 'u' ? 4 : 8;
          if (i + 2 + nd > s.size()) fail(errc::pickle_encoding, "truncated \\uXXXX escape");
          std::uint32_t cp = 0;
          auto r = std::from_chars(s.data() + i + 2, s.data() + i + 2 + nd, cp, 16);
          if (r.ptr != s.data() + i + 2 + nd)
            fail(errc::pickle_encoding, "truncated \\uXXXX escape");
          if (cp > 0x10ffff) fail(errc::pickle_encoding, "\\Uxxxxxxxx out of range");
          out += utf8(cp);
          i += 1 + nd;
          continue;
        }
      }
      out += utf8(c);
    }
    return out;
  }
  double parse_float(std::string_view s) {
    // CPython's load_float: PyOS_string_to_double, then the line must end
    // (a NUL ends it too).
    if (const auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
    double d = 0;
    std::string err;
    if (!detail::parse_float_text(s, d, err)) fail(errc::pickle_invalid, err);
    return d;
  }
  value parse_int_line(std::string_view s, bool opcode_int) {
    const auto r = opcode_int ? detail::parse_int_opcode(s, opt_.limits.max_int_digits)
                              : detail::parse_int_text(s, 0, opt_.limits.max_int_digits);
    if (r.limit) fail(errc::limit_exceeded, r.error);
    if (!r.ok)
      fail(errc::pickle_invalid,
           opcode_int ? "could not convert string to int: '" + std::string(s) + "'"
                      : "invalid literal for int() with base 0: '" + std::string(s) + "'");
    // INT's "00"/"01" (any 2-character line strtol reads as 0 or 1) are bools
    if (opcode_int && r.strtol && s.size() == 2 && !r.result.is_big_int()) {
      const auto x = r.result.as<std::int64_t>();
      if (x == 0 || x == 1) return value(x == 1);
    }
    return r.result;
  }

  // GLOBAL's lines are decoded as UTF-8 and INST's as ASCII, strictly, before
  // anything is imported.
  void name_text(std::string_view s, bool ascii) {
    std::size_t bad = std::string_view::npos;
    if (ascii) {
      for (std::size_t i = 0; i < s.size() && bad == std::string_view::npos; ++i)
        if (static_cast<unsigned char>(s[i]) >= 0x80) bad = i;
    } else {
      bad = utf8_error(s);
    }
    if (bad == std::string_view::npos) return;
    char b[160];
    std::snprintf(b, sizeof b, "'%s' codec can't decode byte 0x%02x in position %zu",
                  ascii ? "ascii" : "utf-8", static_cast<unsigned char>(s[bad]), bad);
    fail(errc::pickle_encoding, b);
  }
  void global(std::string module, std::string name) {
    auto [m, nme] =
        detail::map_name(std::move(module), std::move(name), cx_.proto, opt_.fix_imports);
    if (scan_) {
      record(m, nme);
      push(value::global(std::move(m), std::move(nme)));
      return;
    }
    const safety s = classify(m, nme);
    if (s == safety::dangerous)
      fail(errc::pickle_global,
           "global '" + m + "." + nme + "' is forbidden: it can run code or touch the system");
    if (s == safety::unknown && !opt_.allow_unknown_classes)
      fail(errc::pickle_global, "global '" + m + "." + nme +
                                    "' is not on the allowlist (allow unknown classes to keep it "
                                    "as an inert object)");
    push(value::global(m, nme));
  }
  // ---- scanning ----
  void record(const std::string& m, const std::string& nme, bool computed = false,
              const char* note = "") {
    std::string key = m;
    key += '\n';
    key += nme;
    key += computed ? "\n1" : "\n0";
    auto [it, fresh] = seen_->emplace(std::move(key), report_->globals.size());
    if (!fresh) {
      ++report_->globals[it->second].count;
      return;
    }
    report_->globals.push_back(global_ref{m, nme, computed ? safety::dangerous : classify(m, nme),
                                          base_ + cx_.offset, 1, computed, note});
  }
  void anomaly(scan_anomaly::kind k, std::string msg) {
    if (report_->anomalies.size() < 64)
      report_->anomalies.push_back(scan_anomaly{k, base_ + cx_.offset, std::move(msg)});
  }
  // While scanning, a call's result is a placeholder object: a value made at
  // load time, which the stream may use as a name or call in turn.
  bool computed(const value& v) const { return scan_ && v.is_object(); }
  static constexpr const char* computed_name = "<computed>";
  value do_call(const value& callable, value args, value kwargs, bool newobj) {
    if (scan_) {
      // Nothing is reconstructed while scanning: a placeholder stands in.
      if (computed(callable))
        record(computed_name, computed_name, true, "calls the result of a call");
      else if (!callable.is_global())
        fail(errc::pickle_invalid,
             std::string("'") + callable.kind_name() + "' object is not callable");
      const std::string cls =
          callable.is_global() ? callable.module() + "." + callable.name() : computed_name;
      (void)kwargs;
      (void)newobj;
      return value::object(cls, args.is_tuple() ? std::move(args) : value::tuple({}));
    }
    if (!callable.is_global())
      fail(errc::pickle_invalid,
           std::string("'") + callable.kind_name() + "' object is not callable");
    value r = detail::call(callable, std::move(args), std::move(kwargs), cx_, newobj);
    depth_from_children(r);
    return r;
  }

  void append_items(value& target, std::span<value> items) {
    std::uint32_t d = 0;
    for (const auto& x : items)
      d = std::max(d, depth_of(x));
    if (target.is_list()) {
      deeper(access::ptr(target), d);
      auto& v = access::as<pyd::seq_node>(target).items;
      if (list_hint_ && v.size() + items.size() >= 1000) [[unlikely]] {
        const std::uint64_t room = std::min<std::uint64_t>(list_hint_, v.size() + (n_ - pos_));
        // (+1: an object array's table puts None before the items, in place)
        if (room + 1 > v.capacity()) v.reserve(static_cast<std::size_t>(room + 1));
        list_hint_ = 0;
      }
      v.insert(v.end(), std::make_move_iterator(items.begin()),
               std::make_move_iterator(items.end()));
    } else if (target.is_object()) {
      auto& o = access::as<pyd::object_node>(target);
      if (o.list_items.is_none()) o.list_items = container(kind::list);
      deeper(access::ptr(o.list_items), d);
      deeper(access::ptr(target), d + 1);
      auto& v = access::as<pyd::seq_node>(o.list_items).items;
      v.insert(v.end(), std::make_move_iterator(items.begin()),
               std::make_move_iterator(items.end()));
    } else if (!scan_) {
      fail(errc::pickle_stack,
           std::string("'") + target.kind_name() + "' object has no attribute 'append'");
    } // (scanning: a bytearray, a class with append... CPython may go on, so do we)
  }
  void set_items(value& target, std::span<value> items) {
    if (items.size() % 2) fail(errc::pickle_stack, "odd number of items for SETITEMS");
    std::uint32_t depth = 0;
    for (const auto& x : items)
      depth = std::max(depth, depth_of(x));
    pyd::dict_node* d = nullptr;
    if (target.is_dict()) {
      d = &access::as<pyd::dict_node>(target);
      deeper(d, depth);
    } else if (target.is_object()) {
      auto& o = access::as<pyd::object_node>(target);
      if (o.dict_items.is_none()) o.dict_items = container(kind::dict);
      d = &access::as<pyd::dict_node>(o.dict_items);
      deeper(d, depth);
      deeper(access::ptr(target), depth + 1);
    } else if (scan_) {
      return; // a list's item, a class's __setitem__: CPython may go on, so do we
    } else {
      fail(errc::pickle_stack,
           std::string("'") + target.kind_name() + "' object does not support item assignment");
    }
    if (d->items.empty() && distinct_str_keys(items)) {
      // The common case (a fresh dict, a few str keys): no lookups needed.
      d->items.reserve(items.size() / 2);
      for (std::size_t i = 0; i < items.size(); i += 2)
        d->items.emplace_back(std::move(items[i]), std::move(items[i + 1]));
      return;
    }
    d->items.reserve(d->items.size() + items.size() / 2);
    for (std::size_t i = 0; i < items.size(); i += 2) {
      try {
        pyd::dict_set(*d, std::move(items[i]), std::move(items[i + 1]));
      } catch (const error& e) {
        if (!scan_) fail(errc::pickle_invalid, e.detail());
      }
    }
  }
  // Whether the keys (even positions) are a few str values, all different.
  static bool distinct_str_keys(std::span<const value> items) {
    if (items.size() > 16) return false;
    auto str = [](const value& v) { return access::text(v); };
    for (std::size_t i = 0; i < items.size(); i += 2) {
      if (!items[i].is_str()) return false;
      const std::string_view k = str(items[i]);
      for (std::size_t j = 0; j < i; j += 2)
        if (str(items[j]) == k) return false;
    }
    return true;
  }
  void add_items(value& target, std::span<value> items) {
    if (scan_ && !target.is_set()) return; // anything with an add(): CPython may go on
    if (!target.is_set())
      fail(errc::pickle_stack,
           std::string("'") + target.kind_name() + "' object has no attribute 'add'");
    auto& s = access::as<pyd::seq_node>(target);
    std::uint32_t d = 0;
    for (const auto& x : items)
      d = std::max(d, depth_of(x));
    deeper(&s, d);
    for (auto& x : items) {
      try {
        pyd::set_add(s, std::move(x));
      } catch (const error& e) {
        if (!scan_) fail(errc::pickle_invalid, e.detail());
      }
    }
  }

  void check_result(value& root);
  void cleanup(bool all) noexcept;

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  const pickle::options& opt_;
  context cx_;
  bool scan_;
  scan_report* report_;
  std::uint64_t base_;                                 // offset of this pickle in the scanned input
  std::unordered_map<std::string, std::size_t>* seen_; // report_->globals by module, name
  std::size_t frame_end_ = no_frame;                   // end of the current FRAME
  value_stack stack_;
  std::vector<std::size_t> marks_;
  memo_table dense_; // memo ids below dense_.size() + 4096 (not owned: pinned)
  std::unordered_map<std::uint64_t, value> sparse_;
  std::size_t memo_count_ = 0;
  std::vector<std::pair<kind, pyd::node*>> created_; // tracked containers (see track())
  std::vector<value> graveyard_; // replaced memo entries, DUP'd values: alive until the end
  std::size_t reached_tracked_ = 0;
  bool shared_ = false; // a container was referenced twice (memo GET or DUP)
  std::vector<std::pair<pyd::node*, std::shared_ptr<std::vector<value>>>> stolen_;
  std::vector<std::pair<kind, pyd::node*>> deferred_; // pinned nodes that reached count 0
  pyd::defer_hook saved_hook_;
  bool hooked_ = false;
  bool arena_on_ = false;
  std::uint64_t list_hint_ = 0;
  pyd::node_arena arena_;
};

value vm::run(std::size_t& consumed) {
  // Every memo entry costs at least one input byte (MEMOIZE): reserving for
  // one per 4 bytes avoids regrowing the memo; untouched reserve costs no pages.
  const std::size_t memo_guess = std::min<std::size_t>(n_ / 4, opt_.limits.max_memo);
  if (memo_guess > 1024 && !scan_) {
    dense_.reserve(memo_guess);
  }
  stack_.reserve(std::min<std::size_t>(1024, opt_.limits.max_stack));
  while (true) {
    cx_.offset = pos_;
    const std::uint8_t code = *take(1);
    switch (code) {
    case MARK:
      if (marks_.size() >= opt_.limits.max_depth && !scan_)
        fail(errc::limit_exceeded, "pickle nests MARKs deeper than max_depth (" +
                                       std::to_string(opt_.limits.max_depth) + ")");
      marks_.push_back(stack_.size());
      break;
    case STOP: {
      value result = pop();
      consumed = pos_;
      // Without a second reference to any container the result is a tree whose
      // depth was checked as it was built; otherwise walk it.
      if (scan_) {
        if (frame_end_ != no_frame && frame_end_ > pos_)
          anomaly(scan_anomaly::kind::stop_in_frame,
                  "STOP with " + std::to_string(frame_end_ - pos_) +
                      " bytes of its frame left (a file reader skips them, a bytes reader does "
                      "not)");
        if (shared_) {
          try {
            check_result(result);
          } catch (const error& e) {
            if (e.code() == errc::limit_exceeded && e.detail().find("expand") != std::string::npos)
              anomaly(scan_anomaly::kind::expansion,
                      "shared references (memo GET, DUP) expand to more than max_bytes bytes");
          }
        }
        cleanup(true);
        return result;
      }
      if (shared_) check_result(result);
      cleanup(false);
      return result;
    }
    case POP:
      if (stack_.size() > floor())
        stack_.pop_back();
      else
        (void)pop_mark();
      break;
    case POP_MARK:
      (void)pop_mark();
      break;
    case DUP: {
      value d = access::local_copy(top());
      track(d);
      note_get(d);
      graveyard_.push_back(d);
      push(std::move(d));
      break;
    }
    case FLOAT:
      push(value(parse_float(text_line())));
      break;
    case INT:
      push(parse_int_line(text_line(), true));
      break;
    case LONG: {
      auto s = text_line();
      if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
      // PyLong_FromString reads a C string: a NUL ends it
      if (const auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
      push(parse_int_line(s, false));
      break;
    }
    case BININT:
      push(value(static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4)))));
      break;
    case BININT1:
      push(value(static_cast<std::int64_t>(le(1))));
      break;
    case BININT2:
      push(value(static_cast<std::int64_t>(le(2))));
      break;
    case LONG1:
    case LONG4: {
      std::uint64_t len = code == LONG1 ? le(1) : le(4);
      if (code == LONG4 && (len & 0x80000000u))
        fail(errc::pickle_invalid, "LONG pickle has negative byte count");
      const auto b = payload(len);
      push(value::int_from_bytes({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()}));
      break;
    }
    case NONE:
      push(value());
      break;
    case NEWTRUE:
      push(value(true));
      break;
    case NEWFALSE:
      push(value(false));
      break;
    case BINFLOAT: {
      const auto* b = take(8);
      std::uint64_t u = 0;
      for (int i = 0; i < 8; ++i)
        u = (u << 8) | b[i];
      push(value(std::bit_cast<double>(u)));
      break;
    }
    case STRING: {
      const auto raw = escape_decode(line());
      cx_.charge(raw.size());
      push(py2_string(raw));
      break;
    }
    case BINSTRING: {
      const std::uint64_t len = le(4);
      if (len & 0x80000000u) fail(errc::pickle_invalid, "BINSTRING pickle has negative byte count");
      push(py2_string(payload(len)));
      break;
    }
    case SHORT_BINSTRING:
      push(py2_string(payload(le(1))));
      break;
    case UNICODE: {
      auto s = raw_unicode_escape(line());
      cx_.charge(s.size());
      push(value(std::move(s)));
      break;
    }
    case BINUNICODE:
      push(unicode(payload(le(4))));
      break;
    case SHORT_BINUNICODE:
      push(unicode(payload(le(1))));
      break;
    case BINUNICODE8:
      push(unicode(payload(le(8))));
      break;
    case BINBYTES:
      push(text(kind::bytes, payload(le(4))));
      break;
    case SHORT_BINBYTES:
      push(text(kind::bytes, payload(le(1))));
      break;
    case BINBYTES8:
      push(text(kind::bytes, payload(le(8))));
      break;
    case BYTEARRAY8:
      push(value::bytearray(payload(le(8))));
      break;
    case EMPTY_LIST:
      push(container(kind::list));
      break;
    case EMPTY_TUPLE:
      push(container(kind::tuple));
      break;
    case EMPTY_DICT:
      push(container(kind::dict));
      break;
    case EMPTY_SET:
      push(container(kind::set));
      break;
    case LIST: {
      auto items = pop_mark();
      value l = container(kind::list);
      access::as<pyd::seq_node>(l).items = std::move(items);
      depth_from_children(l);
      push(std::move(l));
      break;
    }
    case TUPLE: {
      auto items = pop_mark();
      value t = container(kind::tuple);
      access::as<pyd::seq_node>(t).items = std::move(items);
      depth_from_children(t);
      push(std::move(t));
      break;
    }
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
      const std::size_t k = code - TUPLE1 + 1u;
      if (stack_.size() < floor() + k) fail(errc::pickle_stack, "unpickling stack underflow");
      std::vector<value> items(std::make_move_iterator(stack_.end() - k),
                               std::make_move_iterator(stack_.end()));
      stack_.resize(stack_.size() - k);
      value t = container(kind::tuple);
      access::as<pyd::seq_node>(t).items = std::move(items);
      depth_from_children(t);
      push(std::move(t));
      break;
    }
    case DICT: {
      const std::size_t m = mark_start();
      value d = container(kind::dict);
      set_items(d, above(m));
      stack_.resize(m);
      push(std::move(d));
      break;
    }
    case FROZENSET: {
      const std::size_t m = mark_start();
      value s = container(kind::set);
      add_items(s, above(m));
      stack_.resize(m);
      access::set_kind(s, kind::frozenset);
      push(std::move(s));
      break;
    }
    case APPEND: {
      if (stack_.size() < floor() + 2) fail(errc::pickle_stack, "unpickling stack underflow");
      const std::size_t m = stack_.size() - 1;
      append_items(stack_[m - 1], above(m));
      stack_.resize(m);
      break;
    }
    case APPENDS: {
      const std::size_t m = mark_start();
      append_items(below_mark(m), above(m));
      stack_.resize(m);
      break;
    }
    case SETITEM: {
      if (stack_.size() < floor() + 3) fail(errc::pickle_stack, "unpickling stack underflow");
      const std::size_t m = stack_.size() - 2;
      set_items(stack_[m - 1], above(m));
      stack_.resize(m);
      break;
    }
    case SETITEMS: {
      const std::size_t m = mark_start();
      set_items(below_mark(m), above(m));
      stack_.resize(m);
      break;
    }
    case ADDITEMS: {
      const std::size_t m = mark_start();
      add_items(below_mark(m), above(m));
      stack_.resize(m);
      break;
    }
    case GET: {
      value g = memo_get(decimal_arg(line(), "GET"));
      note_get(g);
      push(std::move(g));
    } break;
    case BINGET: {
      value g = memo_get(le(1));
      note_get(g);
      push(std::move(g));
    } break;
    case LONG_BINGET: {
      value g = memo_get(le(4));
      note_get(g);
      push(std::move(g));
    } break;
    case PUT:
      memo_put(decimal_arg(line(), "PUT"), top());
      break;
    case BINPUT:
      memo_put(le(1), top());
      break;
    case LONG_BINPUT:
      memo_put(le(4), top());
      break;
    case MEMOIZE:
      memo_put(memo_count_, top());
      break;
    case GLOBAL: {
      std::string module(line());
      std::string name(line());
      name_text(module, false);
      name_text(name, false);
      global(std::move(module), std::move(name));
      break;
    }
    case STACK_GLOBAL: {
      value name = pop();
      value module = pop();
      if (scan_ && (name.is_str() || computed(name) || name.is_global()) &&
          (module.is_str() || computed(module) || module.is_global()) &&
          !(name.is_str() && module.is_str())) {
        // made at load time (a call's result, an attribute a BUILD may have set)
        std::string m = module.is_str() ? module.as<std::string>() : computed_name;
        std::string n = name.is_str() ? name.as<std::string>() : computed_name;
        record(m, n, true, "STACK_GLOBAL takes its module or name from a value made at load time");
        push(value::global(std::move(m), std::move(n)));
        break;
      }
      if (!name.is_str() || !module.is_str()) fail(errc::pickle_stack, "STACK_GLOBAL requires str");
      global(module.as<std::string>(), name.as<std::string>());
      break;
    }
    case INST: {
      std::string module(line());
      std::string name(line());
      name_text(module, true);
      name_text(name, true);
      // CPython imports the class before it looks for the MARK
      global(std::move(module), std::move(name));
      value cls = pop();
      auto args = pop_mark();
      push(do_call(cls, value::tuple(std::move(args)), value(), false));
      break;
    }
    case OBJ: {
      auto args = pop_mark();
      if (args.empty()) fail(errc::pickle_stack, "unpickling stack underflow");
      value cls = std::move(args.front());
      args.erase(args.begin());
      push(do_call(cls, value::tuple(std::move(args)), value(), false));
      break;
    }
    case REDUCE: {
      value args = pop();
      // (scanning: the pure-Python unpickler calls func(*args) with any iterable)
      if (!args.is_tuple() && !scan_)
        fail(errc::pickle_stack,
             "REDUCE argument must be a tuple, not " + std::string(args.kind_name()));
      value f = pop();
      push(do_call(f, std::move(args), value(), false));
      break;
    }
    case NEWOBJ: {
      value args = pop();
      value cls = pop();
      if (!args.is_tuple() && !scan_) fail(errc::pickle_stack, "NEWOBJ expected an arg tuple.");
      push(do_call(cls, std::move(args), value(), true));
      break;
    }
    case NEWOBJ_EX: {
      value kwargs = pop();
      value args = pop();
      value cls = pop();
      if (!args.is_tuple() && !scan_)
        fail(errc::pickle_stack, "NEWOBJ_EX args argument must be a tuple");
      if (!kwargs.is_dict() && !scan_)
        fail(errc::pickle_stack, "NEWOBJ_EX kwargs argument must be a dict");
      push(do_call(cls, std::move(args), std::move(kwargs), true));
      break;
    }
    case BUILD: {
      value state = pop();
      value& inst = top();
      if (scan_ && inst.is_global()) {
        // sets attributes of a module or class: later lookups of its names
        // (GLOBAL, STACK_GLOBAL) get what the stream put there
        record(inst.module(), inst.name(), true,
               "BUILD sets attributes of this module or class, so later names in it are "
               "computed");
      }
      if (!scan_) {
        const std::uint32_t state_depth = depth_of(state);
        cx_.may_steal = !shared_;
        cx_.stolen = &stolen_;
        detail::build(inst, std::move(state), cx_);
        if (inst.is_ndarray()) {
          // the elements come from the state (its list): no need to visit them
          if (state_depth > 1) deeper(access::ptr(inst), state_depth - 1);
        } else {
          depth_from_children(inst);
        }
      }
      break;
    }
    case PROTO: {
      if (scan_ && cx_.offset != 0)
        anomaly(scan_anomaly::kind::proto, "PROTO after the first opcode of the pickle");
      const auto v = le(1);
      if (v > 5)
        fail(errc::pickle_unsupported, "unsupported pickle protocol: " + std::to_string(v));
      cx_.proto = static_cast<int>(v);
      break;
    }
    case FRAME: {
      const std::uint64_t len = le(8);
      if (frame_end_ != no_frame && frame_end_ != pos_)
        frame_error("beginning of a new frame before end of current frame");
      if (len > n_ - pos_) fail(errc::pickle_truncated, "pickle data was truncated");
      frame_end_ = pos_ + static_cast<std::size_t>(len);
      break;
    }
    case PERSID:
    case BINPERSID:
      fail(errc::pickle_unsupported, "unsupported persistent id encountered");
    case EXT1:
    case EXT2:
    case EXT4: {
      const auto v = le(code == EXT1 ? 1 : code == EXT2 ? 2 : 4);
      if (scan_) {
        // a global the process registered (copyreg.add_extension, which a
        // stream can call first): its name is not in the stream
        record(computed_name, "<extension " + std::to_string(v) + ">", true,
               "EXT opcode: a global registered with copyreg.add_extension");
        push(value::global(computed_name, computed_name));
        break;
      }
      fail(errc::pickle_unsupported, "unregistered extension code " + std::to_string(v));
    }
    case NEXT_BUFFER:
      fail(errc::pickle_unsupported,
           "pickle stream refers to out-of-band data but no *buffers* argument was given");
    case READONLY_BUFFER: {
      value& t = top();
      if (t.is_bytearray())
        t = value::bytes(t.as<std::string_view>());
      else if (!t.is_bytes() && !computed(t))
        fail(errc::pickle_stack, "READONLY_BUFFER needs a buffer on the stack");
      break;
    }
    default: {
      char b[64];
      if (code >= 0x20 && code < 0x7f)
        std::snprintf(b, sizeof b, "invalid load key, '%c'.", code);
      else
        std::snprintf(b, sizeof b, "invalid load key, '\\x%02x'.", code);
      fail(errc::pickle_bad_opcode, b);
    }
    }
  }
}

// The i-th child of a node, or null past the last one.
value* child_at(kind k, pyd::node* n, std::size_t i) {
  switch (k) {
  case kind::list:
  case kind::tuple:
  case kind::set:
  case kind::frozenset: {
    auto& v = static_cast<pyd::seq_node*>(n)->items;
    return i < v.size() ? &v[i] : nullptr;
  }
  case kind::dict: {
    auto& v = static_cast<pyd::dict_node*>(n)->items;
    if (i >= 2 * v.size()) return nullptr;
    return i % 2 ? &v[i / 2].second : &v[i / 2].first;
  }
  case kind::ndarray: {
    const auto& buf = static_cast<pyd::array_node*>(n)->a.base();
    if (!buf || !buf->objects()) return nullptr;
    auto& v = *buf->objects();
    return i < v.size() ? &v[i] : nullptr;
  }
  case kind::object: {
    auto* o = static_cast<pyd::object_node*>(n);
    return i == 0   ? &o->args
           : i == 1 ? &o->state
           : i == 2 ? &o->list_items
           : i == 3 ? &o->dict_items
                    : nullptr;
  }
  case kind::datetime:
  case kind::time:
    return i == 0 ? &static_cast<pyd::datetime_node*>(n)->tzinfo : nullptr;
  default:
    return nullptr;
  }
}

bool has_children(kind k) {
  switch (k) {
  case kind::list:
  case kind::tuple:
  case kind::set:
  case kind::frozenset:
  case kind::dict:
  case kind::ndarray:
  case kind::object:
  case kind::datetime:
  case kind::time:
    return true;
  default:
    return false;
  }
}

// The bytes of a leaf beyond its 16-byte value, in units of 16 bytes.
std::uint64_t leaf_units(const value& v) noexcept {
  switch (access::tag(v)) {
  case kind::str:
  case kind::bytes:
  case kind::bytearray:
  case kind::decimal:
    return access::text(v).size() / 16;
  default:
    return 0;
  }
}

// The result must be a tree to be a py::value users can walk: no cycles, depth
// within max_depth, and its size (shared subtrees counted once per reference,
// as a walk would see them) within max_bytes / 16 values of 16 bytes, strings'
// and arrays' bytes included, so that what a walk, repr or JSON of it produces
// is bounded by max_bytes too. Node marks: 0 not
// seen, 1 on the current path, 2 + size when done (so a DAG is walked once).
void vm::check_result(value& root) {
  struct frame {
    kind k;
    pyd::node* n;
    std::size_t next = 0;
    std::uint64_t size = 1;
  };
  const std::uint64_t max_nodes = std::max<std::uint64_t>(opt_.limits.max_bytes / 16, 1);
  auto too_big = [this] {
    fail(errc::limit_exceeded,
         "the pickle's shared references expand to more than max_bytes bytes");
  };
  std::vector<frame> st;
  // Returns the size of v when it is known without walking it, or 0 after
  // pushing a frame for it.
  auto enter = [&](value& v) -> std::uint64_t {
    pyd::node* n = access::ptr(v);
    const kind k = access::tag(v);
    if (!n || !has_children(k)) return 1 + leaf_units(v);
    const std::uint32_t state = n->mark & ~tracked_bit;
    if (state == 1)
      fail(errc::pickle_invalid,
           "the pickle holds a value that contains itself (a reference cycle)");
    if (state >= 2) return state - 2u;
    if (st.size() >= opt_.limits.max_depth)
      fail(errc::limit_exceeded, "pickle value nests deeper than max_depth (" +
                                     std::to_string(opt_.limits.max_depth) + ")");
    n->mark = (n->mark & tracked_bit) | 1u;
    st.push_back(frame{k, n, 0, 1 + (k == kind::ndarray ? v.array().nbytes() / 16 : 0)});
    if (st.back().size > max_nodes) too_big();
    return 0;
  };
  if (enter(root) > max_nodes) too_big();
  while (!st.empty()) {
    auto& f = st.back();
    if (value* c = child_at(f.k, f.n, f.next++)) {
      const std::uint64_t s = enter(*c);
      if (s) {
        f.size += s;
        if (f.size > max_nodes) too_big();
      }
      continue;
    }
    const std::uint64_t size = f.size;
    if (f.n->mark & tracked_bit) ++reached_tracked_;
    f.n->mark = (f.n->mark & tracked_bit) |
                static_cast<std::uint32_t>(std::min<std::uint64_t>(size, 0x7ffffffdu) + 2);
    st.pop_back();
    if (!st.empty()) {
      st.back().size += size;
      if (st.back().size > max_nodes) too_big();
    }
  }
}

void vm::cleanup(bool all) noexcept {
  // Containers not reachable from the result (or all of them after an error)
  // may form reference cycles: empty them before letting go.
  // Without a second reference to a container no cycle can exist.
  // (Tracked containers are pinned or in the graveyard: alive throughout.)
  if (all || (shared_ && reached_tracked_ != created_.size())) {
    for (auto [k, n] : created_)
      if (all || (n->mark & ~tracked_bit) == 0) pyd::clear_children(k, n);
  }
  created_.clear();
  stack_.clear();
  marks_.clear();
  dense_.clear();
  sparse_.clear();
  graveyard_.clear();
  if (!hooked_) return;
  // Pinned nodes whose count is still zero have no owner left: take a
  // reference to each (so none is freed while another still needs it), stop
  // deferring, then drop them. The others were brought back by a memo GET.
  std::size_t dead = 0;
  for (auto [k, n] : deferred_) {
    n->flags = static_cast<std::uint8_t>(n->flags & ~pyd::node_deferred);
    if (n->refs.load(std::memory_order_relaxed) == 0) {
      n->refs.store(1, std::memory_order_relaxed);
      deferred_[dead++] = {k, n};
    }
  }
  deferred_.resize(dead);
  pyd::current_defer_hook() = saved_hook_;
  hooked_ = false;
  for (auto [k, n] : deferred_) {
    value v = access::make(k, n, k == kind::integer);
    (void)v;
  }
  deferred_.clear();
}

} // namespace

py::value loads(std::span<const std::byte> bytes, const options& opt, std::size_t& consumed) {
  vm m(bytes, opt, false, nullptr);
  return m.run(consumed);
}

namespace detail {
std::atomic<std::size_t>& arena_min_input() noexcept {
  static std::atomic<std::size_t> n{std::size_t(256) << 10};
  return n;
}

py::value loads_object_array(std::span<const std::byte> bytes, const options& opt,
                             std::uint64_t elements) {
  vm m(bytes, opt, false, nullptr);
  m.expect_list(elements);
  std::size_t consumed = 0;
  return m.run(consumed);
}
} // namespace detail

py::value loads(std::span<const std::byte> bytes, const options& opt) {
  std::size_t consumed = 0;
  return loads(bytes, opt, consumed);
}

py::value loads(std::string_view bytes, const options& opt) {
  return loads(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), opt);
}

result<py::value> try_loads(std::span<const std::byte> bytes, const options& opt) noexcept {
  return capture([&] { return loads(bytes, opt); });
}

scan_report scan_all(std::span<const std::byte> bytes, const options& opt) {
  scan_report rep;
  std::unordered_map<std::string, std::size_t> seen;
  std::size_t start = 0;
  while (true) {
    std::size_t consumed = 0;
    try {
      vm m(bytes.subspan(start), opt, true, &rep, start, &seen);
      (void)m.run(consumed);
    } catch (const error& e) {
      const std::uint64_t at = start + e.offset().value_or(0);
      rep.error = error(e.code(), e.detail(), {}, {}, at);
      rep.end = at;
      break;
    }
    ++rep.pickles;
    start += consumed;
    rep.end = start;
    if (start >= bytes.size()) break;
    if (rep.pickles == 1) {
      scan_anomaly a;
      a.what = scan_anomaly::kind::trailing;
      a.offset = start;
      a.message = std::to_string(bytes.size() - start) +
                  " bytes after the pickle's STOP (np.load ignores them; pickle.load in a "
                  "loop reads them as further pickles)";
      rep.anomalies.push_back(std::move(a));
    }
  }
  for (const auto& a : rep.anomalies)
    if (a.what == scan_anomaly::kind::frame) {
      detail::sweep_hidden(bytes, a.offset, rep, seen);
      break;
    }
  return rep;
}

std::vector<global_ref> scan(std::span<const std::byte> bytes, const options& opt) {
  scan_report r = scan_all(bytes, opt);
  if (r.error && r.pickles == 0) throw *r.error;
  return std::move(r.globals);
}

} // namespace pickle
} // namespace v1
} // namespace npio
