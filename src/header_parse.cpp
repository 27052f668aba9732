// Reading the .npy preamble and header: every number is checked before use and
// nothing is evaluated. The steps and messages follow numpy's _read_array_header.
#include "literal.hpp"
#include "npy_framing.hpp"
#include "shape_size.hpp"
#include "sniff.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <npio/io.hpp>
#include <optional>

namespace npio {
inline namespace v1 {
namespace detail {
dtype dtype_from_literal(const literal& v);

} // namespace detail

namespace {

constexpr std::size_t magic_len = 8; // magic + major + minor

using detail::literal;
using K = literal::kind;

[[noreturn]] void fail(errc code, const std::string& what, std::uint64_t offset) {
  throw error(code, what, {}, {}, offset);
}

std::string short_repr(const literal& v) {
  std::string r = detail::repr(v);
  if (r.size() > 200) r = r.substr(0, 200) + "...";
  return r;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Bytes per element of a header's data (0 for object dtypes: a pickle).
std::uint64_t data_itemsize(const header& h) {
  return h.dtype.is_object() || h.dtype.has_object() ? 0 : h.dtype.itemsize();
}

// The fast path: a header exactly as np.save writes it,
//   {'descr': 'D', 'fortran_order': B, 'shape': (S), }   (then spaces, '\n')
// with a plain dtype string D. It accepts only text the full parser reads the
// same way, and leaves everything else (errors included) to the full parser,
// so results and messages cannot differ. Most files take it: it saves the
// literal tree, the key bookkeeping and their allocations (small-file loads).
template <std::size_t N> inline bool eat(std::string_view& t, const char (&lit)[N]) {
  constexpr std::size_t n = N - 1;
  if (t.size() < n || std::memcmp(t.data(), lit, n) != 0) return false;
  t.remove_prefix(n);
  return true;
}

inline bool descr_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '<' ||
         c == '>' || c == '|' || c == '=' || c == '[' || c == ']';
}

bool parse_canonical(std::string_view t, header& h) {
  if (!eat(t, "{'descr': '")) return false;
  std::size_t n = 0;
  while (n < t.size() && n < 64 && descr_char(t[n]))
    ++n;
  if (n == 0 || n == t.size() || t[n] != '\'') return false;
  const std::string_view descr_text = t.substr(0, n);
  t.remove_prefix(n + 1);
  if (!eat(t, ", 'fortran_order': ")) return false;
  if (eat(t, "False"))
    h.fortran_order = false;
  else if (eat(t, "True"))
    h.fortran_order = true;
  else
    return false;
  if (!eat(t, ", 'shape': (")) return false;
  // Python's repr of a tuple of ints: (), (N,), (N, M, ...).
  while (!t.empty() && t[0] != ')') {
    std::size_t d = 0;
    std::int64_t v = 0;
    while (d < t.size() && d < 18 && t[d] >= '0' && t[d] <= '9')
      v = v * 10 + (t[d++] - '0');
    if (d == 0 || d == 18 || (d > 1 && t[0] == '0')) return false; // big or not Python syntax
    t.remove_prefix(d);
    h.shape.push_back(v);
    if (h.shape.size() > max_ndim) return false;
    if (eat(t, ", ")) {
      if (h.shape.size() == 1 && !t.empty() && t[0] == ')') return false; // "(N, )"
      continue;
    }
    if (eat(t, ",")) {
      if (h.shape.size() != 1 || t.empty() || t[0] != ')') return false;
      continue;
    }
    if (h.shape.size() == 1) return false; // "(N)" is an int, not a tuple
  }
  if (!eat(t, "), }")) return false;
  std::size_t pad = 0;
  while (pad < t.size() && t[pad] == ' ')
    ++pad;
  if (pad + 1 != t.size() || t[pad] != '\n') return false;

  // Loading many files of one dtype parses the same descr again and again:
  // remember the last one per thread (dtypes are immutable and shared).
  thread_local std::string last_text;
  thread_local std::optional<dtype> last_dtype;
  if (last_dtype && descr_text == last_text) {
    h.dtype = *last_dtype;
  } else {
    literal descr;
    descr.k = K::string;
    descr.s.assign(descr_text);
    try {
      h.dtype = detail::dtype_from_literal(descr);
    } catch (const error&) {
      return false;
    }
    last_text.assign(descr_text);
    last_dtype = h.dtype;
  }
  if (h.dtype.is_subarray()) return false;
  return detail::shape_nbytes(h.shape, data_itemsize(h), h.data_size) == detail::size_check::ok;
}

// ---- read_header's steps, in order ----------------------------------------------------

// Step 1: magic, version and header length, or the error np.load gives for them.
detail::preamble read_preamble(std::span<const std::byte> bytes) {
  if (bytes.size() < magic_len)
    fail(errc::truncated,
         "EOF: reading magic string, expected 8 bytes got " + std::to_string(bytes.size()), 0);
  if (!detail::has_npy_magic(bytes))
    fail(errc::bad_magic,
         "the magic string is not correct; expected b'\\x93NUMPY', got " +
             detail::python_bytes_repr(bytes.first(6)),
         0);
  const auto major = static_cast<std::uint8_t>(bytes[6]);
  const auto minor = static_cast<std::uint8_t>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3)
    fail(errc::bad_version,
         "we only support format version (1,0), (2,0), and (3,0), not (" + std::to_string(major) +
             ", " + std::to_string(minor) + ")",
         6);
  const auto p = detail::read_preamble(bytes);
  if (!p) {
    const std::size_t lenfield = major == 1 ? 2 : 4;
    fail(errc::truncated,
         "EOF: reading array header length, expected " + std::to_string(lenfield) + " bytes got " +
             std::to_string(bytes.size() - magic_len),
         magic_len);
  }
  return *p;
}

[[noreturn]] void header_too_large(std::uint64_t n, std::size_t max_header_size) {
  fail(errc::header_too_large,
       "Header info length (" + std::to_string(n) +
           ") is large and may not be safe to load securely; raise max_header_size "
           "(now " +
           std::to_string(max_header_size) + ") only if you trust the file",
       magic_len);
}

// Step 2: the header text, within max_header_size (bytes, or characters for
// version 3, which must be UTF-8) and present in full.
std::string_view header_text(std::span<const std::byte> bytes, const detail::preamble& p,
                             std::size_t max_header_size) {
  const std::uint64_t hlen = p.header_length;
  if (hlen > detail::header_byte_limit(p.major, max_header_size))
    header_too_large(hlen, max_header_size);
  if (bytes.size() - p.size < hlen)
    fail(errc::truncated,
         "EOF: reading array header, expected " + std::to_string(hlen) + " bytes got " +
             std::to_string(bytes.size() - p.size),
         p.size);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + p.size, hlen);
  if (p.major == 3) {
    if (const auto bad = detail::find_invalid_utf8(text); bad != std::string_view::npos)
      fail(errc::header_encoding, "header is not valid UTF-8", p.size + bad);
    if (const auto n = utf8_length(text); n > max_header_size) header_too_large(n, max_header_size);
  }
  return text;
}

// The values of the three keys, found by parse_header_dict.
struct header_items {
  const literal* descr = nullptr;
  const literal* fortran = nullptr;
  const literal* shape = nullptr;
};

// Step 3 (when the fast path declined): the text as a Python literal dict with
// exactly the keys descr, fortran_order and shape. `d` owns the values.
header_items parse_header_dict(std::string_view text, std::uint8_t major, std::uint64_t start,
                               literal& d) {
  try {
    d = detail::parse_literal(text, major < 3);
  } catch (const detail::literal_error& e) {
    fail(errc::header_syntax, "Cannot parse header: " + e.what, start + e.pos);
  }
  if (d.k != K::dict)
    fail(errc::header_not_dict, "Header is not a dictionary: " + short_repr(d), start + d.pos);
  header_items it;
  std::vector<std::string> keys;
  bool odd = false;
  for (std::size_t i = 0; i + 1 < d.items.size(); i += 2) {
    const literal& k = d.items[i];
    const literal* v = &d.items[i + 1];
    if (k.is_str() && k.s == "descr")
      it.descr = v;
    else if (k.is_str() && k.s == "fortran_order")
      it.fortran = v;
    else if (k.is_str() && k.s == "shape")
      it.shape = v;
    else
      odd = true;
    const std::string r = detail::repr(k);
    if (std::find(keys.begin(), keys.end(), r) == keys.end()) keys.push_back(r);
  }
  if (odd || !it.descr || !it.fortran || !it.shape) {
    std::sort(keys.begin(), keys.end());
    std::string list = "[";
    for (std::size_t i = 0; i < keys.size(); ++i)
      list += (i ? ", " : "") + keys[i];
    fail(errc::header_keys, "Header does not contain the correct keys: " + list + "]",
         start + d.pos);
  }
  return it;
}

// Step 4: shape, a tuple of non-negative ints (bool counts, as in Python).
shape_t check_shape(const literal& shape, std::uint64_t start) {
  if (shape.k != K::tuple)
    fail(errc::bad_shape, "shape is not valid: " + short_repr(shape), start + shape.pos);
  if (shape.items.size() > max_ndim)
    fail(errc::bad_shape,
         "shape is not valid: " + std::to_string(shape.items.size()) + " dimensions, more than " +
             std::to_string(max_ndim),
         start + shape.pos);
  shape_t out;
  for (const auto& dim : shape.items) {
    if (dim.k == K::boolean) {
      out.push_back(dim.b ? 1 : 0);
    } else if (dim.k == K::integer && !dim.big) {
      if (dim.i < 0)
        fail(errc::bad_shape,
             "shape is not valid: " + short_repr(shape) + ": negative dimensions are not allowed",
             start + dim.pos);
      out.push_back(dim.i);
    } else if (dim.k == K::integer) {
      fail(errc::size_overflow,
           "shape is not valid: " + short_repr(shape) + ": dimension too large", start + dim.pos);
    } else {
      fail(errc::bad_shape, "shape is not valid: " + short_repr(shape), start + shape.pos);
    }
  }
  return out;
}

// Step 5: fortran_order, a bool.
bool check_fortran_order(const literal& fortran, std::uint64_t start) {
  if (fortran.k != K::boolean)
    fail(errc::bad_fortran_order, "fortran_order is not a valid bool: " + short_repr(fortran),
         start + fortran.pos);
  return fortran.b;
}

// Step 6: descr, a dtype; a subarray's (type, shape) moves its dimensions
// to the end of the array's shape.
void check_descr(const literal& descr, const literal& shape, std::uint64_t start, header& h) {
  try {
    h.dtype = detail::dtype_from_literal(descr);
  } catch (const error& e) {
    fail(errc::bad_descr,
         "descr is not a valid dtype descriptor: " + short_repr(descr) + ": " + e.detail(),
         start + descr.pos);
  }
  if (!h.dtype.is_subarray()) return;
  if (h.fortran_order)
    fail(errc::bad_descr, "a subarray descr with fortran_order is not supported",
         start + descr.pos);
  for (auto dim : h.dtype.shape())
    h.shape.push_back(dim);
  h.dtype = dtype(h.dtype.base());
  if (h.shape.size() > max_ndim)
    fail(errc::bad_shape, "shape has more than " + std::to_string(max_ndim) + " dimensions",
         start + shape.pos);
}

// Step 7: the data's size, as NumPy checks it (src/shape_size.hpp).
void check_size(const literal& shape, std::uint64_t start, header& h) {
  switch (detail::shape_nbytes(h.shape, data_itemsize(h), h.data_size)) {
  case detail::size_check::ok:
    return;
  case detail::size_check::too_many:
    fail(errc::size_overflow, "shape " + short_repr(shape) + " has too many elements",
         start + shape.pos);
  case detail::size_check::too_large:
    fail(errc::size_overflow,
         "array of shape " + short_repr(shape) + " and itemsize " +
             std::to_string(h.dtype.itemsize()) + " is too large",
         start + shape.pos);
  }
}

} // namespace

header read_header(std::span<const std::byte> bytes, std::size_t max_header_size) {
  const detail::preamble p = read_preamble(bytes);
  const std::string_view text = header_text(bytes, p, max_header_size);
  const std::uint64_t start = p.size;
  {
    header h; // as np.save writes it: steps 3 to 7 at once
    if (parse_canonical(text, h)) {
      h.version = {p.major, 0};
      h.data_offset = start + p.header_length;
      return h;
    }
  }
  literal d;
  const header_items it = parse_header_dict(text, p.major, start, d);
  header h;
  h.version = {p.major, 0};
  h.data_offset = start + p.header_length;
  h.shape = check_shape(*it.shape, start);
  h.fortran_order = check_fortran_order(*it.fortran, start);
  check_descr(*it.descr, *it.shape, start, h);
  check_size(*it.shape, start, h);
  return h;
}

result<header> try_read_header(std::span<const std::byte> bytes,
                               std::size_t max_header_size) noexcept {
  return capture([&] { return read_header(bytes, max_header_size); });
}

} // namespace v1
} // namespace npio
