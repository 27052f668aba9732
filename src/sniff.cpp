// Telling a pickle from a file that is not one, so that load() gives
// bad_magic for a CSV named .npy and the allow_pickle hint only for pickles.
#include "sniff.hpp"

#include <cstdio>
#include <npio/error.hpp>

namespace npio {
inline namespace v1 {
namespace detail {

namespace {

unsigned at(std::span<const std::byte> b, std::size_t i) {
  return static_cast<unsigned>(b[i]);
}

// Every opcode of protocols 0 to 5 (CPython's Lib/pickle.py).
bool is_opcode(unsigned c) {
  static constexpr char text_ops[] = "(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])G";
  for (const char* p = text_ops; *p; ++p)
    if (static_cast<unsigned char>(*p) == c) return true;
  return c >= 0x80 && c <= 0x98;
}

// A text argument of protocol 0 ("I12\n", "F1.5\n"): characters from `allowed`, then '\n'.
bool text_line(std::span<const std::byte> b, std::size_t from, const char* allowed) {
  std::size_t i = from;
  for (; i < b.size() && at(b, i) != '\n'; ++i) {
    bool ok = false;
    for (const char* p = allowed; *p; ++p)
      ok = ok || static_cast<unsigned char>(*p) == at(b, i);
    if (!ok) return false;
  }
  // A line cut off by the end of the sniffed bytes is given the benefit of the doubt.
  return i > from || i == b.size();
}

// "c" GLOBAL: "module\nname\n", both dotted identifiers.
bool global_arg(std::span<const std::byte> b, std::size_t from) {
  int lines = 0;
  std::size_t len = 0;
  for (std::size_t i = from; i < b.size(); ++i) {
    const unsigned c = at(b, i);
    if (c == '\n') {
      if (len == 0) return false;
      if (++lines == 2) return true;
      len = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
               (len > 0 && c >= '0' && c <= '9')) {
      ++len;
    } else {
      return false;
    }
  }
  return true; // cut off by the sniff window
}

// The byte after the first opcode must begin another opcode (a pickle ends
// with STOP). POP, POP_MARK and DUP ('0', '1', '2') never follow a first
// value in what pickle.dump writes, and digits are common in text.
bool next_is_opcode(std::span<const std::byte> b, std::size_t i) {
  if (i >= b.size()) return true;
  const unsigned c = at(b, i);
  return is_opcode(c) && c != '0' && c != '1' && c != '2';
}

} // namespace

bool looks_like_pickle(std::span<const std::byte> b) noexcept {
  if (b.empty()) return false;
  const unsigned c = at(b, 0);
  // Protocol 2 and later begin with PROTO and the protocol number.
  if (c == 0x80) return b.size() < 2 || (at(b, 1) >= 2 && at(b, 1) <= 5);
  // Protocols 0 and 1 have no PROTO: the first opcode must push something
  // without needing the stack, and its argument must be well formed.
  switch (c) {
  case '(': // MARK
  case ')': // EMPTY_TUPLE
  case ']': // EMPTY_LIST
  case '}': // EMPTY_DICT
  case 'N': // NONE
    return next_is_opcode(b, 1);
  case 'I': // INT (also "I01\n" for True)
  case 'L': // LONG
    return text_line(b, 1, "+-0123456789L");
  case 'F': // FLOAT
    return text_line(b, 1, "+-0123456789.eEinfa");
  case 'S': // STRING: a quoted repr
    return b.size() < 2 || at(b, 1) == '\'' || at(b, 1) == '"';
  case 'c': // GLOBAL
    return global_arg(b, 1);
  case 'K': // BININT1
    return next_is_opcode(b, 2);
  case 'M': // BININT2
    return next_is_opcode(b, 3);
  case 'J': // BININT
    return next_is_opcode(b, 5);
  case 'G': // BINFLOAT
    return next_is_opcode(b, 9);
  case 'U': // SHORT_BINSTRING
    return b.size() < 2 || next_is_opcode(b, 2 + at(b, 1));
  case 'T': // BINSTRING
  case 'X': // BINUNICODE (a str at protocol 1)
    if (b.size() < 5) return true;
    return next_is_opcode(b, 5 + (at(b, 1) | at(b, 2) << 8 | at(b, 3) << 16 |
                                  static_cast<std::size_t>(at(b, 4)) << 24));
  case 'V': { // UNICODE (a str at protocol 0): raw-unicode-escape text, then another opcode
    std::size_t i = 1;
    while (i < b.size() && at(b, i) != '\n')
      ++i;
    return i >= b.size() || next_is_opcode(b, i + 1);
  }
  default: // everything else needs something on the stack first
    return false;
  }
}

std::string python_bytes_repr(std::span<const std::byte> b) {
  bool squote = false, dquote = false;
  for (auto x : b) {
    squote = squote || x == std::byte{'\''};
    dquote = dquote || x == std::byte{'"'};
  }
  const char q = squote && !dquote ? '"' : '\'';
  std::string s = "b";
  s += q;
  for (auto x : b) {
    const auto c = static_cast<unsigned char>(x);
    if (c == '\\' || c == static_cast<unsigned char>(q)) {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c == '\n') {
      s += "\\n";
    } else if (c == '\r') {
      s += "\\r";
    } else if (c == '\t') {
      s += "\\t";
    } else if (c >= 0x20 && c < 0x7F) {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  return s + q;
}

void throw_not_npy(std::span<const std::byte> head) {
  throw error(errc::bad_magic,
              "not a .npy, .npz or pickle file: it starts with " +
                  python_bytes_repr(head.first(std::min<std::size_t>(head.size(), 16))) +
                  "; a .npy file starts with b'\\x93NUMPY'",
              {}, {}, 0);
}

void throw_pickle_disallowed(std::span<const std::byte> head) {
  std::string what = "the file is a pickle";
  if (!head.empty() && head[0] == std::byte{0x80} && head.size() >= 2)
    what += " (protocol " + std::to_string(static_cast<unsigned>(head[1])) + ")";
  throw error(errc::pickle_disallowed,
              what + ", not a .npy or .npz; set load_options::allow_pickle to read it (npio runs "
                     "no code, but loads it only from sources you trust)",
              {}, {}, 0);
}

} // namespace detail
} // namespace v1
} // namespace npio
