// JSON text for npio/node.hpp: the writer (node.dumps layout, WTF-8 strings,
// big ints) and the parser (duplicate keys refused, number texts kept, lone
// surrogate escapes kept).
#include "json_internal.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <npio/text.hpp>
#include <unordered_set>

namespace npio {
inline namespace v1 {
namespace json {

void text_out::flush() {
  if (!sink_ || buf_.empty()) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), sink_) != buf_.size() || std::fflush(sink_) != 0)
    throw error(errc::io_error, std::string("cannot write the output: ") + std::strerror(errno),
                "<stdout>");
  buf_.clear();
}

namespace internal {

bool valid_code_point(std::uint32_t cp) noexcept {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

bool is_surrogate(std::uint32_t cp) noexcept {
  return cp >= 0xD800 && cp <= 0xDFFF;
}

// Decodes one UTF-8 sequence at s[i]; returns false when malformed. With
// `surrogates`, the 3-byte sequences of U+D800 to U+DFFF (WTF-8) are taken:
// text elements may hold lone surrogates (node.md).
bool next_utf8(std::string_view s, std::size_t& i, std::uint32_t& cp, bool surrogates) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len;
  std::uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return false;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) return false;
    cp = cp << 6 | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (!surrogates && is_surrogate(cp))) return false;
  i += static_cast<std::size_t>(len);
  return true;
}

// s may hold lone surrogates (WTF-8: U arrays and Python strs can), written
// as `\\uXXXX`; node.loads gives the same str back.
void write_string(text_out& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.put('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t start = i;
      std::uint32_t cp;
      if (!next_utf8(s, i, cp, true)) invalid("a string is not valid UTF-8");
      if (is_surrogate(cp)) {
        out.put("\\u");
        for (int shift = 12; shift >= 0; shift -= 4)
          out.put(hex[(cp >> shift) & 15]);
      } else {
        out.put(s.substr(start, i - start));
      }
      continue;
    }
    ++i;
    switch (c) {
    case '"':
      out.put("\\\"");
      break;
    case '\\':
      out.put("\\\\");
      break;
    case '\n':
      out.put("\\n");
      break;
    case '\r':
      out.put("\\r");
      break;
    case '\t':
      out.put("\\t");
      break;
    case '\b':
      out.put("\\b");
      break;
    case '\f':
      out.put("\\f");
      break;
    default:
      if (c < 0x20) {
        out.put("\\u00");
        out.put(hex[c >> 4]);
        out.put(hex[c & 15]);
      } else {
        out.put(static_cast<char>(c));
      }
    }
  }
  out.put('"');
}

} // namespace internal

using namespace internal;

// ---- generic JSON writer ---------------------------------------------------

std::optional<std::string_view> big_int_digits(const node& j) {
  if (!j.is_binary()) return std::nullopt;
  const auto& b = j.get_binary();
  // Without a subtype too: node::binary(binary_t&&) drops it (it binds to the
  // container overload), so producers easily lose it.
  if ((b.has_subtype() && b.subtype() != big_int_subtype) || b.empty()) return std::nullopt;
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const std::size_t start = s[0] == '-' ? 1 : 0;
  if (start == s.size()) return std::nullopt;
  for (std::size_t k = start; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
  return s;
}

node big_int(std::string_view digits) {
  return node::binary(std::vector<std::uint8_t>(digits.begin(), digits.end()), big_int_subtype);
}

node raw_text(std::string_view text) {
  return node::binary(std::vector<std::uint8_t>(text.begin(), text.end()), raw_text_subtype);
}

namespace {
// Writes a scalar, or the opening bracket of a container (returning true).
bool write_open(text_out& out, const node& j) {
  switch (j.type()) {
  case node::value_t::null:
    out.put("null");
    return false;
  case node::value_t::boolean:
    out.put(j.get<bool>() ? "true" : "false");
    return false;
  case node::value_t::number_integer:
    out.put(std::to_string(j.get<std::int64_t>()));
    return false;
  case node::value_t::number_unsigned:
    out.put(std::to_string(j.get<std::uint64_t>()));
    return false;
  case node::value_t::number_float:
    out.put(float_text(j.get<double>()));
    return false;
  case node::value_t::string:
    write_string(out, j.get_ref<const std::string&>());
    return false;
  case node::value_t::array:
    out.put('[');
    return true;
  case node::value_t::object:
    out.put('{');
    return true;
  case node::value_t::binary:
    if (const auto digits = big_int_digits(j)) {
      out.put(*digits);
      return false;
    }
    if (j.get_binary().has_subtype() && j.get_binary().subtype() == raw_text_subtype) {
      const auto& b = j.get_binary();
      out.put(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
      return false;
    }
    invalid("a JSON value holds binary data");
  case node::value_t::discarded:
    break;
  }
  invalid("a JSON value is discarded");
}
} // namespace

void write(text_out& out, const node& j) {
  struct frame {
    const node* n;
    std::size_t next;
  };
  std::vector<frame> stack;
  if (write_open(out, j)) stack.push_back({&j, 0});
  while (!stack.empty()) {
    const std::size_t top = stack.size() - 1;
    const node& cur = *stack[top].n;
    const std::size_t k = stack[top].next;
    const node* child;
    if (cur.is_array()) {
      const auto& arr = cur.get_ref<const node::array_t&>();
      if (k == arr.size()) {
        out.put(']');
        stack.pop_back();
        continue;
      }
      if (k) out.put(", ");
      child = &arr[k];
    } else {
      const auto& obj = cur.get_ref<const node::object_t&>();
      if (k == obj.size()) {
        out.put('}');
        stack.pop_back();
        continue;
      }
      if (k) out.put(", ");
      const auto& kv = *(obj.begin() + static_cast<std::ptrdiff_t>(k));
      write_string(out, kv.first);
      out.put(": ");
      child = &kv.second;
    }
    stack[top].next = k + 1;
    if (write_open(out, *child)) stack.push_back({child, 0});
    out.maybe_flush();
  }
}

std::string dump(const node& j) {
  text_out out;
  write(out, j);
  return std::move(out.str());
}

// ---- parsing JSON with number texts ----------------------------------------

namespace {

// Parsing with long double numbers lets values beyond double's range (x87
// long doubles reach 1.19e4932) through nlohmann's overflow check; the tree
// itself holds doubles, and the exact text is kept beside it.
using json_ld = nlohmann::basic_json<nlohmann::ordered_map, std::vector, std::string, bool,
                                     std::int64_t, std::uint64_t, long double>;

// nlohmann's lexer refuses the `\\uXXXX` escape of a lone surrogate, which
// node.md allows in text elements. mark_surrogates rewrites the text (when
// it holds one) so that such an escape becomes the noncharacter U+FDD0 then
// U+E000 + (XXXX - 0xD800), and a real U+FDD0 in a string becomes U+FDD0
// twice; unmark_surrogates undoes it on each string, leaving the surrogate
// as its 3-byte (WTF-8) sequence.
constexpr std::uint32_t surrogate_mark = 0xFDD0;
constexpr std::string_view surrogate_mark_utf8 = "\xEF\xB7\x90";

bool hex4(std::string_view t, std::size_t at, std::uint32_t& v) noexcept {
  if (at + 4 > t.size()) return false;
  v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const char c = t[at + k];
    std::uint32_t d;
    if (c >= '0' && c <= '9')
      d = static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    else
      return false;
    v = v << 4 | d;
  }
  return true;
}

std::optional<std::string> mark_surrogates(std::string_view t) {
  bool maybe = false; // fast path: no escape that could be a surrogate
  for (std::size_t i = t.find("\\u"); i != std::string_view::npos && !maybe;
       i = t.find("\\u", i + 2)) {
    std::uint32_t v;
    maybe = hex4(t, i + 2, v) && is_surrogate(v);
  }
  if (!maybe) return std::nullopt;
  std::string out;
  out.reserve(t.size() + 64);
  const auto escape = [&out](std::uint32_t v) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4)
      out += hex[(v >> shift) & 15];
  };
  bool in_string = false, lone = false;
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '"') {
      in_string = !in_string;
    } else if (in_string && c == '\\' && i + 1 < t.size()) {
      std::uint32_t v, w;
      if (t[i + 1] == 'u' && hex4(t, i + 2, v)) {
        if (v >= 0xD800 && v <= 0xDBFF && t.substr(i + 6, 2) == "\\u" && hex4(t, i + 8, w) &&
            w >= 0xDC00 && w <= 0xDFFF) { // a pair: one code point
          out.append(t.substr(i, 12));
          i += 12;
          continue;
        }
        if (is_surrogate(v) || v == surrogate_mark) {
          lone = lone || v != surrogate_mark;
          escape(surrogate_mark);
          escape(v == surrogate_mark ? v : 0xE000 + (v - 0xD800));
          i += 6;
          continue;
        }
      }
      out.append(t.substr(i, 2));
      i += 2;
      continue;
    } else if (in_string && t.substr(i, 3) == surrogate_mark_utf8) {
      escape(surrogate_mark);
      escape(surrogate_mark);
      i += 3;
      continue;
    }
    out += c;
    ++i;
  }
  if (!lone) return std::nullopt;
  return out;
}

void unmark_surrogates(std::string& s) {
  if (s.find(surrogate_mark_utf8) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, surrogate_mark_utf8) == 0 && i + 6 <= s.size()) {
      std::size_t j = i + 3;
      std::uint32_t cp = 0;
      if (!next_utf8(s, j, cp)) cp = 0;
      if (cp >= 0xE000 && cp < 0xE800) {
        append_utf8(out, 0xD800 + (cp - 0xE000));
        i = j;
        continue;
      }
      if (cp == surrogate_mark) {
        out.append(surrogate_mark_utf8);
        i = j;
        continue;
      }
    }
    out += s[i++];
  }
  s = std::move(out);
}

class sax_builder {
public:
  explicit sax_builder(node& root) : root_(root) {}

  bool null() { return add(nullptr), true; }
  bool boolean(bool b) { return add(b), true; }
  bool number_integer(std::int64_t v) { return add(v), true; }
  bool number_unsigned(std::uint64_t v) { return add(v), true; }
  bool number_float(long double, const std::string& text) {
    if (text.find_first_of(".eE") == std::string::npos) {
      // An integer beyond 64 bits: kept exactly, as a big-int node.
      add(big_int(text));
      return true;
    }
    // The tree holds the double nearest to the text (+-inf outside double's
    // range), read directly: rounding through long double could be off by one.
    const double d = std::strtod(text.c_str(), nullptr);
    add(d);
    // Only texts that the double does not print back as are kept: npio's own
    // output for float64/float32/float16 never needs them, long doubles do.
    if (float_text(d) != text) float_texts.emplace_back(float_count, text);
    ++float_count;
    return true;
  }
  bool string(std::string& s) {
    if (unmark) unmark_surrogates(s);
    return add(std::move(s)), true;
  }
  bool binary(json_ld::binary_t& b) { return add(node::binary(std::move(b))), true; }
  bool start_object(std::size_t) {
    stack_.push_back(add(node::object()));
    keys_.emplace_back();
    return true;
  }
  bool key(std::string& k) {
    if (unmark) unmark_surrogates(k);
    auto& obj = stack_.back()->get_ref<node::object_t&>();
    auto& seen = keys_.back();
    if (!seen && obj.size() >= 16) {
      seen = std::make_unique<std::unordered_set<std::string>>();
      for (const auto& kv : obj)
        seen->insert(kv.first);
    }
    bool dup;
    if (seen)
      dup = !seen->insert(k).second;
    else
      dup = std::any_of(obj.begin(), obj.end(), [&](const auto& kv) { return kv.first == k; });
    if (dup) {
      error = "duplicate key \"" + k + "\"";
      return false;
    }
    obj.emplace_back(k, nullptr);
    slot_ = &obj.back().second;
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    stack_.push_back(add(node::array()));
    keys_.emplace_back();
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    if (const auto pos = what.find("] ");
        what.starts_with("[json.exception") && pos != std::string::npos)
      what.erase(0, pos + 2);
    error = what;
    return false;
  }

  // (ordinal among the document's float tokens, text) for the texts kept.
  std::vector<std::pair<std::size_t, std::string>> float_texts;
  std::size_t float_count = 0;
  std::string error;
  bool unmark = false; // the text went through mark_surrogates

private:
  template <class V> node* add(V&& v) {
    if (stack_.empty()) {
      root_ = node(std::forward<V>(v));
      return &root_;
    }
    node* top = stack_.back();
    if (top->is_array()) {
      auto& arr = top->get_ref<node::array_t&>();
      arr.emplace_back(std::forward<V>(v));
      return &arr.back();
    }
    *slot_ = node(std::forward<V>(v));
    return slot_;
  }

  node& root_;
  std::vector<node*> stack_;
  std::vector<std::unique_ptr<std::unordered_set<std::string>>> keys_;
  node* slot_ = nullptr;
};

} // namespace

document parse(std::string_view text) {
  document out;
  sax_builder b(*out.root);
  const auto marked = mark_surrogates(text);
  if (marked) {
    b.unmark = true;
    text = *marked;
  }
  const bool ok = json_ld::sax_parse(text.begin(), text.end(), &b);
  if (!ok) invalid("invalid JSON: " + (b.error.empty() ? std::string("parse error") : b.error));
  // Number tokens arrive in document order, which is the tree's depth-first
  // order (object keys keep their order and are unique): pair them up.
  std::size_t next = 0, ordinal = 0;
  if (b.float_texts.empty()) return out;
  out.numbers.reserve(b.float_texts.size());
  std::vector<const node*> stack{out.root.get()};
  while (!stack.empty()) {
    const node* j = stack.back();
    stack.pop_back();
    if (j->is_number_float()) {
      if (next < b.float_texts.size() && b.float_texts[next].first == ordinal)
        out.numbers.emplace(j, std::move(b.float_texts[next++].second));
      ++ordinal;
    } else if (j->is_array()) {
      const auto& arr = j->get_ref<const node::array_t&>();
      for (auto it = arr.rbegin(); it != arr.rend(); ++it)
        stack.push_back(&*it);
    } else if (j->is_object()) {
      const auto& obj = j->get_ref<const node::object_t&>();
      for (auto it = obj.rbegin(); it != obj.rend(); ++it)
        stack.push_back(&it->second);
    }
  }
  return out;
}

} // namespace json
} // namespace v1
} // namespace npio
