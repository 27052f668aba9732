// The error category and the context-carrying exception.
#include <npio/error.hpp>

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
    : std::runtime_error(compose(detail, file, member, offset)), code_(code),
      detail_(std::move(detail)), file_(std::move(file)), member_(std::move(member)),
      offset_(offset) {}

error error::with_context(const std::string& file, const std::string& member) const {
  return error(code_, detail_, file_.empty() ? file : file_, member_.empty() ? member : member_,
               offset_);
}

} // namespace v1
} // namespace npio
