// Writing the .npy header byte-identical to np.save (numpy >= 1.24):
// _write_array_header and _wrap_header in numpy/lib/_format_impl.py.
#include "literal.hpp"
#include "npy_framing.hpp"

#include <npio/io.hpp>

namespace npio {
inline namespace v1 {

namespace {
constexpr std::size_t array_align = 64;        // ARRAY_ALIGN, since numpy 1.14
constexpr std::size_t growth_axis_digits = 21; // GROWTH_AXIS_MAX_DIGITS, since 1.24

// UTF-8 to latin-1, or nullopt when a character is above U+00FF.
std::optional<std::string> to_latin1(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
      out += static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string wrap(const std::string& text, format_version v) {
  const std::size_t lenfield = v.major == 1 ? 2 : 4;
  const std::size_t hlen = text.size() + 1;
  const std::size_t padlen = array_align - ((8 + lenfield + hlen) % array_align);
  const std::size_t total = hlen + padlen;
  std::string out(reinterpret_cast<const char*>(detail::npy_magic), detail::npy_magic_len);
  out += static_cast<char>(v.major);
  out += static_cast<char>(v.minor);
  for (std::size_t i = 0; i < lenfield; ++i)
    out += static_cast<char>((total >> (8 * i)) & 0xFF);
  out += text;
  out.append(padlen, ' ');
  out += '\n';
  return out;
}
} // namespace

std::string format_header(const dtype& dt, const shape_t& shape, bool fortran_order,
                          std::optional<format_version> version) {
  std::string d = "{'descr': " + dt.descr() +
                  ", 'fortran_order': " + (fortran_order ? "True" : "False") +
                  ", 'shape': " + detail::repr_shape(shape) + ", }";
  if (!shape.empty()) {
    const auto n = std::to_string(fortran_order ? shape.back() : shape.front()).size();
    d.append(growth_axis_digits > n ? growth_axis_digits - n : 0, ' ');
  }
  const auto latin1 = to_latin1(d);
  auto fits = [&](format_version v) {
    if (v.major == 3) return true;
    if (!latin1) return false;
    const std::size_t hlen = latin1->size() + 1;
    const std::size_t lenfield = v.major == 1 ? 2 : 4;
    const std::size_t total = hlen + array_align - ((8 + lenfield + hlen) % array_align);
    return v.major == 1 ? total <= 0xFFFF : total <= 0xFFFFFFFFu;
  };
  auto emit = [&](format_version v) { return wrap(v.major == 3 ? d : *latin1, v); };
  if (version) {
    if (version->minor != 0 || version->major < 1 || version->major > 3)
      throw error(errc::invalid_argument,
                  "we only support format version (1,0), (2,0), and (3,0), not (" +
                      std::to_string(version->major) + ", " + std::to_string(version->minor) + ")");
    if (!fits(*version))
      throw error(errc::invalid_argument, "header does not fit format version " +
                                              std::to_string(version->major) + ".0" +
                                              (latin1 ? " (too long)" : " (not latin-1 text)"));
    return emit(*version);
  }
  for (std::uint8_t m = 1; m <= 3; ++m)
    if (fits({m, 0})) return emit({m, 0});
  throw error(errc::invalid_argument, "header too large");
}

} // namespace v1
} // namespace npio
