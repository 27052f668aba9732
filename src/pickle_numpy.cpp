// Reconstruction by allowlist: what REDUCE, NEWOBJ, INST, OBJ and BUILD may
// build. NumPy arrays (all four _reconstruct paths, numpy.ndarray, protocol-5
// _frombuffer), numpy.dtype with every state tuple NumPy has written, NumPy
// scalars, _codecs.encode, the built-in types, copy_reg._reconstructor for
// built-ins, collections.OrderedDict, datetime.*, decimal.Decimal. Nothing is
// imported or executed; anything else is an error or (when allowed) an inert object.
#include "hooks.hpp"
#include "pickle_internal.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <npio/visit.hpp>

namespace npio {
inline namespace v1 {
namespace pickle {
namespace detail {

namespace {

using py::kind;
using py::detail::access;
namespace pyd = py::detail;

struct name_pair {
  const char* module;
  const char* name;
};

// CPython's _compat_pickle.NAME_MAPPING (Python 2 -> 3), including the
// exceptions.* and multiprocessing.* entries it generates.
const std::pair<name_pair, name_pair> name_mapping[] = {
    {{"UserDict", "IterableUserDict"}, {"collections", "UserDict"}},
    {{"UserDict", "UserDict"}, {"collections", "UserDict"}},
    {{"UserList", "UserList"}, {"collections", "UserList"}},
    {{"UserString", "UserString"}, {"collections", "UserString"}},
    {{"__builtin__", "basestring"}, {"builtins", "str"}},
    {{"__builtin__", "intern"}, {"sys", "intern"}},
    {{"__builtin__", "long"}, {"builtins", "int"}},
    {{"__builtin__", "reduce"}, {"functools", "reduce"}},
    {{"__builtin__", "unichr"}, {"builtins", "chr"}},
    {{"__builtin__", "unicode"}, {"builtins", "str"}},
    {{"__builtin__", "xrange"}, {"builtins", "range"}},
    {{"_multiprocessing", "Connection"}, {"multiprocessing.connection", "Connection"}},
    {{"_socket", "fromfd"}, {"socket", "fromfd"}},
    {{"exceptions", "ArithmeticError"}, {"builtins", "ArithmeticError"}},
    {{"exceptions", "AssertionError"}, {"builtins", "AssertionError"}},
    {{"exceptions", "AttributeError"}, {"builtins", "AttributeError"}},
    {{"exceptions", "BaseException"}, {"builtins", "BaseException"}},
    {{"exceptions", "BufferError"}, {"builtins", "BufferError"}},
    {{"exceptions", "BytesWarning"}, {"builtins", "BytesWarning"}},
    {{"exceptions", "DeprecationWarning"}, {"builtins", "DeprecationWarning"}},
    {{"exceptions", "EOFError"}, {"builtins", "EOFError"}},
    {{"exceptions", "EnvironmentError"}, {"builtins", "EnvironmentError"}},
    {{"exceptions", "Exception"}, {"builtins", "Exception"}},
    {{"exceptions", "FloatingPointError"}, {"builtins", "FloatingPointError"}},
    {{"exceptions", "FutureWarning"}, {"builtins", "FutureWarning"}},
    {{"exceptions", "GeneratorExit"}, {"builtins", "GeneratorExit"}},
    {{"exceptions", "IOError"}, {"builtins", "IOError"}},
    {{"exceptions", "ImportError"}, {"builtins", "ImportError"}},
    {{"exceptions", "ImportWarning"}, {"builtins", "ImportWarning"}},
    {{"exceptions", "IndentationError"}, {"builtins", "IndentationError"}},
    {{"exceptions", "IndexError"}, {"builtins", "IndexError"}},
    {{"exceptions", "KeyError"}, {"builtins", "KeyError"}},
    {{"exceptions", "KeyboardInterrupt"}, {"builtins", "KeyboardInterrupt"}},
    {{"exceptions", "LookupError"}, {"builtins", "LookupError"}},
    {{"exceptions", "MemoryError"}, {"builtins", "MemoryError"}},
    {{"exceptions", "NameError"}, {"builtins", "NameError"}},
    {{"exceptions", "NotImplementedError"}, {"builtins", "NotImplementedError"}},
    {{"exceptions", "OSError"}, {"builtins", "OSError"}},
    {{"exceptions", "OverflowError"}, {"builtins", "OverflowError"}},
    {{"exceptions", "PendingDeprecationWarning"}, {"builtins", "PendingDeprecationWarning"}},
    {{"exceptions", "ReferenceError"}, {"builtins", "ReferenceError"}},
    {{"exceptions", "RuntimeError"}, {"builtins", "RuntimeError"}},
    {{"exceptions", "RuntimeWarning"}, {"builtins", "RuntimeWarning"}},
    {{"exceptions", "StandardError"}, {"builtins", "Exception"}},
    {{"exceptions", "StopIteration"}, {"builtins", "StopIteration"}},
    {{"exceptions", "SyntaxError"}, {"builtins", "SyntaxError"}},
    {{"exceptions", "SyntaxWarning"}, {"builtins", "SyntaxWarning"}},
    {{"exceptions", "SystemError"}, {"builtins", "SystemError"}},
    {{"exceptions", "SystemExit"}, {"builtins", "SystemExit"}},
    {{"exceptions", "TabError"}, {"builtins", "TabError"}},
    {{"exceptions", "TypeError"}, {"builtins", "TypeError"}},
    {{"exceptions", "UnboundLocalError"}, {"builtins", "UnboundLocalError"}},
    {{"exceptions", "UnicodeDecodeError"}, {"builtins", "UnicodeDecodeError"}},
    {{"exceptions", "UnicodeEncodeError"}, {"builtins", "UnicodeEncodeError"}},
    {{"exceptions", "UnicodeError"}, {"builtins", "UnicodeError"}},
    {{"exceptions", "UnicodeTranslateError"}, {"builtins", "UnicodeTranslateError"}},
    {{"exceptions", "UnicodeWarning"}, {"builtins", "UnicodeWarning"}},
    {{"exceptions", "UserWarning"}, {"builtins", "UserWarning"}},
    {{"exceptions", "ValueError"}, {"builtins", "ValueError"}},
    {{"exceptions", "Warning"}, {"builtins", "Warning"}},
    {{"exceptions", "ZeroDivisionError"}, {"builtins", "ZeroDivisionError"}},
    {{"itertools", "ifilter"}, {"builtins", "filter"}},
    {{"itertools", "ifilterfalse"}, {"itertools", "filterfalse"}},
    {{"itertools", "imap"}, {"builtins", "map"}},
    {{"itertools", "izip"}, {"builtins", "zip"}},
    {{"itertools", "izip_longest"}, {"itertools", "zip_longest"}},
    {{"multiprocessing", "AuthenticationError"},
     {"multiprocessing.context", "AuthenticationError"}},
    {{"multiprocessing", "BufferTooShort"}, {"multiprocessing.context", "BufferTooShort"}},
    {{"multiprocessing", "ProcessError"}, {"multiprocessing.context", "ProcessError"}},
    {{"multiprocessing", "TimeoutError"}, {"multiprocessing.context", "TimeoutError"}},
    {{"multiprocessing.forking", "Popen"}, {"multiprocessing.popen_fork", "Popen"}},
    {{"multiprocessing.process", "Process"}, {"multiprocessing.context", "Process"}},
    {{"socket", "_socketobject"}, {"socket", "SocketType"}},
    {{"urllib", "ContentTooShortError"}, {"urllib.error", "ContentTooShortError"}},
    {{"urllib", "getproxies"}, {"urllib.request", "getproxies"}},
    {{"urllib", "pathname2url"}, {"urllib.request", "pathname2url"}},
    {{"urllib", "quote"}, {"urllib.parse", "quote"}},
    {{"urllib", "quote_plus"}, {"urllib.parse", "quote_plus"}},
    {{"urllib", "unquote"}, {"urllib.parse", "unquote"}},
    {{"urllib", "unquote_plus"}, {"urllib.parse", "unquote_plus"}},
    {{"urllib", "url2pathname"}, {"urllib.request", "url2pathname"}},
    {{"urllib", "urlcleanup"}, {"urllib.request", "urlcleanup"}},
    {{"urllib", "urlencode"}, {"urllib.parse", "urlencode"}},
    {{"urllib", "urlopen"}, {"urllib.request", "urlopen"}},
    {{"urllib", "urlretrieve"}, {"urllib.request", "urlretrieve"}},
    {{"urllib2", "HTTPError"}, {"urllib.error", "HTTPError"}},
    {{"urllib2", "URLError"}, {"urllib.error", "URLError"}},
    {{"whichdb", "whichdb"}, {"dbm", "whichdb"}},
};

// CPython's _compat_pickle.IMPORT_MAPPING.
const std::pair<const char*, const char*> import_mapping[] = {
    {"BaseHTTPServer", "http.server"},
    {"CGIHTTPServer", "http.server"},
    {"ConfigParser", "configparser"},
    {"Cookie", "http.cookies"},
    {"Dialog", "tkinter.dialog"},
    {"DocXMLRPCServer", "xmlrpc.server"},
    {"FileDialog", "tkinter.filedialog"},
    {"HTMLParser", "html.parser"},
    {"Queue", "queue"},
    {"ScrolledText", "tkinter.scrolledtext"},
    {"SimpleDialog", "tkinter.simpledialog"},
    {"SimpleHTTPServer", "http.server"},
    {"SimpleXMLRPCServer", "xmlrpc.server"},
    {"SocketServer", "socketserver"},
    {"StringIO", "io"},
    {"Tix", "tkinter.tix"},
    {"Tkconstants", "tkinter.constants"},
    {"Tkdnd", "tkinter.dnd"},
    {"Tkinter", "tkinter"},
    {"UserDict", "collections"},
    {"UserList", "collections"},
    {"UserString", "collections"},
    {"__builtin__", "builtins"},
    {"_abcoll", "collections.abc"},
    {"_elementtree", "xml.etree.ElementTree"},
    {"_winreg", "winreg"},
    {"anydbm", "dbm"},
    {"cPickle", "pickle"},
    {"cStringIO", "io"},
    {"commands", "subprocess"},
    {"cookielib", "http.cookiejar"},
    {"copy_reg", "copyreg"},
    {"dbhash", "dbm.bsd"},
    {"dbm", "dbm.ndbm"},
    {"dumbdbm", "dbm.dumb"},
    {"dummy_thread", "_dummy_thread"},
    {"gdbm", "dbm.gnu"},
    {"htmlentitydefs", "html.entities"},
    {"httplib", "http.client"},
    {"markupbase", "_markupbase"},
    {"repr", "reprlib"},
    {"robotparser", "urllib.robotparser"},
    {"test.test_support", "test.support"},
    {"thread", "_thread"},
    {"tkColorChooser", "tkinter.colorchooser"},
    {"tkCommonDialog", "tkinter.commondialog"},
    {"tkFileDialog", "tkinter.filedialog"},
    {"tkFont", "tkinter.font"},
    {"tkMessageBox", "tkinter.messagebox"},
    {"tkSimpleDialog", "tkinter.simpledialog"},
    {"ttk", "tkinter.ttk"},
    {"urllib2", "urllib.request"},
    {"urlparse", "urllib.parse"},
    {"whichdb", "dbm"},
    {"xmlrpclib", "xmlrpc.client"},
};

} // namespace

std::pair<std::string, std::string> map_name(std::string module, std::string name, int proto,
                                             bool fix_imports) {
  if (proto < 3 && fix_imports) {
    for (const auto& [from, to] : name_mapping)
      if (module == from.module && name == from.name) return {to.module, to.name};
    for (const auto& [from, to] : import_mapping)
      if (module == from) return {to, std::move(name)};
  }
  return {std::move(module), std::move(name)};
}

namespace {

bool np_core(std::string_view m, std::string_view sub) {
  for (std::string_view pre : {"numpy.core.", "numpy._core."})
    if (m.size() == pre.size() + sub.size() && m.substr(0, pre.size()) == pre &&
        m.substr(pre.size()) == sub)
      return true;
  return false;
}
bool is_reconstruct(std::string_view m, std::string_view n) {
  return n == "_reconstruct" &&
         (np_core(m, "multiarray") || np_core(m, "_multiarray_umath") || np_core(m, "_internal"));
}
bool is_scalar_fn(std::string_view m, std::string_view n) {
  return n == "scalar" && (np_core(m, "multiarray") || np_core(m, "_multiarray_umath"));
}
bool is_frombuffer(std::string_view m, std::string_view n) {
  return n == "_frombuffer" && np_core(m, "numeric");
}

constexpr std::string_view builtin_types[] = {"range", "int",       "float", "complex", "str",
                                              "bytes", "bytearray", "list",  "tuple",   "dict",
                                              "set",   "frozenset", "bool",  "object",  "slice"};
constexpr std::string_view builtin_callables[] = {"set",   "frozenset", "complex", "bytearray",
                                                  "bytes", "list",      "tuple",   "dict",
                                                  "int",   "float",     "bool",    "str"};

} // namespace

bool is_builtin_type_ref(std::string_view m, std::string_view n) {
  return m == "builtins" && std::find(std::begin(builtin_types), std::end(builtin_types), n) !=
                                std::end(builtin_types);
}

bool is_reconstructable(std::string_view m, std::string_view n) {
  if (is_reconstruct(m, n) || is_scalar_fn(m, n) || is_frombuffer(m, n)) return true;
  if (m == "numpy" && (n == "ndarray" || n == "dtype")) return true;
  if (m == "_codecs" && n == "encode") return true;
  if (is_builtin_type_ref(m, n)) return true;
  if (m == "copyreg" && n == "_reconstructor") return true;
  if (m == "collections" && n == "OrderedDict") return true;
  if (m == "datetime" &&
      (n == "datetime" || n == "date" || n == "time" || n == "timedelta" || n == "timezone"))
    return true;
  if (m == "decimal" && n == "Decimal") return true;
  return false;
}

namespace {

[[noreturn]] void bad(const context& cx, const std::string& msg) {
  cx.fail(errc::pickle_invalid, msg);
}

std::string qual(const value& g) {
  return g.module() + "." + g.name();
}

const std::vector<value>& tuple_items(const value& v) {
  return access::as<pyd::seq_node>(v).items;
}

value track(context& cx, value v) {
  cx.track(v);
  return v;
}

std::int64_t int_arg(const value& v, const context& cx, const char* what) {
  if ((v.is_int() && !v.is_big_int()) || v.is_bool()) return v.as<std::int64_t>();
  bad(cx, std::string(what) + " must be an int, not " + v.kind_name());
}

std::string text_arg(const value& v, const context& cx, const char* what) {
  if (v.is_str() || v.is_bytes()) return v.as<std::string>();
  bad(cx, std::string(what) + " must be a str, not " + v.kind_name());
}

// str.encode('utf-8'): a lone surrogate (kept as its 3-byte form, ED A0-BF xx)
// cannot be encoded.
std::string utf8_encode(const value& v, const context& cx) {
  std::string s = v.as<std::string>();
  for (std::size_t i = 0; i + 1 < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) == 0xed && static_cast<unsigned char>(s[i + 1]) >= 0xa0)
      bad(cx, "'utf-8' codec can't encode character in position " + std::to_string(i) +
                  ": surrogates not allowed");
  return s;
}

// Encodes UTF-8 text as latin1 bytes; false when a code point is above 255.
bool utf8_to_latin1(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
      const unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      if (cp > 0xff) return false;
      out += static_cast<char>(cp);
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

} // namespace

std::string latin1_bytes(const value& v, context& cx, const char* what, const char* failure) {
  if (v.is_bytes() || v.is_bytearray()) return v.as<std::string>();
  if (v.is_str()) {
    std::string out;
    if (!utf8_to_latin1(v.as<std::string_view>(), out)) bad(cx, failure);
    return out;
  }
  bad(cx, std::string(what) + ": expected bytes, not " + v.kind_name());
}

namespace {

// ---- dtypes -------------------------------------------------------------------------

// numpy.dtype('f8', align, copy): a dtype waiting for its BUILD state.
value make_dtype(const value& arg, context& cx) {
  if (arg.is_global() && (arg.name() == "record" || arg.name() == "void")) {
    auto* n = new pyd::dtype_node;
    n->ctor_kind = 'V';
    n->ctor_size = 0;
    n->pending = true;
    n->dt = npio::dtype::make('V', 0);
    return access::make(kind::dtype, n);
  }
  const std::string s = text_arg(arg, cx, "numpy.dtype argument");
  auto* n = new pyd::dtype_node;
  value v = access::make(kind::dtype, n);
  try {
    char k = s.empty() ? '?' : s[0];
    std::size_t size = 0;
    bool digits = s.size() > 1;
    for (std::size_t i = 1; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || size > (1u << 30)) {
        digits = false;
        break;
      }
      size = size * 10 + static_cast<std::size_t>(s[i] - '0');
    }
    if (digits && std::string_view("biufcSUVOMm").find(k) != std::string_view::npos) {
      if (k == 'U') size *= 4;
      n->ctor_kind = k;
      n->ctor_size = size;
      if (k == 'M' || k == 'm')
        n->dt = npio::dtype::datetime(k, time_unit::generic);
      else
        n->dt = npio::dtype::make(k, size);
    } else {
      n->dt = npio::dtype::parse(s);
      n->ctor_kind = n->dt.kind();
      n->ctor_size = n->dt.itemsize();
    }
  } catch (const error& e) {
    bad(cx, "numpy.dtype('" + s + "'): " + e.detail());
  }
  n->pending = true;
  return v;
}

std::optional<time_unit> unit_from(std::string_view u) {
  static const std::pair<std::string_view, time_unit> units[] = {{"generic", time_unit::generic},
                                                                 {"Y", time_unit::Y},
                                                                 {"M", time_unit::M},
                                                                 {"W", time_unit::W},
                                                                 {"D", time_unit::D},
                                                                 {"h", time_unit::h},
                                                                 {"m", time_unit::m},
                                                                 {"s", time_unit::s},
                                                                 {"ms", time_unit::ms},
                                                                 {"us", time_unit::us},
                                                                 {"ns", time_unit::ns},
                                                                 {"ps", time_unit::ps},
                                                                 {"fs", time_unit::fs},
                                                                 {"as", time_unit::as}};
  for (const auto& [s, t] : units)
    if (s == u) return t;
  return std::nullopt;
}

const npio::dtype& dtype_of(const value& v, const context& cx, const char* what) {
  if (!v.is_dtype()) bad(cx, std::string(what) + " must be a numpy.dtype, not " + v.kind_name());
  return access::as<pyd::dtype_node>(v).dt;
}

// arraydescr_setstate: states of 5 to 9 items.
void dtype_setstate(pyd::dtype_node& d, const value& state, context& cx) {
  const char* invalid = "Invalid state while unpickling. Is the pickle corrupted or created with a "
                        "newer NumPy version?";
  if (!state.is_tuple()) bad(cx, invalid);
  const auto& s = tuple_items(state);
  value endian, subarray, names, fields, metadata;
  std::int64_t version = 0, elsize = -1;
  switch (s.size()) {
  case 9:
    metadata = s[8];
    [[fallthrough]];
  case 8:
  case 7:
    version = int_arg(s[0], cx, "dtype state version");
    endian = s[1], subarray = s[2], names = s[3], fields = s[4];
    elsize = int_arg(s[5], cx, "dtype elsize");
    break;
  case 6:
    version = int_arg(s[0], cx, "dtype state version");
    endian = s[1], subarray = s[2], fields = s[3];
    elsize = int_arg(s[4], cx, "dtype elsize");
    break;
  case 5:
    endian = s[0], subarray = s[1], fields = s[2];
    elsize = int_arg(s[3], cx, "dtype elsize");
    break;
  default:
    bad(cx, invalid);
  }
  if (version < 0 || version > 4)
    bad(cx, "can't handle version " + std::to_string(version) + " of numpy.dtype pickle");
  if (version <= 1 && !fields.is_none()) {
    // Old states keep the names under the key -1 of the fields dict.
    if (!fields.is_dict()) bad(cx, "non-dict fields in Numpy dtype unpickling");
    const value* nm = fields.find(value(-1));
    if (!nm) bad(cx, "dtype state of version " + std::to_string(version) + " has no names");
    names = *nm;
  }
  const std::string e = text_arg(endian, cx, "dtype endian");
  if (e.size() != 1) bad(cx, "endian is not 1-char string in Numpy dtype unpickling");
  if (fields.is_none() != names.is_none())
    bad(cx, "inconsistent fields and names in Numpy dtype unpickling");
  byte_order order = e[0] == '>'   ? byte_order::big
                     : e[0] == '<' ? byte_order::little
                     : e[0] == '|' ? byte_order::none
                                   : native_order();
  try {
    npio::dtype result;
    if (!subarray.is_none()) {
      if (!subarray.is_tuple() || tuple_items(subarray).size() != 2)
        bad(cx, "incorrect subarray in __setstate__");
      const auto& base = dtype_of(tuple_items(subarray)[0], cx, "subarray base");
      const value& sh = tuple_items(subarray)[1];
      std::vector<std::int64_t> shape;
      if (sh.is_int()) {
        shape.push_back(int_arg(sh, cx, "subarray shape"));
      } else if (sh.is_tuple()) {
        for (const auto& x : tuple_items(sh))
          shape.push_back(int_arg(x, cx, "subarray shape"));
      } else {
        bad(cx, "incorrect subarray shape in __setstate__");
      }
      result = npio::dtype::subarray(base, shape);
    } else if (!fields.is_none()) {
      if (!names.is_tuple()) bad(cx, "non-tuple names in Numpy dtype unpickling");
      if (!fields.is_dict()) bad(cx, "non-dict fields in Numpy dtype unpickling");
      std::vector<field> fl;
      for (const auto& nmv : tuple_items(names)) {
        const value* fv = fields.find(nmv);
        if (!fv || !fv->is_tuple() || tuple_items(*fv).size() < 2)
          bad(cx, "field " + nmv.repr() + " is missing from the dtype state");
        const auto& ft = tuple_items(*fv);
        field f;
        f.name = text_arg(nmv, cx, "field name");
        f.type = dtype_of(ft[0], cx, "field type");
        const std::int64_t off = int_arg(ft[1], cx, "field offset");
        if (off < 0) bad(cx, "negative field offset");
        f.offset = static_cast<std::size_t>(off);
        if (ft.size() > 2 && !ft[2].is_none()) f.title = text_arg(ft[2], cx, "field title");
        fl.push_back(std::move(f));
      }
      std::optional<std::size_t> isz;
      if (elsize >= 0) isz = static_cast<std::size_t>(elsize);
      result = npio::dtype::structured(std::move(fl), isz);
    } else {
      char k = d.ctor_kind;
      std::size_t size = d.ctor_size;
      if ((k == 'S' || k == 'U' || k == 'V') && elsize >= 0)
        size = static_cast<std::size_t>(elsize);
      if (k == 'M' || k == 'm') {
        time_unit unit = time_unit::generic;
        std::int64_t num = 1;
        if (!metadata.is_none()) {
          if (!metadata.is_tuple() || tuple_items(metadata).size() != 2)
            bad(cx, "Invalid datetime dtype (metadata, c_metadata): " + metadata.repr());
          const value& c = tuple_items(metadata)[1];
          if (!c.is_tuple() || tuple_items(c).size() < 2)
            bad(cx, "invalid datetime metadata " + c.repr());
          const std::string us = text_arg(tuple_items(c)[0], cx, "datetime unit");
          auto u = unit_from(us);
          if (!u) bad(cx, "Invalid datetime unit in metadata string \"" + us + "\"");
          unit = *u;
          num = int_arg(tuple_items(c)[1], cx, "datetime unit multiple");
        }
        result =
            npio::dtype::datetime(k, unit, num, order == byte_order::none ? native_order() : order);
      } else {
        result = npio::dtype::make(
            k, size, order == byte_order::none ? std::nullopt : std::optional<byte_order>(order));
      }
    }
    d.dt = std::move(result);
    d.pending = false;
  } catch (const error& err) {
    if (err.code() == errc::pickle_invalid) throw;
    bad(cx, std::string("invalid dtype state: ") + err.detail());
  }
}

// ---- arrays -------------------------------------------------------------------------

std::uint64_t checked_count(const std::vector<std::int64_t>& shape, std::size_t itemsize,
                            const context& cx, std::uint64_t& nbytes) {
  std::uint64_t count = 1;
  for (auto d : shape) {
    if (d < 0) bad(cx, "impossible dimension while unpickling array");
    if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(d))
      bad(cx, "array size overflows while unpickling");
    count *= static_cast<std::uint64_t>(d);
  }
  if (itemsize && count > std::numeric_limits<std::uint64_t>::max() / itemsize)
    bad(cx, "array size overflows while unpickling");
  nbytes = count * itemsize;
  return count;
}

void store_element(npio::array& a, const npio::dtype& dt, std::byte* p, const value& v,
                   const context& cx);

void store_nested(npio::array& a, const npio::dtype& base, const std::vector<std::int64_t>& shape,
                  std::size_t dim, std::byte*& p, const value& v, const context& cx) {
  if (!v.is_list() && !v.is_tuple())
    bad(cx, "subarray value must be a sequence, not " + std::string(v.kind_name()));
  const auto& it = v.items();
  if (static_cast<std::int64_t>(it.size()) != shape[dim])
    bad(cx, "subarray value has the wrong length");
  for (const auto& x : it) {
    if (dim + 1 == shape.size()) {
      store_element(a, base, p, x, cx);
      p += base.itemsize();
    } else {
      store_nested(a, base, shape, dim + 1, p, x, cx);
    }
  }
}

// Stores a Python value into one element, as NumPy's setitem does.
void store_element(npio::array& a, const npio::dtype& dt, std::byte* p, const value& v,
                   const context& cx) {
  const bool swap = needs_swap(dt);
  const std::size_t n = dt.itemsize();
  visit_kind(dt, [&](auto tag) {
    using Tag = decltype(tag);
    if constexpr (std::is_same_v<Tag, subarray_tag>) {
      std::byte* q = p;
      store_nested(a, dt.base(), dt.shape(), 0, q, v, cx);
    } else if constexpr (std::is_same_v<Tag, structured_tag>) {
      if (!v.is_tuple() && !v.is_list())
        bad(cx, "structured element must be a tuple, not " + std::string(v.kind_name()));
      const auto& it = v.items();
      std::size_t i = 0;
      for (const auto& f : dt.fields()) {
        if (i >= it.size()) bad(cx, "structured element has too few fields");
        store_element(a, f.type, p + f.offset, it[i++], cx);
      }
      if (i != it.size()) bad(cx, "structured element has too many fields");
    } else if constexpr (std::is_same_v<Tag, object_tag>) {
      py::set_object(a, p, v);
    } else if constexpr (std::is_same_v<Tag, std::type_identity<bool>>) {
      *p = std::byte{v.as<bool>() ? std::uint8_t{1} : std::uint8_t{0}};
    } else if constexpr (std::is_same_v<Tag, bytes_tag> || std::is_same_v<Tag, void_tag>) {
      const auto s = v.as<std::string_view>();
      std::memset(p, 0, n);
      std::memcpy(p, s.data(), std::min(n, s.size()));
    } else if constexpr (std::is_same_v<Tag, str_tag>) {
      const auto s = v.as<std::string_view>();
      std::memset(p, 0, n);
      std::size_t k = 0;
      for (std::size_t i = 0; i < s.size() && k + 4 <= n;) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (std::size_t j = 1; j < len && i + j < s.size(); ++j)
          cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3fu);
        npio::store_element(p + k, static_cast<std::uint32_t>(cp), swap);
        k += 4;
        i += len;
      }
    } else if constexpr (std::is_same_v<Tag, datetime_tag> || std::is_same_v<Tag, timedelta_tag>) {
      const std::int64_t x =
          v.is_none() ? std::numeric_limits<std::int64_t>::min() : v.as<std::int64_t>();
      npio::store_element(p, x, swap);
    } else {
      using T = typename Tag::type;
      if constexpr (std::is_integral_v<T>) {
        if (!v.is_int() && !v.is_bool())
          bad(cx, std::string("an int is needed, not ") + v.kind_name());
        // Python's int to n bytes: sign-extended or cut, then in the dtype's order
        auto bytes = v.int_bytes();
        std::vector<std::uint8_t> full(n, (!bytes.empty() && (bytes.back() & 0x80)) ? 0xff : 0);
        std::copy_n(bytes.begin(), std::min(bytes.size(), n), full.begin());
        if (swap == (std::endian::native == std::endian::little)) {
          // target is big-endian
          std::reverse(full.begin(), full.end());
        }
        std::memcpy(p, full.data(), n);
      } else if constexpr (requires { typename T::value_type; }) { // complex
        using F = typename T::value_type;
        const auto c = v.as<std::complex<double>>();
        npio::store_element(p, T(static_cast<F>(c.real()), static_cast<F>(c.imag())), swap);
      } else if constexpr (std::is_same_v<T, float16>) {
        npio::store_element(p, float16(static_cast<float>(v.as<double>())), swap);
      } else {
        npio::store_element(p, static_cast<T>(v.as<double>()), swap);
      }
    }
  });
}

// array_setstate: (version, shape, dtype, is_fortran, rawdata) or without version.
void array_setstate(pyd::array_node& an, const value& state, context& cx) {
  if (!state.is_tuple())
    bad(cx, "ndarray state must be a tuple, not " + std::string(state.kind_name()));
  const auto& s = tuple_items(state);
  std::size_t o = 0;
  if (s.size() == 5) {
    const std::int64_t version = int_arg(s[0], cx, "ndarray state version");
    if (version != 0 && version != 1)
      bad(cx, "can't handle version " + std::to_string(version) + " of numpy.ndarray pickle");
    o = 1;
  } else if (s.size() != 4) {
    bad(cx, "ndarray state must have 4 or 5 items, not " + std::to_string(s.size()));
  }
  const value& shape_v = s[o];
  const npio::dtype& dt = dtype_of(s[o + 1], cx, "ndarray state dtype");
  const bool fortran = s[o + 2].as<bool>();
  const value& raw = s[o + 3];
  if (!shape_v.is_tuple()) bad(cx, "ndarray shape must be a tuple");
  std::vector<std::int64_t> shape;
  for (const auto& d : tuple_items(shape_v))
    shape.push_back(int_arg(d, cx, "ndarray dimension"));
  if (shape.size() > max_ndim) bad(cx, "ndarray state has more than 64 dimensions");
  std::uint64_t nbytes = 0;
  const std::uint64_t count = checked_count(shape, dt.itemsize(), cx, nbytes);
  if (dt.has_object()) {
    if (!raw.is_list()) bad(cx, "object pickle not returning list");
    const auto& items = access::as<pyd::seq_node>(raw).items;
    if (items.size() != count) bad(cx, "buffer size does not match array size");
    cx.charge(nbytes);
    if (dt.is_object() && !dt.is_subarray()) {
      std::vector<value> copy;
      if (cx.may_steal && cx.stolen) {
        // No other reference can reach the list's items: move them (see context).
        auto& src = access::as<pyd::seq_node>(raw).items;
        copy = std::move(src);
        src.clear();
        an.a = py::make_object_array(shape, std::move(copy));
        cx.stolen->emplace_back(access::ptr(raw), an.a.base()->objects());
      } else {
        copy.reserve(items.size());
        for (const auto& x : items)
          copy.push_back(access::local_copy(x)); // nodes of this load only
        an.a = py::make_object_array(shape, std::move(copy));
      }
    } else {
      npio::array a(dt, shape);
      std::byte* d = a.mutable_data();
      for (std::size_t i = 0; i < items.size(); ++i)
        store_element(a, dt, d + i * dt.itemsize(), items[i], cx);
      an.a = std::move(a);
    }
  } else {
    if (!raw.is_bytes() && !raw.is_str() && !raw.is_bytearray())
      bad(cx, "pickle not returning string");
    std::string_view bytes;
    std::string conv;
    if (raw.is_str()) {
      conv = latin1_bytes(raw, cx, "ndarray data",
                          "Failed to encode latin1 string when unpickling a Numpy array. "
                          "pickle.load(a, encoding='latin1') is assumed.");
      bytes = conv;
    } else {
      bytes = raw.as<std::string_view>();
    }
    if (bytes.size() != nbytes) bad(cx, "buffer size does not match array size");
    cx.charge(nbytes);
    npio::array a(dt, shape, fortran ? order::f : order::c);
    if (nbytes) std::memcpy(a.mutable_data(), bytes.data(), bytes.size());
    // NumPy's array_setstate swaps the data to native byte order when the
    // dtype's own byteorder is not native; a structured dtype's is '|', so
    // its fields keep the byte orders they were written with.
    const bool swapped = !dt.is_structured() && !dt.is_subarray() && !dt.is_native();
    an.a = swapped ? a.to_native() : std::move(a);
  }
  an.pending = false;
}

value pending_array() {
  auto* n = new pyd::array_node;
  n->pending = true;
  n->a = npio::array(npio::dtype::make('i', 1), shape_t{0});
  return access::make(kind::ndarray, n);
}

// _frombuffer(buf, dtype, shape, order): protocol 5 arrays.
value frombuffer(const std::vector<value>& args, context& cx) {
  if (args.size() != 4) {
    if (args.size() == 5)
      cx.fail(errc::pickle_unsupported,
              "_frombuffer with axis_order (NumPy >= 2.3 'K' order) is not supported");
    bad(cx, "_frombuffer takes 4 arguments");
  }
  const auto& buf = args[0];
  if (!buf.is_bytes() && !buf.is_bytearray())
    bad(cx, "_frombuffer needs a bytes-like buffer, not " + std::string(buf.kind_name()));
  const auto& dt = dtype_of(args[1], cx, "_frombuffer dtype");
  if (dt.has_object()) bad(cx, "_frombuffer cannot build object arrays");
  if (!args[2].is_tuple()) bad(cx, "_frombuffer shape must be a tuple");
  std::vector<std::int64_t> shape;
  for (const auto& d : tuple_items(args[2]))
    shape.push_back(int_arg(d, cx, "_frombuffer dimension"));
  const std::string ord = text_arg(args[3], cx, "_frombuffer order");
  if (ord != "C" && ord != "F")
    cx.fail(errc::pickle_unsupported, "_frombuffer order '" + ord + "' is not supported");
  std::uint64_t nbytes = 0;
  checked_count(shape, dt.itemsize(), cx, nbytes);
  const auto data = buf.as<std::string_view>();
  if (data.size() != nbytes)
    bad(cx, "buffer size must be a multiple of element size and match the shape");
  cx.charge(nbytes);
  npio::array a(dt, shape, ord == "F" ? order::f : order::c);
  if (nbytes) std::memcpy(a.mutable_data(), data.data(), data.size());
  return track(cx, value(std::move(a)));
}

// ---- datetime -----------------------------------------------------------------------

std::string state_bytes(const value& v, context& cx, const char* cls) {
  const std::string failure = std::string("Failed to encode latin1 string when unpickling a ") +
                              cls + " object. pickle.load(data, encoding='latin1') is assumed.";
  return latin1_bytes(v, cx, cls, failure.c_str());
}

value make_datetime(const std::string& cls, const std::vector<value>& a, context& cx) {
  auto u = [](const std::string& s, std::size_t i) {
    return static_cast<int>(static_cast<unsigned char>(s[i]));
  };
  auto tz = [&](std::size_t i) {
    if (a.size() <= i) return value();
    // None or a tzinfo (datetime.timezone, or an inert tzinfo class)
    if (!a[i].is_none() && !a[i].is_object())
      bad(cx, std::string("tzinfo argument must be None or of a tzinfo subclass, not type '") +
                  a[i].kind_name() + "'");
    return a[i];
  };
  // a C int field: CPython refuses what does not fit instead of wrapping
  auto field = [&](const value& v, const char* what) {
    const std::int64_t x = int_arg(v, cx, what);
    if (x > 2147483647) bad(cx, std::string(what) + ": signed integer is greater than maximum");
    if (x < -2147483648LL) bad(cx, std::string(what) + ": signed integer is less than minimum");
    return static_cast<int>(x);
  };
  try {
    if (cls == "timedelta") {
      // timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks)
      if (a.size() > 7) bad(cx, "timedelta takes at most 7 arguments");
      static constexpr const char* names[] = {"days",    "seconds", "microseconds", "milliseconds",
                                              "minutes", "hours",   "weeks"};
      static constexpr std::int64_t us_per[] = {86400000000LL, 1000000LL,    1LL,           1000LL,
                                                60000000LL,    3600000000LL, 604800000000LL};
      __extension__ typedef __int128 i128;
      i128 total = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!((a[i].is_int() && !a[i].is_big_int()) || a[i].is_bool()))
          bad(cx,
              std::string("timedelta ") + names[i] + " must be an int, not " + a[i].kind_name());
        total += static_cast<i128>(a[i].as<std::int64_t>()) * us_per[i];
      }
      // |days| <= 999999999 in Python
      constexpr i128 max_us = static_cast<i128>(1000000000LL) * 86400000000LL;
      if (total >= max_us || total < -max_us)
        bad(cx, "datetime.timedelta: days must have magnitude <= 999999999");
      const auto t = static_cast<std::int64_t>(total / 86400000000LL);
      const auto r = static_cast<std::int64_t>(total % 86400000000LL);
      return value::timedelta(t, 0, r);
    }
    if (cls == "timezone") {
      return track(cx, value::object("datetime.timezone",
                                     value::tuple(std::vector<value>(a.begin(), a.end()))));
    }
    const bool state = !a.empty() && (a[0].is_bytes() || a[0].is_str());
    if (cls == "datetime") {
      if (state) {
        const std::string s = state_bytes(a[0], cx, "datetime");
        if (s.size() != 10) bad(cx, "datetime state must be 10 bytes");
        py::datetime_t d{u(s, 0) * 256 + u(s, 1),
                         u(s, 2) & 0x7f,
                         u(s, 3),
                         u(s, 4),
                         u(s, 5),
                         u(s, 6),
                         (u(s, 7) << 16) | (u(s, 8) << 8) | u(s, 9),
                         (u(s, 2) & 0x80) != 0};
        return track(cx, value::datetime(d, tz(1)));
      }
      if (a.size() < 3) bad(cx, "datetime needs year, month and day");
      if (a.size() > 8) bad(cx, "datetime takes at most 8 arguments");
      py::datetime_t d;
      d.year = field(a[0], "year");
      d.month = field(a[1], "month");
      d.day = field(a[2], "day");
      if (a.size() > 3) d.hour = field(a[3], "hour");
      if (a.size() > 4) d.minute = field(a[4], "minute");
      if (a.size() > 5) d.second = field(a[5], "second");
      if (a.size() > 6) d.microsecond = field(a[6], "microsecond");
      return track(cx, value::datetime(d, tz(7)));
    }
    if (cls == "date") {
      if (state) {
        const std::string s = state_bytes(a[0], cx, "date");
        if (s.size() != 4) bad(cx, "date state must be 4 bytes");
        return value::date(u(s, 0) * 256 + u(s, 1), u(s, 2), u(s, 3));
      }
      if (a.size() != 3) bad(cx, "date needs year, month and day");
      return value::date(field(a[0], "year"), field(a[1], "month"), field(a[2], "day"));
    }
    if (cls == "time") {
      if (state) {
        const std::string s = state_bytes(a[0], cx, "time");
        if (s.size() != 6) bad(cx, "time state must be 6 bytes");
        return track(cx, value::time(u(s, 0) & 0x7f, u(s, 1), u(s, 2),
                                     (u(s, 3) << 16) | (u(s, 4) << 8) | u(s, 5),
                                     (u(s, 0) & 0x80) != 0, tz(1)));
      }
      if (a.size() > 5) bad(cx, "time takes at most 5 arguments");
      int f[4] = {0, 0, 0, 0};
      for (std::size_t i = 0; i < 4 && i < a.size(); ++i)
        f[i] = field(a[i], "time field");
      return track(cx, value::time(f[0], f[1], f[2], f[3], false, tz(4)));
    }
  } catch (const error& e) {
    if (e.code() == errc::pickle_invalid) throw;
    bad(cx, "datetime." + cls + ": " + e.detail());
  }
  bad(cx, "datetime." + cls + " is not reconstructed");
}

value from_iterable(kind k, const std::vector<value>& a, context& cx, const char* what) {
  value out = access::make(k == kind::dict ? kind::dict : k,
                           k == kind::dict ? static_cast<pyd::node*>(new pyd::dict_node)
                                           : static_cast<pyd::node*>(new pyd::seq_node));
  cx.track(out);
  if (a.empty()) return out;
  if (a.size() > 1)
    bad(cx, std::string(what) + " expected at most 1 argument, got " + std::to_string(a.size()));
  const value& src = a[0];
  try {
    if (k == kind::dict) {
      auto& d = access::as<pyd::dict_node>(out);
      if (src.is_dict()) {
        for (const auto& [kk, vv] : src.dict_items())
          pyd::dict_set(d, kk, vv);
      } else if (src.is_list() || src.is_tuple()) {
        for (const auto& pr : src.items()) {
          if ((!pr.is_list() && !pr.is_tuple()) || pr.size() != 2)
            bad(cx, "dictionary update sequence element has the wrong length");
          pyd::dict_set(d, pr.items()[0], pr.items()[1]);
        }
      } else {
        bad(cx, std::string("'") + src.kind_name() + "' object is not iterable");
      }
      return out;
    }
    std::vector<value> items;
    if (src.is_sequence())
      items = src.items();
    else if (src.is_dict())
      for (const auto& kv : src.dict_items())
        items.push_back(kv.first);
    else if (src.is_str() || src.is_bytes() || src.is_bytearray()) {
      bad(cx, std::string(what) + " of a string is not reconstructed");
    } else {
      bad(cx, std::string("'") + src.kind_name() + "' object is not iterable");
    }
    if (k == kind::set || k == kind::frozenset) {
      auto& s = access::as<pyd::seq_node>(out);
      for (auto& x : items)
        pyd::set_add(s, std::move(x));
    } else {
      access::as<pyd::seq_node>(out).items = std::move(items);
    }
  } catch (const error& e) {
    if (e.code() == errc::pickle_invalid) throw;
    bad(cx, e.detail());
  }
  return out;
}

value call_builtin(const std::string& n, const std::vector<value>& a, context& cx) {
  if (n == "set") return from_iterable(kind::set, a, cx, "set");
  if (n == "frozenset") {
    value v = from_iterable(kind::set, a, cx, "frozenset");
    access::set_kind(v, kind::frozenset);
    return v;
  }
  if (n == "list") return from_iterable(kind::list, a, cx, "list");
  if (n == "tuple") return from_iterable(kind::tuple, a, cx, "tuple");
  if (n == "dict") return from_iterable(kind::dict, a, cx, "dict");
  if (n == "complex") {
    // CPython's complex_new: complex(r, i) is (r.real - i.imag, i.real + r.imag),
    // where an imaginary part that is not there is not added (so -0.0 survives)
    double re = 0, im = 0;
    if (a.size() > 2) bad(cx, "complex() takes at most 2 arguments");
    try {
      std::complex<double> r{0.0, 0.0}, i{0.0, 0.0};
      bool r_complex = false, i_complex = false;
      if (!a.empty()) {
        if (!a[0].is_number())
          bad(cx, "complex() argument must be a number, not " + std::string(a[0].kind_name()));
        r = a[0].as<std::complex<double>>();
        r_complex = a[0].is_complex();
      }
      if (a.size() > 1) {
        if (!a[1].is_number())
          bad(cx, "complex() argument must be a number, not " + std::string(a[1].kind_name()));
        i = a[1].as<std::complex<double>>();
        i_complex = a[1].is_complex();
      }
      re = r.real();
      im = a.size() > 1 ? i.real() : r.imag();
      if (i_complex) re -= i.imag();
      if (r_complex && a.size() > 1) im += r.imag();
    } catch (const error& e) {
      if (e.code() == errc::pickle_invalid) throw;
      bad(cx, e.detail());
    }
    return value(std::complex<double>(re, im));
  }
  if (n == "bytearray" || n == "bytes") {
    std::string data;
    if (a.size() == 1 && (a[0].is_bytes() || a[0].is_bytearray())) {
      data = a[0].as<std::string>();
    } else if (a.size() == 2 && a[0].is_str()) {
      const std::string enc = text_arg(a[1], cx, "encoding");
      if (enc != "latin-1" && enc != "latin1" && enc != "iso-8859-1" && enc != "utf-8" &&
          enc != "utf8")
        cx.fail(errc::pickle_unsupported, n + "() with encoding '" + enc + "' is not supported");
      if (enc.rfind("utf", 0) == 0)
        data = utf8_encode(a[0], cx);
      else
        data = latin1_bytes(a[0], cx, n.c_str(), "'latin-1' codec can't encode a character");
    } else if (a.size() == 1 && a[0].is_list()) {
      for (const auto& x : a[0].items()) {
        const auto b = int_arg(x, cx, "byte");
        if (b < 0 || b > 255) bad(cx, "bytes must be in range(0, 256)");
        data += static_cast<char>(b);
      }
    } else if (!a.empty()) {
      bad(cx, n + "() arguments are not reconstructed");
    }
    cx.charge(data.size());
    return n == "bytes" ? value::bytes(data) : value::bytearray(data);
  }
  if (n == "int" || n == "float" || n == "bool" || n == "str") {
    if (a.empty()) {
      if (n == "int") return value(0);
      if (n == "float") return value(0.0);
      if (n == "bool") return value(false);
      return value("");
    }
    const value& x = a[0];
    if (a.size() > (n == "int" ? 2u : 1u))
      bad(cx, n + "() takes at most " + (n == "int" ? "2" : "1") + " arguments");
    if (n == "int" && a.size() == 2) {
      if (!x.is_str() && !x.is_bytes() && !x.is_bytearray())
        bad(cx, "int() can't convert non-string with explicit base");
      const std::int64_t base = int_arg(a[1], cx, "int() base");
      if (base != 0 && (base < 2 || base > 36)) bad(cx, "int() base must be >= 2 and <= 36, or 0");
      const auto r = parse_int_text(x.as<std::string_view>(), static_cast<int>(base),
                                    cx.opt.limits.max_int_digits);
      if (r.limit) cx.fail(errc::limit_exceeded, r.error);
      if (!r.ok)
        bad(cx, "invalid literal for int() with base " + std::to_string(base) + ": " + x.repr());
      return r.result;
    }
    if (n == "int" && (x.is_int() || x.is_bool()))
      return x.is_bool() ? value(x.as<std::int64_t>()) : x;
    if (n == "int" && (x.is_str() || x.is_bytes() || x.is_bytearray())) {
      const auto r = parse_int_text(x.as<std::string_view>(), 10, cx.opt.limits.max_int_digits);
      if (r.limit) cx.fail(errc::limit_exceeded, r.error);
      if (!r.ok) bad(cx, "invalid literal for int() with base 10: " + x.repr());
      return r.result;
    }
    if (n == "float" && (x.is_float() || x.is_int() || x.is_bool())) return value(x.as<double>());
    if (n == "bool" && (x.is_bool())) return x;
    if (n == "str" && x.is_str()) return x;
    bad(cx, n + "() of a " + x.kind_name() + " is not reconstructed");
  }
  bad(cx, "builtins." + n + " is not callable here");
}

value inert(const value& callable, value args, context& cx) {
  if (!cx.opt.allow_unknown_classes)
    cx.fail(errc::pickle_global,
            "global '" + qual(callable) +
                "' is not on the allowlist (allow unknown classes to keep it as "
                "an inert object)");
  return track(cx, value::object(qual(callable), std::move(args)));
}

} // namespace

value call(const value& callable, value args, value kwargs, context& cx, bool newobj) {
  const std::string& m = callable.module();
  const std::string& n = callable.name();
  const auto& a = tuple_items(args);
  const bool no_kwargs = kwargs.is_none() || kwargs.size() == 0;
  if (!no_kwargs && !(classify(m, n) == safety::unknown))
    bad(cx, qual(callable) + " called with keyword arguments is not reconstructed");
  if (is_reconstruct(m, n)) {
    if (a.size() != 3) bad(cx, "_reconstruct takes 3 arguments");
    if (!a[0].is_global()) bad(cx, "_reconstruct needs a class");
    if (!(a[0].module() == "numpy" && a[0].name() == "ndarray")) {
      // ndarray subclasses (recarray, matrix, MaskedArray, ...) are not rebuilt.
      value o = inert(a[0], args, cx);
      return o;
    }
    return track(cx, pending_array());
  }
  if (m == "numpy" && n == "ndarray") {
    if (newobj && a.size() >= 1 && a[0].is_global()) return track(cx, pending_array());
    return track(cx, pending_array());
  }
  if (m == "numpy" && n == "dtype") {
    if (a.empty()) bad(cx, "numpy.dtype needs an argument");
    return make_dtype(a[0], cx);
  }
  if (is_scalar_fn(m, n)) {
    if (a.empty() || a.size() > 2) bad(cx, "scalar takes 1 or 2 arguments");
    const auto& dt = dtype_of(a[0], cx, "scalar dtype");
    if (dt.is_object()) return a.size() > 1 ? a[1] : value();
    if (a.size() < 2) bad(cx, "scalar of " + dt.str() + " needs its bytes");
    if (a[1].is_ndarray()) return py::item(a[1].array());
    const std::string raw = latin1_bytes(a[1], cx, "scalar",
                                         "Failed to encode latin1 string when unpickling a Numpy "
                                         "scalar. pickle.load(a, encoding='latin1') is assumed.");
    if (raw.size() != dt.itemsize()) bad(cx, "initialization string is too small");
    return value::scalar(dt, raw);
  }
  if (is_frombuffer(m, n)) return frombuffer(a, cx);
  if (m == "_codecs" && n == "encode") {
    if (a.empty() || a.size() > 3 || !a[0].is_str()) bad(cx, "_codecs.encode needs a str");
    const std::string enc = a.size() > 1 ? text_arg(a[1], cx, "encoding") : "utf-8";
    std::string out;
    if (enc == "latin1" || enc == "latin-1" || enc == "iso-8859-1" || enc == "l1") {
      out = latin1_bytes(a[0], cx, "_codecs.encode", "'latin-1' codec can't encode a character");
    } else if (enc == "utf-8" || enc == "utf8" || enc == "ascii") {
      out = utf8_encode(a[0], cx);
      if (enc == "ascii")
        for (unsigned char c : out)
          if (c >= 0x80) bad(cx, "'ascii' codec can't encode a character");
    } else {
      cx.fail(errc::pickle_unsupported,
              "_codecs.encode with encoding '" + enc + "' is not supported");
    }
    cx.charge(out.size());
    return value::bytes(out);
  }
  if (m == "builtins") {
    // cls.__new__(cls, *args): the mutable built-ins fill themselves in
    // __init__, which NEWOBJ does not call
    if (newobj && (n == "list" || n == "set" || n == "dict" || n == "bytearray")) {
      if (n == "bytearray") return value::bytearray("");
      return from_iterable(n == "list"  ? kind::list
                           : n == "set" ? kind::set
                                        : kind::dict,
                           {}, cx, n.c_str());
    }
    if (std::find(std::begin(builtin_callables), std::end(builtin_callables), n) !=
        std::end(builtin_callables))
      return call_builtin(n, a, cx);
    bad(cx, "builtins." + n + " is not reconstructed when called");
  }
  if (m == "copyreg" && n == "_reconstructor") {
    // _reconstructor(cls, base, state): base.__new__(cls, state) for built-ins.
    if (a.size() != 3 || !a[0].is_global() || !a[1].is_global())
      bad(cx, "copyreg._reconstructor takes (cls, base, state)");
    const value& cls = a[0];
    const value& base = a[1];
    const bool base_object = base.module() == "builtins" && base.name() == "object";
    std::vector<value> bargs;
    if (!a[2].is_none()) bargs.push_back(a[2]);
    const bool cls_builtin = is_builtin_type_ref(cls.module(), cls.name()) ||
                             (cls.module() == "collections" && cls.name() == "OrderedDict");
    if (cls_builtin && base_object)
      bad(cx, "object.__new__(" + cls.name() + ") is not safe, use " + cls.name() + ".__new__()");
    if (cls.module() == "builtins" && base.module() == "builtins" && base.name() == cls.name())
      return call_builtin(cls.name(), bargs, cx);
    if (cls.module() == "collections" && cls.name() == "OrderedDict") {
      if (!(base.module() == "builtins" && base.name() == "dict") &&
          !(base.module() == "collections" && base.name() == "OrderedDict"))
        bad(cx, "copyreg._reconstructor: OrderedDict is not a subtype of " + qual(base));
      value d = from_iterable(kind::dict, bargs, cx, "OrderedDict");
      cx.ordered_dicts.insert(access::ptr(d));
      return d;
    }
    return inert(cls, args, cx);
  }
  if (m == "collections" && n == "OrderedDict") {
    value d = from_iterable(kind::dict, a, cx, "OrderedDict");
    cx.ordered_dicts.insert(access::ptr(d));
    return d;
  }
  if (m == "datetime") return make_datetime(n, a, cx);
  if (m == "decimal" && n == "Decimal") {
    if (a.size() != 1 || !a[0].is_str()) bad(cx, "decimal.Decimal needs its text");
    const auto text = a[0].as<std::string_view>();
    if (!valid_decimal_text(text))
      bad(cx, "[<class 'decimal.ConversionSyntax'>]: invalid Decimal text " + a[0].repr());
    // as Decimal keeps it: no surrounding space, no underscores
    std::size_t b = 0, e = text.size();
    auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (b < e && space(text[b]))
      ++b;
    while (e > b && space(text[e - 1]))
      --e;
    std::string t;
    for (char c : text.substr(b, e - b))
      if (c != '_') t += c;
    return value::decimal(t);
  }
  value o = inert(callable, std::move(args), cx);
  if (!no_kwargs) access::as<pyd::object_node>(o).dict_items = kwargs;
  return o;
}

void build(value& inst, value state, context& cx) {
  if (inst.is_ndarray()) {
    auto& an = access::as<pyd::array_node>(inst);
    if (!an.pending && state.is_none()) return;
    array_setstate(an, state, cx);
    return;
  }
  if (inst.is_dtype()) {
    dtype_setstate(access::as<pyd::dtype_node>(inst), state, cx);
    return;
  }
  if (inst.is_object()) {
    auto& o = access::as<pyd::object_node>(inst);
    o.state = std::move(state);
    return;
  }
  if (state.is_none()) return;
  // OrderedDict takes a dict of instance attributes: kept out of the value, as
  // they are not items. A plain dict has no __dict__: CPython refuses.
  if (inst.is_dict() && state.is_dict() && cx.ordered_dicts.count(access::ptr(inst))) return;
  if (inst.is_dict() && state.is_dict()) bad(cx, "'dict' object has no attribute '__dict__'");
  bad(cx, std::string("cannot BUILD a '") + inst.kind_name() + "' with state " +
              std::string(state.kind_name()));
}

} // namespace detail
} // namespace pickle

// ---- the hooks np.load calls -----------------------------------------------------------

namespace detail {

namespace {

// Re-raises a pickle error with its offset made relative to the file.
[[noreturn]] void rethrow(const error& e, std::uint64_t base) {
  std::string detail = e.detail();
  if (e.code() == errc::pickle_encoding)
    detail = "Unpickling a python object failed: " + detail +
             "\nYou may need to pass the encoding= option to numpy.load";
  std::optional<std::uint64_t> off = e.offset();
  if (off) *off += base;
  throw error(e.code(), detail, e.file(), e.member(), off);
}

} // namespace

loaded read_object_npy(std::span<const std::byte> payload, const header& h,
                       const load_options& options) {
  if (!options.allow_pickle)
    throw error(errc::pickle_disallowed, "Object arrays cannot be loaded when allow_pickle=False");
  py::value v;
  std::uint64_t elements = 1;
  for (const auto d : h.shape)
    elements = d > 0 && elements <= (std::uint64_t(1) << 40) / static_cast<std::uint64_t>(d)
                   ? elements * static_cast<std::uint64_t>(d)
                   : 0;
  try {
    v = pickle::detail::loads_object_array(payload, options.pickle, elements);
  } catch (const error& e) {
    rethrow(e, h.data_offset);
  }
  // NumPy returns whatever the pickle holds (the header's shape is not used).
  if (v.is_ndarray()) return loaded(v.array());
  return loaded(std::make_shared<py::value>(std::move(v)));
}

loaded read_raw_pickle(std::span<const std::byte> bytes, const load_options& options) {
  if (!options.allow_pickle)
    throw error(errc::pickle_disallowed,
                "This file contains pickled (object) data. If you trust the file you can load it "
                "unsafely using the `allow_pickle=` keyword argument or `pickle.load()`.");
  try {
    return loaded(std::make_shared<py::value>(pickle::loads(bytes, options.pickle)));
  } catch (const error& e) {
    rethrow(e, 0);
  }
}

} // namespace detail
} // namespace v1
} // namespace npio
