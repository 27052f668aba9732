// The error category and the context-carrying exception.
#include <cstdint>
#include <npio/error.hpp>
#include <string_view>

namespace npio {
inline namespace v1 {

const char* errc_name(errc e) noexcept {
  switch (e) {
  case errc::ok:
    return "ok";
  case errc::io_error:
    return "io_error";
  case errc::invalid_argument:
    return "invalid_argument";
  case errc::type_mismatch:
    return "type_mismatch";
  case errc::out_of_range:
    return "out_of_range";
  case errc::unsupported:
    return "unsupported";
  case errc::limit_exceeded:
    return "limit_exceeded";
  case errc::truncated:
    return "truncated";
  case errc::bad_magic:
    return "bad_magic";
  case errc::bad_version:
    return "bad_version";
  case errc::header_too_large:
    return "header_too_large";
  case errc::header_syntax:
    return "header_syntax";
  case errc::header_not_dict:
    return "header_not_dict";
  case errc::header_keys:
    return "header_keys";
  case errc::bad_shape:
    return "bad_shape";
  case errc::bad_fortran_order:
    return "bad_fortran_order";
  case errc::bad_descr:
    return "bad_descr";
  case errc::size_overflow:
    return "size_overflow";
  case errc::header_encoding:
    return "header_encoding";
  case errc::misaligned:
    return "misaligned";
  case errc::pickle_disallowed:
    return "pickle_disallowed";
  case errc::not_writeable:
    return "not_writeable";
  case errc::pickle_truncated:
    return "pickle_truncated";
  case errc::pickle_bad_opcode:
    return "pickle_bad_opcode";
  case errc::pickle_stack:
    return "pickle_stack";
  case errc::pickle_memo:
    return "pickle_memo";
  case errc::pickle_global:
    return "pickle_global";
  case errc::pickle_unsupported:
    return "pickle_unsupported";
  case errc::pickle_invalid:
    return "pickle_invalid";
  case errc::pickle_encoding:
    return "pickle_encoding";
  case errc::zip_bad_archive:
    return "zip_bad_archive";
  case errc::zip_crc:
    return "zip_crc";
  case errc::zip_method:
    return "zip_method";
  case errc::zip_bomb:
    return "zip_bomb";
  case errc::zip_bad_name:
    return "zip_bad_name";
  case errc::zip_duplicate:
    return "zip_duplicate";
  case errc::zip_no_member:
    return "zip_no_member";
  }
  return "unknown";
}

std::string escape_text(std::string_view s, bool keep_newline) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto esc = [&](unsigned char c) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += "\\x", out += hex[c >> 4], out += hex[c & 15];
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && !(keep_newline && c == '\n')) || c == 0x7f)
        esc(c);
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    // a well-formed UTF-8 sequence (no overlongs, no surrogates, <= U+10FFFF)
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf)
      n = 1, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
      n = 2, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
      n = 3, cp = c & 0x07u;
    bool ok = n > 0;
    for (std::size_t k = 1; ok && k <= n; ++k) {
      if (i + k >= s.size()) {
        ok = false;
        break;
      }
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (ok && ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
               (cp >= 0xd800 && cp <= 0xdfff)))
      ok = false;
    if (!ok) {
      esc(c);
      ++i;
      continue;
    }
    if (cp >= 0x80 && cp <= 0x9f) { // C1 controls
      esc(static_cast<unsigned char>(cp));
    } else {
      out.append(s.substr(i, n + 1));
    }
    i += n + 1;
  }
  return out;
}

namespace {
class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "npio"; }
  std::string message(int c) const override { return errc_name(static_cast<errc>(c)); }
};

std::string compose(const std::string& detail, const std::string& file, const std::string& member,
                    std::optional<std::uint64_t> offset) {
  std::string s;
  if (!file.empty()) s += file + ": ";
  if (!member.empty()) s += member + ": ";
  s += detail;
  if (offset) s += " (at byte " + std::to_string(*offset) + ")";
  return s;
}
} // namespace

const std::error_category& error_category() noexcept {
  static const category c;
  return c;
}

error::error(errc code, std::string detail, std::string file, std::string member,
             std::optional<std::uint64_t> offset)
    : std::runtime_error(
          compose(escape_text(detail, true), escape_text(file), escape_text(member), offset)),
      code_(code), detail_(escape_text(detail, true)), file_(escape_text(file)),
      member_(escape_text(member)), offset_(offset) {}

error error::with_context(const std::string& file, const std::string& member) const {
  return error(code_, detail_, file_.empty() ? file : file_, member_.empty() ? member : member_,
               offset_);
}

} // namespace v1
} // namespace npio
