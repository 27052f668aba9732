// Parser for the Python-literal subset of .npy headers. Recursive descent
// bounded by max_literal_depth, so no input can exhaust the stack.
#include "literal.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace npio {
inline namespace v1 {
namespace detail {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t find_invalid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return i;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    const bool overlong =
        (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

namespace {

class parser {
public:
  parser(std::string_view t, bool latin1) : t_(t), latin1_(latin1) {}

  literal parse_all() {
    literal v = value(0);
    skip_ws();
    if (p_ != t_.size()) fail("unexpected text after the value");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string& what) const { throw literal_error{what, p_}; }
  [[noreturn]] void fail_at(const std::string& what, std::size_t pos) const {
    throw literal_error{what, pos};
  }

  void skip_ws() {
    while (p_ < t_.size()) {
      const char c = t_[p_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++p_;
      } else if (c == '\\' && p_ + 1 < t_.size() && t_[p_ + 1] == '\n') {
        p_ += 2; // explicit line continuation
      } else if (c == '#') {
        while (p_ < t_.size() && t_[p_] != '\n')
          ++p_;
      } else {
        break;
      }
    }
  }

  bool peek(char c) {
    skip_ws();
    return p_ < t_.size() && t_[p_] == c;
  }

  literal value(std::size_t depth) {
    if (depth >= max_literal_depth)
      fail("nesting deeper than " + std::to_string(max_literal_depth) + " levels");
    skip_ws();
    if (p_ >= t_.size()) fail("unexpected end of header");
    const char c = t_[p_];
    if (c == '{') return container(depth, '}', literal::kind::dict);
    if (c == '[') return container(depth, ']', literal::kind::list);
    if (c == '(') return container(depth, ')', literal::kind::tuple);
    if (c == '\'' || c == '"') return strings();
    if ((c == 'u' || c == 'U' || c == 'r' || c == 'R') && p_ + 1 < t_.size() &&
        (t_[p_ + 1] == '\'' || t_[p_ + 1] == '"'))
      return strings();
    if (c == '-' || c == '+' || (c >= '0' && c <= '9') || c == '.') return number();
    if (is_ident(c)) return name();
    fail(std::string("unexpected character ") + describe(c));
  }

  static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  static std::string describe(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    return buf;
  }

  literal name() {
    literal v;
    v.pos = p_;
    std::size_t e = p_;
    while (e < t_.size() && (is_ident(t_[e]) || (t_[e] >= '0' && t_[e] <= '9')))
      ++e;
    const std::string_view w = t_.substr(p_, e - p_);
    if (w == "True" || w == "False") {
      v.k = literal::kind::boolean;
      v.b = w == "True";
    } else if (w == "None") {
      v.k = literal::kind::none;
    } else {
      std::string msg(1, '\'');
      msg.append(w);
      msg.append("' is not a literal");
      fail(msg);
    }
    p_ = e;
    return v;
  }

  literal number() {
    literal v;
    v.pos = p_;
    bool neg = false;
    // Unary signs, as ast.literal_eval accepts them.
    while (p_ < t_.size() && (t_[p_] == '-' || t_[p_] == '+')) {
      neg ^= t_[p_] == '-';
      ++p_;
      skip_ws();
    }
    const std::size_t start = p_;
    while (p_ < t_.size() && ((t_[p_] >= '0' && t_[p_] <= '9') || t_[p_] == '_'))
      ++p_;
    bool is_float = false;
    if (p_ < t_.size() && (t_[p_] == '.' || t_[p_] == 'e' || t_[p_] == 'E')) {
      is_float = true;
      while (p_ < t_.size() &&
             ((t_[p_] >= '0' && t_[p_] <= '9') || t_[p_] == '.' || t_[p_] == 'e' || t_[p_] == 'E' ||
              ((t_[p_] == '-' || t_[p_] == '+') && (t_[p_ - 1] == 'e' || t_[p_ - 1] == 'E'))))
        ++p_;
    }
    std::string digits(t_.substr(start, p_ - start));
    if (digits.empty()) fail_at("expected a number", start);
    if (is_float) {
      v.k = literal::kind::floating;
      v.s = (neg ? "-" : "") + digits;
      return v;
    }
    std::erase(digits, '_');
    if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
      fail_at("leading zeros in a decimal integer", start);
    // Python 2 long suffix, which NumPy's reader filters out.
    if (p_ < t_.size() && (t_[p_] == 'L' || t_[p_] == 'l')) ++p_;
    if (p_ < t_.size() && (is_ident(t_[p_]) || t_[p_] == '.')) fail("invalid number");
    v.k = literal::kind::integer;
    std::uint64_t mag = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), mag);
    const std::uint64_t lim = neg ? std::uint64_t(std::numeric_limits<std::int64_t>::max()) + 1
                                  : std::uint64_t(std::numeric_limits<std::int64_t>::max());
    if (ec != std::errc() || ptr != digits.data() + digits.size() || mag > lim) {
      v.big = true;
      v.s = (neg ? "-" : "") + digits;
      return v;
    }
    v.i = neg ? static_cast<std::int64_t>(0 - mag) : static_cast<std::int64_t>(mag);
    return v;
  }

  // One or more adjacent string literals, concatenated as Python does.
  literal strings() {
    literal v;
    v.k = literal::kind::string;
    v.pos = p_;
    do {
      one_string(v.s);
      skip_ws();
    } while (p_ < t_.size() &&
             (t_[p_] == '\'' || t_[p_] == '"' ||
              ((t_[p_] == 'u' || t_[p_] == 'U' || t_[p_] == 'r' || t_[p_] == 'R') &&
               p_ + 1 < t_.size() && (t_[p_ + 1] == '\'' || t_[p_ + 1] == '"'))));
    return v;
  }

  void put_char(std::string& out, unsigned char c) {
    if (c >= 0x80 && latin1_)
      append_utf8(out, c);
    else
      out += static_cast<char>(c);
  }

  std::uint32_t hex(std::size_t n) {
    if (p_ + n > t_.size()) fail("truncated escape sequence");
    std::uint32_t cp = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = t_[p_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        fail("invalid hex digit in escape sequence");
    }
    return cp;
  }

  void one_string(std::string& out) {
    bool raw = false;
    while (t_[p_] != '\'' && t_[p_] != '"') {
      raw |= t_[p_] == 'r' || t_[p_] == 'R';
      ++p_;
    }
    const char q = t_[p_];
    const bool triple = p_ + 2 < t_.size() && t_[p_ + 1] == q && t_[p_ + 2] == q;
    const std::size_t open = p_;
    p_ += triple ? 3 : 1;
    for (;;) {
      if (p_ >= t_.size()) fail_at("unterminated string", open);
      const auto c = static_cast<unsigned char>(t_[p_]);
      if (c == static_cast<unsigned char>(q)) {
        if (!triple) {
          ++p_;
          return;
        }
        if (p_ + 2 < t_.size() && t_[p_ + 1] == q && t_[p_ + 2] == q) {
          p_ += 3;
          return;
        }
      }
      if (c == '\n' && !triple) fail_at("unterminated string", open);
      if (c != '\\' || raw) {
        put_char(out, c);
        ++p_;
        if (c == '\\' && p_ < t_.size()) put_char(out, static_cast<unsigned char>(t_[p_++]));
        continue;
      }
      ++p_;
      if (p_ >= t_.size()) fail_at("unterminated string", open);
      const char e = t_[p_++];
      switch (e) {
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
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        append_utf8(out, hex(2));
        break;
      case 'u':
        append_utf8(out, check_cp(hex(4)));
        break;
      case 'U':
        append_utf8(out, check_cp(hex(8)));
        break;
      default:
        if (e >= '0' && e <= '7') {
          std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
          for (int k = 0; k < 2 && p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '7'; ++k)
            cp = cp * 8 + static_cast<std::uint32_t>(t_[p_++] - '0');
          append_utf8(out, cp);
        } else {
          // Python keeps unknown escapes as written.
          out += '\\';
          put_char(out, static_cast<unsigned char>(e));
        }
      }
    }
  }

  std::uint32_t check_cp(std::uint32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("invalid code point in escape");
    return cp;
  }

  literal container(std::size_t depth, char close, literal::kind k) {
    literal v;
    v.k = k;
    v.pos = p_;
    const std::size_t open = p_;
    ++p_;
    bool saw_comma = false;
    for (;;) {
      if (peek(close)) {
        ++p_;
        break;
      }
      if (p_ >= t_.size()) fail_at("unbalanced bracket", open);
      v.items.push_back(value(depth + 1));
      if (k == literal::kind::dict) {
        const auto& key = v.items.back();
        if (key.k == literal::kind::list || key.k == literal::kind::dict)
          fail_at("unhashable dictionary key", key.pos);
        if (!peek(':')) fail("expected ':' in dictionary");
        ++p_;
        v.items.push_back(value(depth + 1));
      }
      if (peek(',')) {
        ++p_;
        saw_comma = true;
        continue;
      }
      if (peek(close)) {
        ++p_;
        break;
      }
      if (p_ >= t_.size()) fail_at("unbalanced bracket", open);
      fail(std::string("expected ',' or '") + close + "'");
    }
    // "(x)" is x in parentheses, not a tuple.
    if (k == literal::kind::tuple && v.items.size() == 1 && !saw_comma) {
      literal inner = std::move(v.items[0]);
      return inner;
    }
    return v;
  }

  std::string_view t_;
  bool latin1_;
  std::size_t p_ = 0;
};

} // namespace

literal parse_literal(std::string_view text, bool latin1) {
  return parser(text, latin1).parse_all();
}

namespace {
bool printable(std::uint32_t cp) {
  // Python's str.isprintable for the characters headers hold; the C1 controls,
  // no-break space, soft hyphen, separators and format characters are escaped.
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp >= 0x80 && cp <= 0xA0) return false;
  if (cp == 0xAD) return false;
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
      (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF)
    return false;
  if ((cp >= 0xD800 && cp <= 0xF8FF) || (cp >= 0xFFF0 && cp <= 0xFFFB) || cp == 0xFFFE ||
      cp == 0xFFFF)
    return false;
  if (cp >= 0xE0000) return false;
  return true;
}

std::uint32_t next_cp(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
  std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
  ++i;
  for (std::size_t k = 0; k < n && i < s.size(); ++k, ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return cp;
}
} // namespace

std::string repr_str(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (std::size_t i = 0; i < s.size();) {
    const std::uint32_t cp = next_cp(s, i);
    char buf[16];
    if (cp == static_cast<std::uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (printable(cp)) {
      append_utf8(out, cp);
    } else if (cp < 0x100) {
      std::snprintf(buf, sizeof buf, "\\x%02x", cp);
      out += buf;
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\U%08x", cp);
      out += buf;
    }
  }
  out += q;
  return out;
}

std::string repr_shape(const std::vector<std::int64_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

std::string repr(const literal& v) {
  switch (v.k) {
  case literal::kind::none:
    return "None";
  case literal::kind::boolean:
    return v.b ? "True" : "False";
  case literal::kind::integer:
    return v.big ? v.s : std::to_string(v.i);
  case literal::kind::floating:
    return v.s;
  case literal::kind::string:
    return repr_str(v.s);
  case literal::kind::tuple:
  case literal::kind::list: {
    const bool tup = v.k == literal::kind::tuple;
    std::string out = tup ? "(" : "[";
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      if (i) out += ", ";
      out += repr(v.items[i]);
    }
    if (tup && v.items.size() == 1) out += ",";
    out += tup ? ")" : "]";
    return out;
  }
  case literal::kind::dict: {
    std::string out = "{";
    for (std::size_t i = 0; i + 1 < v.items.size(); i += 2) {
      if (i) out += ", ";
      out += repr(v.items[i]) + ": " + repr(v.items[i + 1]);
    }
    return out + "}";
  }
  }
  return {};
}

} // namespace detail
} // namespace v1
} // namespace npio
