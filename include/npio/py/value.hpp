/// \file py/value.hpp
/// Python values: what a pickle holds (object arrays, raw pickle files), as a
/// C++ value type in the spirit of nlohmann::json. A 1-byte kind tag, small
/// ints, floats and str of up to 13 bytes inline, everything else in a shared
/// copy-on-write node: copying a value is cheap and never changes the original.
///
/// Destruction, repr() and comparison never recurse on the nesting depth of a
/// value (a pickle controls that depth).
#pragma once

#include <atomic>
#include <bit>
#include <complex>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <npio/array.hpp>
#include <npio/dtype.hpp>
#include <npio/error.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace npio {
inline namespace v1 {
namespace py {

/// The Python type of a value.
enum class kind : std::uint8_t {
  none,      ///< None
  boolean,   ///< bool
  integer,   ///< int (64-bit fast path, any size otherwise)
  floating,  ///< float
  complex,   ///< complex
  str,       ///< str (UTF-8)
  bytes,     ///< bytes
  bytearray, ///< bytearray
  list,      ///< list
  tuple,     ///< tuple
  dict,      ///< dict or collections.OrderedDict (insertion-ordered, any hashable key)
  set,       ///< set (insertion-ordered)
  frozenset, ///< frozenset
  ndarray,   ///< numpy.ndarray (an npio::array)
  scalar,    ///< a NumPy scalar: dtype + raw element bytes
  dtype,     ///< a numpy.dtype
  datetime,  ///< datetime.datetime
  date,      ///< datetime.date
  time,      ///< datetime.time
  timedelta, ///< datetime.timedelta
  decimal,   ///< decimal.Decimal (its text)
  global,    ///< a bare reference to a global (e.g. builtins.range)
  object,    ///< an inert instance of a class the caller accepted: class, args, state
};

/// Python's name for a kind: "NoneType", "int", "dict", "numpy.ndarray", ...
const char* kind_name(kind k) noexcept;

/// datetime.datetime / date / time fields (naive unless tzinfo is set).
struct datetime_t {
  int year = 1, month = 1, day = 1;
  int hour = 0, minute = 0, second = 0, microsecond = 0;
  bool fold = false;
  friend bool operator==(const datetime_t&, const datetime_t&) = default;
};
/// datetime.timedelta, normalized as Python does (0 <= seconds < 86400, 0 <= us < 10**6).
struct timedelta_t {
  std::int64_t days = 0, seconds = 0, microseconds = 0;
  friend bool operator==(const timedelta_t&, const timedelta_t&) = default;
};

class value;
/// Entries of a dict, in insertion order.
using dict_entries = std::vector<std::pair<value, value>>;

namespace detail {
struct node;
struct access;
} // namespace detail

/// A Python value. Default-constructed it is None.
class value {
public:
  // ---- construction ----
  value() noexcept : meta_(0) { u_.i = 0; }
  value(std::nullptr_t) noexcept : value() {}
  value(bool b) noexcept : meta_(meta_of(kind::boolean)) { u_.i = b ? 1 : 0; }
  template <std::integral T>
  requires(!std::is_same_v<T, bool> && !std::is_same_v<T, char>) value(T i)
      : meta_(meta_of(kind::integer)) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= 8) {
      if (i > static_cast<std::uint64_t>(INT64_MAX)) {
        *this = from_uint64(static_cast<std::uint64_t>(i));
        return;
      }
    }
    u_.i = static_cast<std::int64_t>(i);
  }
  value(double f) noexcept : meta_(meta_of(kind::floating)) { u_.f = f; }
  value(float f) noexcept : value(static_cast<double>(f)) {}
  value(std::complex<double> c);
  value(const char* s) : value(std::string_view(s)) {}
  value(std::string_view s);
  value(std::string s);
  value(npio::array a);
  value(npio::dtype d);
  /// A list of the given items (use value::dict / tuple / set for the others).
  value(std::initializer_list<value> items);

  static value list(std::vector<value> items = {});
  static value tuple(std::vector<value> items = {});
  static value tuple(std::initializer_list<value> items);
  /// A dict; later duplicates of a key replace the earlier value, as in Python.
  /// Errors: invalid_argument for an unhashable key.
  static value dict(dict_entries entries = {});
  static value dict(std::initializer_list<std::pair<value, value>> entries);
  /// Errors: invalid_argument for an unhashable element.
  static value set(std::vector<value> items = {});
  static value frozenset(std::vector<value> items = {});
  static value bytes(std::string_view b);
  static value bytes(std::span<const std::byte> b);
  static value bytearray(std::string_view b);
  /// CPython 3.11's default sys.get_int_max_str_digits().
  static constexpr std::size_t int_max_str_digits = 4300;
  /// An int of any size from decimal text ("-123", "1" followed by 100 zeros).
  /// Errors: invalid_argument; limit_exceeded past `max_digits` digits (0: no limit).
  static value integer(std::string_view decimal, std::size_t max_digits = int_max_str_digits);
  /// An int from little-endian two's-complement bytes (pickle LONG1/LONG4 form).
  static value int_from_bytes(std::span<const std::uint8_t> le);
  static value from_uint64(std::uint64_t u);
  static value scalar(const npio::dtype& dt, std::string_view raw_bytes);
  static value datetime(const datetime_t& dt, value tzinfo = {});
  static value date(int year, int month, int day);
  static value time(int hour, int minute, int second = 0, int microsecond = 0, bool fold = false,
                    value tzinfo = {});
  /// Normalizes like Python's timedelta constructor.
  static value timedelta(std::int64_t days, std::int64_t seconds = 0,
                         std::int64_t microseconds = 0);
  static value decimal(std::string_view text);
  static value global(std::string_view module, std::string_view name);
  /// An inert object: class "module.qualname", constructor args (a tuple), state.
  static value object(std::string_view cls, value args = tuple(), value state = {});

  value(const value& o) noexcept;
  value(value&& o) noexcept : meta_(o.meta_), u_(o.u_) {
    o.meta_ = 0;
    o.u_.i = 0;
  }
  value& operator=(const value& o) noexcept;
  value& operator=(value&& o) noexcept;
  ~value() {
    if (is_heap()) release();
  }

  // ---- type ----
  kind type() const noexcept { return tag(); }
  const char* kind_name() const noexcept { return py::kind_name(tag()); }
  bool is_none() const noexcept { return tag() == kind::none; }
  bool is_bool() const noexcept { return tag() == kind::boolean; }
  bool is_int() const noexcept { return tag() == kind::integer; }
  /// An int that does not fit in 64 bits.
  bool is_big_int() const noexcept { return tag() == kind::integer && big(); }
  bool is_float() const noexcept { return tag() == kind::floating; }
  bool is_complex() const noexcept { return tag() == kind::complex; }
  bool is_number() const noexcept {
    return tag() == kind::boolean || tag() == kind::integer || tag() == kind::floating ||
           tag() == kind::complex;
  }
  bool is_str() const noexcept { return tag() == kind::str; }
  bool is_bytes() const noexcept { return tag() == kind::bytes; }
  bool is_bytearray() const noexcept { return tag() == kind::bytearray; }
  bool is_list() const noexcept { return tag() == kind::list; }
  bool is_tuple() const noexcept { return tag() == kind::tuple; }
  bool is_dict() const noexcept { return tag() == kind::dict; }
  bool is_set() const noexcept { return tag() == kind::set; }
  bool is_frozenset() const noexcept { return tag() == kind::frozenset; }
  bool is_ndarray() const noexcept { return tag() == kind::ndarray; }
  bool is_scalar() const noexcept { return tag() == kind::scalar; }
  bool is_dtype() const noexcept { return tag() == kind::dtype; }
  bool is_datetime() const noexcept { return tag() == kind::datetime; }
  bool is_date() const noexcept { return tag() == kind::date; }
  bool is_time() const noexcept { return tag() == kind::time; }
  bool is_timedelta() const noexcept { return tag() == kind::timedelta; }
  bool is_decimal() const noexcept { return tag() == kind::decimal; }
  bool is_global() const noexcept { return tag() == kind::global; }
  bool is_object() const noexcept { return tag() == kind::object; }
  /// list, tuple, set or frozenset.
  bool is_sequence() const noexcept {
    return tag() == kind::list || tag() == kind::tuple || tag() == kind::set ||
           tag() == kind::frozenset;
  }

  // ---- conversion ----
  /// The value as T: bool, any integer type (range-checked), double/float
  /// (from int or float), std::complex<double>, std::string (str, bytes,
  /// bytearray, decimal text), std::string_view (same; like a view of a
  /// std::string, it does not survive moving or assigning the value: a short
  /// str lives inside the value), npio::array,
  /// npio::dtype, datetime_t (datetime/date/time), timedelta_t.
  /// Also, recursively: std::vector<T> (from a list, tuple, set, frozenset,
  /// or an ndarray's elements in C order), std::map / std::unordered_map
  /// (from a dict; keys converted too), std::optional<T> (None is nullopt),
  /// std::pair and std::tuple (from a list or tuple of that length), and
  /// py::value itself. A failure names where it happened:
  /// "['tags'][2]: expected str or bytes, got int".
  /// Errors: type_mismatch for another kind; out_of_range when an int does
  /// not fit or a tuple's length differs.
  template <class T> T as() const&;
  template <class T> T as() && {
    static_assert(!std::is_same_v<T, std::string_view>,
                  "as<std::string_view>() of a temporary value would dangle (a short str lives "
                  "inside the value): use as<std::string>() or keep the value in a variable");
    return std::as_const(*this).template as<T>();
  }
  /// Pointer to the inline payload or null: std::int64_t (a small int), double (a float).
  template <class T> const T* get_if() const noexcept;

  /// Decimal digits of an int ("-12345..."). Like CPython's str(int), more
  /// than `max_digits` digits (0: no limit) are refused: the conversion is
  /// quadratic in the length.
  /// Errors: type_mismatch for another kind; limit_exceeded past max_digits.
  std::string int_str(std::size_t max_digits = int_max_str_digits) const;
  /// Minimal little-endian two's-complement bytes of an int (empty for 0).
  std::vector<std::uint8_t> int_bytes() const;

  // ---- containers ----
  /// Number of items (list, tuple, dict, set, frozenset, str code units, bytes).
  /// Errors: type_mismatch.
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  /// Items of a list, tuple, set or frozenset. Errors: type_mismatch.
  /// On a temporary (`py::tolist(a).items()`) the items are returned by value,
  /// so a range-for over them cannot dangle; the same holds for every
  /// accessor below.
  const std::vector<value>& items() const&;
  /// Mutable items (the node is copied first when shared). Errors: type_mismatch.
  std::vector<value>& items() &;
  std::vector<value> items() && { return std::as_const(*this).items(); }
  /// Entries of a dict. Errors: type_mismatch.
  const dict_entries& dict_items() const&;
  /// Mutable entries of a dict; do not change keys through this.
  dict_entries& dict_items() &;
  dict_entries dict_items() && { return std::as_const(*this).dict_items(); }
  const value* begin() const& { return items().data(); }
  const value* end() const& { return items().data() + items().size(); }
  /// Iterating a temporary's begin()/end() would dangle: iterate the value
  /// itself (`for (auto& x : py::tolist(a))`) or `.items()`.
  const value* begin() && = delete;
  const value* end() && = delete;

  /// List or tuple item, checked (negative counts from the end). Errors: type_mismatch,
  /// out_of_range.
  const value& at(std::int64_t i) const&;
  value& at(std::int64_t i) &;
  value at(std::int64_t i) && { return std::as_const(*this).at(i); }
  /// Dict lookup, checked; never inserts. Errors: type_mismatch, out_of_range
  /// ("KeyError: 'epoch'").
  const value& at(const value& key) const&;
  value& at(const value& key) &;
  value at(const value& key) && { return std::as_const(*this).at(key); }
  const value& at(std::string_view key) const& { return at(value(key)); }
  value& at(std::string_view key) & { return at(value(key)); }
  value at(std::string_view key) && { return std::as_const(*this).at(value(key)); }
  const value& at(const char* key) const& { return at(value(key)); }
  value& at(const char* key) & { return at(value(key)); }
  value at(const char* key) && { return std::as_const(*this).at(value(key)); }
  /// Dict lookup; null when absent. Errors: type_mismatch, invalid_argument (unhashable).
  const value* find(const value& key) const&;
  const value* find(const value& key) && = delete; ///< would point into a temporary
  bool contains(const value& key) const;
  /// List/tuple index (checked, like at()).
  const value& operator[](std::int64_t i) const& { return at(i); }
  value& operator[](std::int64_t i) & { return at(i); }
  value operator[](std::int64_t i) && { return std::as_const(*this).at(i); }
  template <std::integral I>
  requires(!std::is_same_v<I, std::int64_t> && !std::is_same_v<I, bool>) const value&
  operator[](I i) const& {
    return at(static_cast<std::int64_t>(i));
  }
  template <std::integral I>
  requires(!std::is_same_v<I, std::int64_t> && !std::is_same_v<I, bool>) value& operator[](I i) & {
    return at(static_cast<std::int64_t>(i));
  }
  template <std::integral I>
  requires(!std::is_same_v<I, std::int64_t> && !std::is_same_v<I, bool>) value operator[](I i) && {
    return std::as_const(*this).at(static_cast<std::int64_t>(i));
  }
  /// Dict item by str key, checked whether const or not: a missing key throws
  /// out_of_range ("KeyError: 'epoch'") and never inserts. To add an item use
  /// insert(), or setdefault() for "get or add".
  const value& operator[](std::string_view key) const& { return at(value(key)); }
  value& operator[](std::string_view key) & { return at(value(key)); }
  value operator[](std::string_view key) && { return std::as_const(*this).at(value(key)); }
  const value& operator[](const char* key) const& { return at(value(key)); }
  value& operator[](const char* key) & { return at(value(key)); }
  value operator[](const char* key) && { return std::as_const(*this).at(value(key)); }

  /// Appends to a list (a None value becomes a list). Errors: type_mismatch.
  void push_back(value v);
  /// Sets a dict item, replacing an equal key's value (Python's `d[k] = v`;
  /// a None value becomes a dict first), or adds to a set.
  /// Errors: type_mismatch, invalid_argument (unhashable key).
  void insert(value key, value v);
  /// Python's dict.setdefault: the item at `key`, added as `def` first when
  /// missing (a None value becomes a dict first).
  /// Errors: type_mismatch, invalid_argument (unhashable key).
  value& setdefault(value key, value def = {});
  void add(value item);

  // ---- other kinds ----
  std::complex<double> as_complex() const { return as<std::complex<double>>(); }
  /// The array of an ndarray value. Errors: type_mismatch.
  const npio::array& array() const&;
  npio::array& array() &;
  npio::array array() && { return std::as_const(*this).array(); }
  /// dtype of a scalar or dtype value. Errors: type_mismatch.
  const npio::dtype& dtype() const&;
  npio::dtype dtype() && { return std::as_const(*this).dtype(); }
  /// Raw element bytes of a NumPy scalar. Errors: type_mismatch.
  const std::string& scalar_bytes() const&;
  std::string scalar_bytes() && { return std::as_const(*this).scalar_bytes(); }
  /// tzinfo of a datetime/time (None when naive).
  const value& tzinfo() const&;
  value tzinfo() && { return std::as_const(*this).tzinfo(); }
  /// Module and name of a global; class, args and state of an inert object.
  const std::string& module() const&;
  std::string module() && { return std::as_const(*this).module(); }
  const std::string& name() const&;
  std::string name() && { return std::as_const(*this).name(); }
  const std::string& object_class() const&;
  std::string object_class() && { return std::as_const(*this).object_class(); }
  const value& object_args() const&;
  value object_args() && { return std::as_const(*this).object_args(); }
  const value& object_state() const&;
  value object_state() && { return std::as_const(*this).object_state(); }

  // ---- comparison, hashing, printing ----
  /// Python's ==: numbers compare by value across bool/int/float/complex,
  /// dicts and sets ignore order, list != tuple. NaN differs from itself
  /// unless it is the same object.
  friend bool operator==(const value& a, const value& b);
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }
  /// Python-compatible hash (equal values hash equal).
  /// Errors: invalid_argument for unhashable kinds (list, dict, set, bytearray, ndarray).
  std::size_t hash() const;
  /// Whether hash() would succeed.
  bool is_hashable() const noexcept;
  /// Python's repr(): "{'foo': 34}", "[1, 2.5, 'a', b'\\x00']", "array([1, 2])", ...
  std::string repr() const;

private:
  friend struct detail::access;
  // meta_ holds, in memory order: the kind (byte 0), flags (byte 1), the
  // length + 1 of a str held inline (byte 2; 0 otherwise) and that str's first
  // 5 bytes (3..7); its other bytes are u_'s. Two whole words: a value is
  // built and copied with word stores and loads (no narrow store is read
  // back by a wider load, which stalls).
  static constexpr bool little = std::endian::native == std::endian::little;
  static constexpr int tag_shift = little ? 0 : 56;
  static constexpr int flag_shift = little ? 8 : 48;
  static constexpr int small_shift = little ? 16 : 40;
  static constexpr std::uint64_t big_flag = std::uint64_t(1) << flag_shift;  // int in a node
  static constexpr std::uint64_t heap_flag = std::uint64_t(2) << flag_shift; // u_.p is owned
  static constexpr std::size_t small_max = 13; // longest str held inline
  static constexpr std::size_t small_offset = 3;
  static constexpr std::uint64_t meta_of(kind k) noexcept {
    return static_cast<std::uint64_t>(k) << tag_shift;
  }
  kind tag() const noexcept { return static_cast<kind>((meta_ >> tag_shift) & 0xff); }
  bool big() const noexcept { return meta_ & big_flag; }
  bool is_heap() const noexcept { return meta_ & heap_flag; }
  unsigned small_len1() const noexcept { return (meta_ >> small_shift) & 0xff; }
  const char* small_data() const noexcept {
    return reinterpret_cast<const char*>(this) + small_offset;
  }
  void release() noexcept;
  void detach(); // copy-on-write: make this node unshared
  void require(kind k, const char* what) const;
  std::complex<double> get_complex() const;

  // All zero is None.
  std::uint64_t meta_;
  union {
    std::int64_t i;
    double f;
    detail::node* p;
  } u_;
};
static_assert(sizeof(value) == 16);

/// Python's repr() of a float: the shortest text that reads back to the same
/// double, always with '.' or an exponent ("1.0", "1e+16", "1.5e-05", "-0.0",
/// "inf", "nan").
std::string float_repr(double f);
/// The same at single precision (shortest text that reads back as that float).
std::string float_repr(float f);

/// Prints v.repr().
std::ostream& operator<<(std::ostream& os, const value& v);

/// Free-function spellings of the factories: py::dict({{"a", 1}}), py::tuple({1, 2}), ...
inline value dict(std::initializer_list<std::pair<value, value>> e) {
  return value::dict(e);
}
inline value list(std::initializer_list<value> e) {
  return value::list(std::vector<value>(e));
}
inline value tuple(std::initializer_list<value> e) {
  return value::tuple(e);
}
inline value set(std::initializer_list<value> e) {
  return value::set(std::vector<value>(e));
}
inline value frozenset(std::initializer_list<value> e) {
  return value::frozenset(std::vector<value>(e));
}
inline value bytes(std::string_view b) {
  return value::bytes(b);
}

// ---- object arrays ------------------------------------------------------------
// An 'O' element is an 8-byte slot holding a native uint64 index into the
// buffer's shared object table (buffer::objects()). Index 0 is always None, so
// zero-filled object arrays hold None, as np.empty(n, object) does.

/// A new C-order object array of `shape` holding `items` (C order).
/// Errors: bad_shape when the counts differ.
npio::array make_object_array(shape_t shape, std::vector<value> items);
/// The object in the 8-byte slot at `slot` of array `a` (None when unset).
/// Errors: out_of_range for an index outside the table.
const value& object_at(const npio::array& a, const std::byte* slot);
/// The object at flat C-order index `i` of an object array. Errors: type_mismatch, out_of_range.
const value& object_at(const npio::array& a, std::int64_t i);
/// Stores `v` in the slot at `slot` of `a` (appends to the table).
void set_object(npio::array& a, std::byte* slot, value v);
/// Stores `v` at flat C-order index `i`. Errors: type_mismatch, out_of_range, not_writeable.
void set_object(npio::array& a, std::int64_t i, value v);

/// ndarray.tolist(): nested lists of Python values (ints, floats, complex,
/// bools; S -> bytes, U -> str, V -> bytes, structured -> tuples, M/m -> int
/// counts with NaT as None, O -> the objects). A 0-d array gives its element.
value tolist(const npio::array& a);
/// ndarray.item() of a size-1 array. Errors: out_of_range when size != 1.
value item(const npio::array& a);
/// One element at `p` (points into `a`'s buffer) of dtype `dt` as a value.
value element_value(const npio::array& a, const npio::dtype& dt, const std::byte* p);

namespace detail {
bool as_bool(const value& v);
std::int64_t as_int64(const value& v);
std::uint64_t as_uint64(const value& v);
double as_double(const value& v);
std::string_view as_string_view(const value& v);
datetime_t as_datetime(const value& v);
timedelta_t as_timedelta(const value& v);
[[noreturn]] void throw_out_of_range_int(const value& v, const char* type);

// ---- recursive conversions (as<std::vector<T>>, as<std::map<K, T>>, ...) ----
// A failure deep inside throws path_error; as<>() turns it into one
// npio::error whose text starts with the path: "['tags'][2]: expected ...".
struct path_error {
  errc code;
  std::string path, message;
};
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T> struct is_map : std::false_type {};
template <class K, class V, class C, class A>
struct is_map<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A>
struct is_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};
template <class T> struct is_tuple : std::false_type {};
template <class... T> struct is_tuple<std::tuple<T...>> : std::true_type {};
template <class A, class B> struct is_tuple<std::pair<A, B>> : std::true_type {};
template <class T>
inline constexpr bool is_compound_v =
    is_optional<T>::value || is_vector<T>::value || is_map<T>::value || is_tuple<T>::value ||
    std::is_same_v<T, value>;

std::string key_path(const value& key);
[[noreturn]] void throw_sequence_expected(const value& v, const char* what, std::size_t n);

template <class T> T convert(const value& v);

template <class F> auto at_path(const std::string& step, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (path_error& e) {
    e.path.insert(0, step);
    throw;
  } catch (const error& e) {
    throw path_error{e.code(), step, e.detail()};
  }
}

template <class Tuple, std::size_t... I>
Tuple convert_tuple(const std::vector<value>& items, std::index_sequence<I...>) {
  return Tuple{at_path("[" + std::to_string(I) + "]",
                       [&] { return convert<std::tuple_element_t<I, Tuple>>(items[I]); })...};
}

template <class T> T convert(const value& v) {
  if constexpr (std::is_same_v<T, value>) {
    return v;
  } else if constexpr (is_optional<T>::value) {
    if (v.is_none()) return std::nullopt;
    return T(convert<typename T::value_type>(v));
  } else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    if (v.is_ndarray()) {
      if constexpr (npio::detail::element_type<E> || std::is_same_v<E, std::string> ||
                    std::is_same_v<E, std::u32string>)
        return v.array().template to_vector<E>();
    }
    if (!v.is_sequence()) throw_sequence_expected(v, "list", 0);
    T out;
    out.reserve(v.items().size());
    std::size_t i = 0;
    for (const value& x : v.items()) {
      out.push_back(at_path("[" + std::to_string(i) + "]", [&] { return convert<E>(x); }));
      ++i;
    }
    return out;
  } else if constexpr (is_map<T>::value) {
    if (!v.is_dict()) throw_sequence_expected(v, "dict", 0);
    T out;
    for (const auto& kv : v.dict_items()) {
      // named references, not a structured binding: clang before 16 cannot
      // capture bindings in the lambdas below
      const auto& k = kv.first;
      const auto& x = kv.second;
      const std::string step = key_path(k);
      auto key = at_path(step + " (key)", [&] { return convert<typename T::key_type>(k); });
      out.emplace(std::move(key),
                  at_path(step, [&] { return convert<typename T::mapped_type>(x); }));
    }
    return out;
  } else if constexpr (is_tuple<T>::value) {
    constexpr std::size_t n = std::tuple_size_v<T>;
    if (!(v.is_list() || v.is_tuple()) || v.items().size() != n)
      throw_sequence_expected(v, "tuple", n);
    return convert_tuple<T>(v.items(), std::make_index_sequence<n>{});
  } else {
    return v.template as<T>();
  }
}
} // namespace detail

template <class T> T value::as() const& {
  if constexpr (detail::is_compound_v<T>) {
    try {
      return detail::convert<T>(*this);
    } catch (const detail::path_error& e) {
      throw error(e.code, e.path.empty() ? e.message : e.path + ": " + e.message);
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    return detail::as_bool(*this);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    const std::int64_t x = detail::as_int64(*this);
    if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        x > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
      detail::throw_out_of_range_int(*this, "signed integer");
    return static_cast<T>(x);
  } else if constexpr (std::is_integral_v<T>) {
    const std::uint64_t x = detail::as_uint64(*this);
    if (x > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      detail::throw_out_of_range_int(*this, "unsigned integer");
    return static_cast<T>(x);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(detail::as_double(*this));
  } else if constexpr (std::is_same_v<T, std::complex<double>>) {
    if (tag() == kind::complex) return get_complex();
    return {detail::as_double(*this), 0.0};
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(detail::as_string_view(*this));
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return detail::as_string_view(*this);
  } else if constexpr (std::is_same_v<T, npio::array>) {
    return array();
  } else if constexpr (std::is_same_v<T, npio::dtype>) {
    return dtype();
  } else if constexpr (std::is_same_v<T, datetime_t>) {
    return detail::as_datetime(*this);
  } else if constexpr (std::is_same_v<T, timedelta_t>) {
    return detail::as_timedelta(*this);
  } else {
    static_assert(sizeof(T) == 0,
                  "no conversion from py::value to this type: as<T>() takes bool, integers, "
                  "float/double, std::complex<double>, std::string, std::string_view, npio::array, "
                  "npio::dtype, datetime_t, timedelta_t, py::value, and std::vector, std::map, "
                  "std::unordered_map, std::optional, std::pair, std::tuple of those");
  }
}

template <class T> const T* value::get_if() const noexcept {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return tag() == kind::integer && !big() ? &u_.i : nullptr;
  } else if constexpr (std::is_same_v<T, double>) {
    return tag() == kind::floating ? &u_.f : nullptr;
  } else {
    static_assert(sizeof(T) == 0, "get_if supports std::int64_t and double");
  }
}

} // namespace py
} // namespace v1
} // namespace npio

template <> struct std::hash<npio::py::value> {
  std::size_t operator()(const npio::py::value& v) const { return v.hash(); }
};
