// dtype: NumPy's type descriptors, parsed from the strings and descr literals
// NumPy accepts and rendered back exactly as NumPy writes them.
#include "literal.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <npio/dtype.hpp>
#include <npio/error.hpp>
#include <set>

namespace npio {
inline namespace v1 {

// ---- float16 ---------------------------------------------------------------

float16::float16(float f) noexcept {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t absx = x & 0x7FFFFFFFu;
  std::uint32_t h;
  if (absx >= 0x7F800000u) { // inf or nan
    h = 0x7C00u | (absx > 0x7F800000u ? (0x200u | ((absx >> 13) & 0x3FFu)) : 0u);
  } else if (absx >= 0x477FF000u) { // rounds to inf
    h = 0x7C00u;
  } else if (absx < 0x38800000u) {                   // subnormal or zero: round to nearest even
    const std::uint32_t shift = 126u - (absx >> 23); // half subnormals count 2**-24
    if (shift > 24) {
      h = 0;
    } else {
      const std::uint32_t mant = (absx & 0x7FFFFFu) | 0x800000u;
      h = mant >> shift;
      const std::uint32_t rem = mant & ((1u << shift) - 1u);
      const std::uint32_t half = 1u << (shift - 1);
      if (rem > half || (rem == half && (h & 1u))) ++h;
    }
  } else {
    h = ((absx - 0x38000000u) >> 13);
    const std::uint32_t rem = absx & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  }
  bits = static_cast<std::uint16_t>(sign | h);
}

float16::operator float() const noexcept {
  const std::uint32_t sign = (std::uint32_t(bits) & 0x8000u) << 16;
  const std::uint32_t exp = (bits >> 10) & 0x1Fu;
  std::uint32_t mant = bits & 0x3FFu;
  std::uint32_t x;
  if (exp == 0x1F) {
    x = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    x = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    x = sign;
  } else {
    std::uint32_t e = 113;
    while (!(mant & 0x400u))
      mant <<= 1, --e;
    x = sign | (e << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// ---- the descriptor --------------------------------------------------------

struct dtype::impl {
  char kind = 'f';
  byte_order order = native_order();
  std::size_t itemsize = 8;
  std::size_t align = 8;
  time_unit unit = time_unit::generic;
  std::int64_t count = 1;
  bool structured = false;
  std::vector<field> fields;
  std::optional<dtype> sub_base;
  shape_t sub_shape;
  bool has_object = false;
  bool native = true;
  std::size_t depth = 1;
};

namespace {

// NumPy caps an itemsize at a C int.
constexpr std::size_t max_itemsize = std::numeric_limits<std::int32_t>::max();

[[noreturn]] void bad(const std::string& what) {
  throw error(errc::bad_descr, what);
}

const std::shared_ptr<const dtype::impl>& float64_impl() {
  static const auto p = std::make_shared<const dtype::impl>();
  return p;
}

constexpr std::array<const char*, 14> unit_names = {"",  "Y",  "M",  "W",  "D",  "h",  "m",
                                                    "s", "ms", "us", "ns", "ps", "fs", "as"};

bool order_matters(char kind, std::size_t itemsize) {
  switch (kind) {
  case 'b':
  case 'S':
  case 'V':
  case 'O':
    return false;
  case 'U':
    return true;
  default:
    return itemsize > 1;
  }
}

std::size_t natural_alignment(char kind, std::size_t itemsize) {
  switch (kind) {
  case 'S':
  case 'V':
  case 'b':
    return 1;
  case 'U':
    return 4;
  case 'O':
  case 'M':
  case 'm':
    return 8;
  case 'c':
    return std::min<std::size_t>(itemsize / 2, 16);
  default:
    return std::min<std::size_t>(itemsize, 16);
  }
}

bool valid_size(char kind, std::size_t n) {
  switch (kind) {
  case 'b':
    return n == 1;
  case 'i':
  case 'u':
    return n == 1 || n == 2 || n == 4 || n == 8;
  case 'f':
    return n == 2 || n == 4 || n == 8 || n == 16;
  case 'c':
    return n == 8 || n == 16 || n == 32;
  case 'M':
  case 'm':
  case 'O':
    return n == 8;
  case 'S':
  case 'U':
  case 'V':
    return n <= max_itemsize;
  default:
    return false;
  }
}

bool add_overflows(std::size_t a, std::size_t b, std::size_t& out) {
  return __builtin_add_overflow(a, b, &out) || out > max_itemsize;
}
bool mul_overflows(std::size_t a, std::size_t b, std::size_t& out) {
  return __builtin_mul_overflow(a, b, &out) || out > max_itemsize;
}

} // namespace

dtype::dtype() : p_(float64_impl()) {}

dtype dtype::make(char kind, std::size_t itemsize, std::optional<byte_order> order) {
  if (kind == 'O' && itemsize == 4) itemsize = 8; // '|O4' from 32-bit writers
  if (!valid_size(kind, itemsize))
    bad("no dtype of kind '" + std::string(1, kind) + "' with itemsize " +
        std::to_string(itemsize));
  auto p = std::make_shared<impl>();
  p->kind = kind;
  p->itemsize = itemsize;
  p->align = natural_alignment(kind, itemsize);
  if (!order_matters(kind, itemsize)) {
    p->order = byte_order::none;
  } else {
    p->order = (!order || *order == byte_order::none) ? native_order() : *order;
  }
  p->native =
      p->order != (native_order() == byte_order::little ? byte_order::big : byte_order::little);
  p->has_object = kind == 'O';
  return dtype(std::move(p));
}

dtype dtype::datetime(char kind, time_unit unit, std::int64_t count, byte_order order) {
  if (kind != 'M' && kind != 'm') bad("datetime kind must be 'M' or 'm'");
  if (count < 1 || count > std::numeric_limits<std::int32_t>::max())
    bad("datetime unit multiple must be a positive int");
  dtype d = make(kind, 8, order);
  auto p = std::make_shared<impl>(*d.p_);
  p->unit = unit;
  p->count = unit == time_unit::generic ? 1 : count;
  return dtype(std::move(p));
}

dtype dtype::structured(std::vector<field> fields, std::optional<std::size_t> itemsize) {
  auto p = std::make_shared<impl>();
  p->kind = 'V';
  p->order = byte_order::none;
  p->structured = true;
  p->align = 1;
  std::size_t end = 0, depth = 0;
  std::set<std::string> names;
  bool native = true, has_obj = false;
  for (const auto& f : fields) {
    if (!names.insert(f.name).second) bad("field name '" + f.name + "' is used twice");
    if (f.title) {
      if (*f.title == f.name || !names.insert(*f.title).second)
        bad("title '" + *f.title + "' is already used as a name or title");
    }
    std::size_t fend;
    if (add_overflows(f.offset, f.type.itemsize(), fend)) bad("field offset too large");
    end = std::max(end, fend);
    depth = std::max(depth, f.type.p_->depth);
    native &= f.type.is_native();
    has_obj |= f.type.has_object();
  }
  if (depth + 1 > max_dtype_depth)
    throw error(errc::limit_exceeded,
                "dtype nesting deeper than " + std::to_string(max_dtype_depth) + " levels");
  if (itemsize && *itemsize < end) bad("itemsize is smaller than the fields it holds");
  if (has_obj) {
    // Object slots may not overlap anything (NumPy refuses such dtypes too).
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (const auto& f : fields)
      spans.emplace_back(f.offset, f.offset + f.type.itemsize());
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i)
      if (spans[i].first < spans[i - 1].second && spans[i].first != spans[i].second)
        bad("fields overlap in a dtype that holds objects");
  }
  p->itemsize = itemsize ? *itemsize : end;
  if (p->itemsize > max_itemsize) bad("itemsize too large");
  p->fields = std::move(fields);
  p->native = native;
  p->has_object = has_obj;
  p->depth = depth + 1;
  return dtype(std::move(p));
}

dtype dtype::record(const std::vector<std::pair<std::string, dtype>>& fields, bool align) {
  std::vector<field> fs;
  std::size_t off = 0, maxal = 1;
  for (const auto& [name, t] : fields) {
    if (align) {
      const std::size_t a = t.alignment();
      off = (off + a - 1) / a * a;
      maxal = std::max(maxal, a);
    }
    fs.push_back(field{name, t, off, std::nullopt});
    if (add_overflows(off, t.itemsize(), off)) bad("itemsize too large");
  }
  if (align) off = (off + maxal - 1) / maxal * maxal;
  dtype d = structured(std::move(fs), off);
  if (align) {
    auto p = std::make_shared<impl>(*d.p_);
    p->align = maxal;
    return dtype(std::move(p));
  }
  return d;
}

dtype dtype::subarray(const dtype& base, std::vector<std::int64_t> shape) {
  if (shape.empty()) return base;
  if (shape.size() > max_ndim)
    bad("subarray has more than " + std::to_string(max_ndim) + " dimensions");
  std::size_t n = base.itemsize();
  for (auto d : shape) {
    if (d < 0) bad("subarray dimensions must be non-negative");
    if (mul_overflows(n, static_cast<std::size_t>(d), n)) bad("subarray itemsize too large");
  }
  if (base.p_->depth + 1 > max_dtype_depth)
    throw error(errc::limit_exceeded,
                "dtype nesting deeper than " + std::to_string(max_dtype_depth) + " levels");
  auto p = std::make_shared<impl>();
  p->kind = 'V';
  p->order = byte_order::none;
  p->itemsize = n;
  p->align = base.alignment();
  p->sub_base = base;
  p->sub_shape = std::move(shape);
  p->native = base.is_native();
  p->has_object = base.has_object();
  p->depth = base.p_->depth + 1;
  return dtype(std::move(p));
}

// ---- parsing strings ---------------------------------------------------------

namespace {

struct named {
  std::string_view name; // not const char*: comparing sizes first saves a strlen per entry
  char kind;
  std::size_t size;
};

// np.dtype() names and one-letter codes (x86-64 Linux sizes: long is 8 bytes).
constexpr named type_names[] = {
    {"?", 'b', 1},
    {"bool", 'b', 1},
    {"bool_", 'b', 1},
    {"bool8", 'b', 1},
    {"b", 'i', 1},
    {"B", 'u', 1},
    {"h", 'i', 2},
    {"H", 'u', 2},
    {"i", 'i', 4},
    {"I", 'u', 4},
    {"l", 'i', 8},
    {"L", 'u', 8},
    {"q", 'i', 8},
    {"Q", 'u', 8},
    {"p", 'i', 8},
    {"P", 'u', 8},
    {"n", 'i', 8},
    {"N", 'u', 8},
    {"e", 'f', 2},
    {"f", 'f', 4},
    {"d", 'f', 8},
    {"g", 'f', 16},
    {"F", 'c', 8},
    {"D", 'c', 16},
    {"G", 'c', 32},
    {"O", 'O', 8},
    {"S", 'S', 0},
    {"a", 'S', 0},
    {"U", 'U', 0},
    {"V", 'V', 0},
    {"M", 'M', 8},
    {"m", 'm', 8},
    {"int8", 'i', 1},
    {"int16", 'i', 2},
    {"int32", 'i', 4},
    {"int64", 'i', 8},
    {"uint8", 'u', 1},
    {"uint16", 'u', 2},
    {"uint32", 'u', 4},
    {"uint64", 'u', 8},
    {"float16", 'f', 2},
    {"float32", 'f', 4},
    {"float64", 'f', 8},
    {"float128", 'f', 16},
    {"complex64", 'c', 8},
    {"complex128", 'c', 16},
    {"complex256", 'c', 32},
    {"byte", 'i', 1},
    {"ubyte", 'u', 1},
    {"short", 'i', 2},
    {"ushort", 'u', 2},
    {"intc", 'i', 4},
    {"uintc", 'u', 4},
    {"int_", 'i', 8},
    {"uint", 'u', 8},
    {"int", 'i', 8},
    {"long", 'i', 8},
    {"ulong", 'u', 8},
    {"longlong", 'i', 8},
    {"ulonglong", 'u', 8},
    {"intp", 'i', 8},
    {"uintp", 'u', 8},
    {"int0", 'i', 8},
    {"uint0", 'u', 8},
    {"half", 'f', 2},
    {"single", 'f', 4},
    {"double", 'f', 8},
    {"float", 'f', 8},
    {"float_", 'f', 8},
    {"longdouble", 'f', 16},
    {"longfloat", 'f', 16},
    {"csingle", 'c', 8},
    {"singlecomplex", 'c', 8},
    {"cdouble", 'c', 16},
    {"complex", 'c', 16},
    {"complex_", 'c', 16},
    {"cfloat", 'c', 16},
    {"clongdouble", 'c', 32},
    {"clongfloat", 'c', 32},
    {"longcomplex", 'c', 32},
    {"object", 'O', 8},
    {"object_", 'O', 8},
    {"object0", 'O', 8},
    {"bytes", 'S', 0},
    {"bytes_", 'S', 0},
    {"string_", 'S', 0},
    {"str", 'U', 0},
    {"str_", 'U', 0},
    {"unicode", 'U', 0},
    {"unicode_", 'U', 0},
    {"void", 'V', 0},
    {"void0", 'V', 0},
    {"datetime64", 'M', 8},
    {"timedelta64", 'm', 8},
};

std::optional<std::size_t> parse_size(std::string_view digits) {
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  std::size_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return n;
}

// "[25s]" after M8/datetime64.
void parse_unit(std::string_view s, const std::string& text, time_unit& unit, std::int64_t& count) {
  if (s.empty()) return;
  if (s.front() != '[' || s.back() != ']') bad("data type '" + text + "' not understood");
  s = s.substr(1, s.size() - 2);
  std::size_t k = 0;
  while (k < s.size() && s[k] >= '0' && s[k] <= '9')
    ++k;
  count = 1;
  if (k) {
    auto n = parse_size(s.substr(0, k));
    if (!n || *n == 0 || *n > std::size_t(std::numeric_limits<std::int32_t>::max()))
      bad("invalid datetime unit multiple in '" + text + "'");
    count = static_cast<std::int64_t>(*n);
  }
  const std::string_view u = s.substr(k);
  if (u == "generic" && k == 0) {
    unit = time_unit::generic;
    return;
  }
  for (std::size_t i = 1; i < unit_names.size(); ++i)
    if (u == unit_names[i]) {
      unit = static_cast<time_unit>(i);
      return;
    }
  if (u == "\xce\xbcs") { // micro sign spelling
    unit = time_unit::us;
    return;
  }
  bad("invalid datetime unit '" + std::string(u) + "' in '" + text + "'");
}

} // namespace

dtype dtype::parse(std::string_view text) {
  const std::string t(text);
  std::string_view s = text;
  std::optional<byte_order> order;
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '=' || s[0] == '|' || s[0] == '!')) {
    switch (s[0]) {
    case '<':
      order = byte_order::little;
      break;
    case '>':
    case '!':
      order = byte_order::big;
      break;
    default:
      order = std::nullopt; // '=' and '|': native where it matters
    }
    s.remove_prefix(1);
  }
  if (s.empty()) bad("data type '" + t + "' not understood");
  // Units belong to datetimes: split "M8[ns]" / "datetime64[ns]".
  std::string_view unit_part;
  if (const auto br = s.find('['); br != std::string_view::npos) {
    unit_part = s.substr(br);
    s = s.substr(0, br);
    if (s.empty()) bad("data type '" + t + "' not understood");
  }
  char kind = 0;
  std::size_t size = 0;
  bool found = false;
  for (const auto& n : type_names)
    if (s == n.name) {
      kind = n.kind, size = n.size, found = true;
      break;
    }
  if (!found) {
    // kind letter + size: i4, f8, c16, S3, a5, U2, V10, O8, M8, b1
    const char k = s[0];
    const auto n = parse_size(s.substr(1));
    if (!n || std::string_view("biufcSaUVOMm").find(k) == std::string_view::npos)
      bad("data type '" + t + "' not understood");
    kind = k == 'a' ? 'S' : k;
    size = *n;
    if (kind == 'U') {
      if (size > max_itemsize / 4) bad("data type '" + t + "' is too large");
      size *= 4;
    }
    if (kind == 'O' && size == 4) size = 8;
    if (kind == 'M' || kind == 'm') {
      if (size != 8) bad("data type '" + t + "' not understood");
    }
  }
  if (!unit_part.empty() && kind != 'M' && kind != 'm') bad("data type '" + t + "' not understood");
  if (!valid_size(kind, size)) bad("data type '" + t + "' not understood");
  if (kind == 'M' || kind == 'm') {
    time_unit unit = time_unit::generic;
    std::int64_t count = 1;
    parse_unit(unit_part, t, unit, count);
    return datetime(kind, unit, count, order.value_or(native_order()));
  }
  return make(kind, size, order);
}

namespace {

shape_t shape_from_literal(const detail::literal& v, bool& synonym) {
  using K = detail::literal::kind;
  synonym = false;
  shape_t shape;
  if (v.k == K::integer && !v.big) {
    if (v.i == 1) synonym = true; // (type, 1) means type (deprecated synonym)
    shape.push_back(v.i);
  } else if (v.k == K::tuple) {
    for (const auto& d : v.items) {
      if (d.k != K::integer || d.big) bad("subarray shape must be a tuple of ints: " + repr(v));
      shape.push_back(d.i);
    }
  } else {
    bad("subarray shape must be an int or a tuple of ints: " + repr(v));
  }
  for (auto d : shape)
    if (d < 0) bad("subarray dimensions must be non-negative: " + repr(v));
  return shape;
}

dtype subarray_from(const dtype& base, const detail::literal& shape_lit) {
  bool synonym = false;
  shape_t shape = shape_from_literal(shape_lit, synonym);
  if (synonym) return base;
  return dtype::subarray(base, std::move(shape));
}

dtype from_literal(const detail::literal& v, std::size_t depth) {
  using K = detail::literal::kind;
  if (depth > max_dtype_depth)
    throw error(errc::limit_exceeded,
                "dtype nesting deeper than " + std::to_string(max_dtype_depth) + " levels");
  if (v.k == K::string) return dtype::parse(v.s);
  if (v.k == K::tuple) {
    if (v.items.size() != 2) bad("a (type, shape) tuple needs two items: " + repr(v));
    return subarray_from(from_literal(v.items[0], depth + 1), v.items[1]);
  }
  if (v.k != K::list) bad("descr must be a str, a tuple or a list: " + repr(v));
  std::vector<field> fields;
  std::size_t offset = 0;
  for (const auto& f : v.items) {
    if ((f.k != K::tuple && f.k != K::list) || (f.items.size() != 2 && f.items.size() != 3))
      bad("a field must be (name, type) or (name, type, shape): " + repr(f));
    const auto& nm = f.items[0];
    std::string name;
    std::optional<std::string> title;
    if (nm.k == K::string) {
      name = nm.s;
    } else if (nm.k == K::tuple && nm.items.size() == 2 && nm.items[0].is_str() &&
               nm.items[1].is_str()) {
      title = nm.items[0].s;
      name = nm.items[1].s;
    } else {
      bad("a field name must be a str or a (title, name) tuple: " + repr(nm));
    }
    dtype t = from_literal(f.items[1], depth + 1);
    if (f.items.size() == 3) t = subarray_from(t, f.items[2]);
    const bool pad = !title && name.empty() && t.kind() == 'V' && !t.is_structured();
    if (!pad) fields.push_back(field{name, t, offset, title});
    if (add_overflows(offset, t.itemsize(), offset)) bad("itemsize too large");
  }
  return dtype::structured(std::move(fields), offset);
}

} // namespace

dtype dtype::from_descr(std::string_view python_literal) {
  detail::literal v;
  try {
    v = detail::parse_literal(python_literal, false);
  } catch (const detail::literal_error& e) {
    throw error(errc::header_syntax, "cannot parse descr: " + e.what, {}, {}, e.pos);
  }
  return from_literal(v, 0);
}

namespace detail {
dtype dtype_from_literal(const literal& v) {
  return from_literal(v, 0);
}
} // namespace detail

// ---- accessors ----------------------------------------------------------------

char dtype::kind() const noexcept {
  return p_->kind;
}
byte_order dtype::order() const noexcept {
  return p_->order;
}
std::size_t dtype::itemsize() const noexcept {
  return p_->itemsize;
}
std::size_t dtype::alignment() const noexcept {
  return p_->align;
}
bool dtype::is_structured() const noexcept {
  return p_->structured;
}
bool dtype::is_subarray() const noexcept {
  return p_->sub_base.has_value();
}
bool dtype::has_object() const noexcept {
  return p_->has_object;
}
bool dtype::is_native() const noexcept {
  return p_->native;
}
const std::vector<field>& dtype::fields() const noexcept {
  return p_->fields;
}
const dtype& dtype::base() const noexcept {
  return p_->sub_base ? *p_->sub_base : *this;
}
const std::vector<std::int64_t>& dtype::shape() const noexcept {
  return p_->sub_shape;
}
time_unit dtype::unit() const noexcept {
  return p_->unit;
}
std::int64_t dtype::unit_count() const noexcept {
  return p_->count;
}

dtype dtype::with_order(byte_order o) const {
  if (o == byte_order::none) o = native_order();
  if (p_->structured) {
    std::vector<field> fs = p_->fields;
    for (auto& f : fs)
      f.type = f.type.with_order(o);
    dtype d = structured(std::move(fs), p_->itemsize);
    auto p = std::make_shared<impl>(*d.p_);
    p->align = p_->align;
    return dtype(std::move(p));
  }
  if (p_->sub_base) return subarray(p_->sub_base->with_order(o), p_->sub_shape);
  if (p_->order == byte_order::none || p_->order == o) return *this;
  auto p = std::make_shared<impl>(*p_);
  p->order = o;
  p->native = o == native_order();
  return dtype(std::move(p));
}

namespace {
std::string unit_suffix(const dtype& d) {
  if (d.unit() == time_unit::generic) return {};
  std::string s = "[";
  if (d.unit_count() != 1) s += std::to_string(d.unit_count());
  s += unit_names[static_cast<std::size_t>(d.unit())];
  return s + "]";
}

} // namespace

std::string dtype::str() const {
  const char o = static_cast<char>(p_->order);
  if (p_->structured || p_->sub_base) return "|V" + std::to_string(p_->itemsize);
  switch (p_->kind) {
  case 'O':
    return "|O";
  case 'U':
    return std::string(1, o) + "U" + std::to_string(p_->itemsize / 4);
  case 'M':
  case 'm':
    return std::string(1, o) + p_->kind + "8" + unit_suffix(*this);
  default:
    return std::string(1, o) + p_->kind + std::to_string(p_->itemsize);
  }
}

std::string dtype::descr() const {
  // numpy/_core/_internal.py::_array_descr
  if (p_->sub_base)
    return "(" + p_->sub_base->descr() + ", " + detail::repr_shape(p_->sub_shape) + ")";
  if (!p_->structured) return detail::repr_str(str());
  std::vector<const field*> order;
  for (const auto& f : p_->fields)
    order.push_back(&f);
  std::string out = "[";
  std::size_t offset = 0;
  bool first = true;
  auto item = [&](const std::string& s) {
    if (!first) out += ", ";
    first = false;
    out += s;
  };
  for (const field* f : order) {
    if (f->offset > offset) {
      item("('', '|V" + std::to_string(f->offset - offset) + "')");
      offset = f->offset;
    } else if (f->offset < offset) {
      bad("dtype.descr is not defined for types with overlapping or out-of-order fields");
    }
    std::string name =
        f->title ? "(" + detail::repr_str(*f->title) + ", " + detail::repr_str(f->name) + ")"
                 : detail::repr_str(f->name);
    if (f->type.is_subarray())
      item("(" + name + ", " + f->type.base().descr() + ", " + detail::repr_shape(f->type.shape()) +
           ")");
    else
      item("(" + name + ", " + f->type.descr() + ")");
    offset += f->type.itemsize();
  }
  if (p_->itemsize > offset) item("('', '|V" + std::to_string(p_->itemsize - offset) + "')");
  return out + "]";
}

std::string dtype::name() const {
  if (p_->structured)
    return "structured (" + std::to_string(p_->fields.size()) + " field" +
           (p_->fields.size() == 1 ? "" : "s") + ", " + std::to_string(p_->itemsize) + " bytes)";
  if (p_->sub_base)
    return "subarray of " + p_->sub_base->name() + " " + detail::repr_shape(p_->sub_shape);
  std::string prefix;
  if (p_->order != byte_order::none && !p_->native)
    prefix = p_->order == byte_order::big ? "big-endian " : "little-endian ";
  const std::string bits = std::to_string(p_->itemsize * 8);
  switch (p_->kind) {
  case 'b':
    return "bool";
  case 'i':
    return prefix + "int" + bits;
  case 'u':
    return prefix + "uint" + bits;
  case 'f':
    return prefix + (p_->itemsize == 16 ? "longdouble (x87 80-bit in 16 bytes)" : "float" + bits);
  case 'c':
    return prefix + (p_->itemsize == 32 ? "clongdouble (2 x87 80-bit)" : "complex" + bits);
  case 'S':
    return "bytes (" + std::to_string(p_->itemsize) + " bytes)";
  case 'U':
    return prefix + "str (" + std::to_string(p_->itemsize / 4) + " characters)";
  case 'V':
    return "void (" + std::to_string(p_->itemsize) + " bytes)";
  case 'O':
    return "object";
  case 'M':
    return prefix + "datetime64" + unit_suffix(*this);
  case 'm':
    return prefix + "timedelta64" + unit_suffix(*this);
  default:
    return str();
  }
}

bool operator==(const dtype& a, const dtype& b) noexcept {
  if (a.p_ == b.p_) return true;
  const auto &x = *a.p_, &y = *b.p_;
  if (x.kind != y.kind || x.order != y.order || x.itemsize != y.itemsize || x.unit != y.unit ||
      x.count != y.count || x.structured != y.structured || x.sub_shape != y.sub_shape ||
      x.sub_base.has_value() != y.sub_base.has_value())
    return false;
  if (x.sub_base && !(*x.sub_base == *y.sub_base)) return false;
  return x.fields == y.fields;
}

} // namespace v1
} // namespace npio
