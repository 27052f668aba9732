// Classification of the globals a pickle references: safe (npio reconstructs
// it), dangerous (a code-execution, file, process or network primitive), or
// unknown. Used by the decoder (dangerous names are always refused) and by the
// scanner. The denylist merges npio's own with picklescan's `_unsafe_globals`
// and fickling's `UNSAFE_IMPORTS`; docs/security.md gives the rule and sources.
#include "pickle_internal.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace npio {
inline namespace v1 {
namespace pickle {

namespace {

// Modules whose every global (and every submodule's) is dangerous to touch:
// importing them or calling anything in them can run code, read or write
// files, start processes, open connections, or change the interpreter.
constexpr std::string_view dangerous_modules[] = {
    // processes, the OS, the interpreter
    "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "_posixsubprocess", "commands",
    "popen2", "pty", "tty", "termios", "pexpect", "sys", "_sys", "atexit", "signal", "_signal",
    "resource", "fcntl", "pwd", "grp", "spwd", "crypt", "platform", "sysconfig", "_sysconfig",
    "site", "gc", "inspect", "ctypes", "_ctypes", "cffi", "mmap", "_winapi", "msvcrt", "winreg",
    "_winreg", "_osx_support", "_aix_support", "_posixshmem", "_multiprocessing", "multiprocessing",
    "concurrent", "threading", "_thread", "thread", "_dummy_thread",
    // code execution, imports, (de)serializers that run code
    "builtins.__import__", "__builtins__", "runpy", "code", "codeop", "compileall", "py_compile",
    "dis", "ast", "importlib", "_imp", "imp", "_frozen_importlib", "_frozen_importlib_external",
    "zipimport", "pkgutil", "pickle", "_pickle", "cPickle", "pickletools", "marshal", "shelve",
    "dill", "cloudpickle", "joblib", "jsonpickle", "types", "operator", "_operator", "functools",
    "_functools", "timeit", "cProfile", "profile", "_lsprof", "trace", "pdb", "bdb", "doctest",
    "unittest", "test", "idlelib", "lib2to3", "pydoc", "pydoc_data", "rlcompleter", "readline",
    "_pyrepl", "tkinter", "Tkinter", "turtle", "turtledemo",
    // files and archives
    "io", "_io", "codecs", "pathlib", "shutil", "tempfile", "glob", "fileinput", "linecache",
    "filecmp", "netrc", "mailbox", "mailcap", "tarfile", "zipfile", "zipapp", "gzip", "bz2", "lzma",
    "sqlite3", "_sqlite3", "dbm", "anydbm", "logging", "uuid", "cgi", "cgitb", "wsgiref",
    // network
    "socket", "_socket", "ssl", "_ssl", "select", "selectors", "socketserver", "SocketServer",
    "asyncio", "asyncore", "asynchat", "http", "httplib", "urllib", "urllib2", "urllib3", "ftplib",
    "smtplib", "smtpd", "poplib", "imaplib", "nntplib", "telnetlib", "xmlrpc", "xmlrpclib",
    "webbrowser", "requests", "aiohttp", "httpx",
    // installers, environments
    "distutils", "setuptools", "pip", "ensurepip", "venv",
    // libraries whose pickled globals load files or run code
    "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib", "numpy.lib.npyio",
    "numpy.lib._npyio_impl", "numpy.lib.format", "numpy.lib.utils", "torch", "tensorflow", "keras",
    "pandas.io"};

// Names in builtins (`__builtin__` in Python 2) that run code, reach objects
// they should not, or touch files and the terminal.
constexpr std::string_view dangerous_builtins[] = {
    "eval",         "exec",       "compile",   "getattr",      "setattr",    "delattr",
    "__import__",   "open",       "globals",   "locals",       "vars",       "input",
    "raw_input",    "breakpoint", "exit",      "quit",         "help",       "execfile",
    "file",         "reload",     "apply",     "__builtins__", "memoryview", "classmethod",
    "staticmethod", "property",   "super",     "type",         "dir",        "print",
    "id",           "hash",       "iter",      "next",         "map",        "filter",
    "zip",          "sorted",     "reversed",  "enumerate",    "callable",   "__build_class__",
    "__loader__",   "__spec__",   "copyright", "credits",      "license",    "intern",
    "isinstance",   "issubclass", "hasattr"};

// numpy's own helpers that evaluate strings or touch files.
constexpr std::string_view dangerous_numpy_names[] = {"runstring",  "load",
                                                      "loads",      "fromfile",
                                                      "loadtxt",    "genfromtxt",
                                                      "memmap",     "open_memmap",
                                                      "safe_eval",  "_get_ndarray_c_version",
                                                      "tofile",     "save",
                                                      "savez",      "savez_compressed",
                                                      "savetxt",    "fromregex",
                                                      "DataSource", "lookfor",
                                                      "info",       "source"};

// copyreg's registries: what EXT opcodes and later pickles resolve to.
constexpr std::string_view dangerous_copyreg_names[] = {
    "add_extension",   "remove_extension", "clear_extension_cache", "pickle",
    "constructor",     "dispatch_table",   "_extension_registry",   "_inverted_registry",
    "_extension_cache"};

bool under(std::string_view module, std::string_view root) {
  return module == root || (module.size() > root.size() && module.substr(0, root.size()) == root &&
                            module[root.size()] == '.');
}

bool dunder(std::string_view s) {
  return s.size() > 4 && s.substr(0, 2) == "__" && s.substr(s.size() - 2) == "__";
}

template <std::size_t N> bool in(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// The classification of a plain (undotted) name.
safety classify_one(std::string_view module, std::string_view name) {
  if (module == "builtins" || module == "__builtin__") {
    if (in(dangerous_builtins, name)) return safety::dangerous;
  }
  if (under(module, "numpy") && in(dangerous_numpy_names, name)) return safety::dangerous;
  if ((module == "copyreg" || module == "copy_reg") && in(dangerous_copyreg_names, name))
    return safety::dangerous;
  for (auto m : dangerous_modules)
    if (under(module, m)) return safety::dangerous;
  return safety::unknown;
}

} // namespace

const char* safety_name(safety s) noexcept {
  switch (s) {
  case safety::safe:
    return "safe";
  case safety::dangerous:
    return "dangerous";
  default:
    return "unknown";
  }
}

safety classify(std::string_view module, std::string_view name) {
  // `__builtins__` is the builtins module (or its dict) wherever it is reached.
  for (std::string_view s : {module, name}) {
    std::size_t i = 0;
    while (i <= s.size()) {
      const std::size_t dot = std::min(s.find('.', i), s.size());
      if (s.substr(i, dot - i) == "__builtins__") return safety::dangerous;
      i = dot + 1;
    }
  }
  // A dotted name (protocol 4 resolves it with getattr, component by
  // component) is what its first component is, and any dunder attribute after
  // it (__call__, __globals__, __subclasses__...) reaches further.
  const std::size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    if (classify_one(module, name.substr(0, dot)) == safety::dangerous) return safety::dangerous;
    for (std::size_t i = dot + 1; i <= name.size();) {
      const std::size_t next = std::min(name.find('.', i), name.size());
      if (dunder(name.substr(i, next - i))) return safety::dangerous;
      i = next + 1;
    }
  }
  if (classify_one(module, name) == safety::dangerous) return safety::dangerous;
  if (detail::is_reconstructable(module == "__builtin__" ? "builtins" : module, name))
    return safety::safe; // __builtin__ is what fix_imports maps to builtins
  // fickling's unsafe_imports(): any other import from builtins, and a name
  // `eval` from any module (exec too, its twin).
  if (module == "builtins" || module == "__builtin__") return safety::dangerous;
  const std::string_view last =
      name.substr(dot == std::string_view::npos ? 0 : name.rfind('.') + 1);
  if (last == "eval" || last == "exec") return safety::dangerous;
  return safety::unknown;
}

namespace detail {

namespace {

bool ident_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

// A dotted identifier of 1..200 bytes ending just before `stop` (or at the end of
// [p, p+n) when stop < 0); its length, or 0.
std::size_t ident(const unsigned char* p, std::size_t n, int stop) {
  std::size_t i = 0;
  while (i < n && i <= 200 && ident_char(p[i]))
    ++i;
  if (i == 0 || i > 200 || (p[0] >= '0' && p[0] <= '9')) return 0;
  if (stop >= 0) return i < n && p[i] == stop ? i : 0;
  return i == n ? i : 0;
}

// A SHORT_BINUNICODE holding an identifier, with an optional MEMOIZE or BINPUT
// after it: the bytes it spans, or 0.
std::size_t short_name(const unsigned char* p, std::size_t n, std::string_view& out) {
  if (n < 3 || p[0] != 0x8c || p[1] == 0 || std::size_t(p[1]) + 2 > n) return 0;
  const std::size_t len = p[1];
  if (ident(p + 2, len, -1) != len) return 0;
  out = {reinterpret_cast<const char*>(p + 2), len};
  std::size_t k = len + 2;
  if (k < n && p[k] == 0x94)
    ++k;
  else if (k + 1 < n && p[k] == 'q')
    k += 2;
  return k;
}

} // namespace

void sweep_hidden(std::span<const std::byte> bytes, std::uint64_t from, scan_report& rep,
                  std::unordered_map<std::string, std::size_t>& seen) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  const std::size_t end = static_cast<std::size_t>(std::min<std::uint64_t>(n, from + (1u << 20)));
  auto note = [&](std::string m, std::string nm, std::size_t at) {
    std::string key = m + '\n' + nm + "\nh";
    auto [it, fresh] = seen.emplace(std::move(key), rep.globals.size());
    if (!fresh) {
      ++rep.globals[it->second].count;
      return;
    }
    const safety s = classify(m, nm);
    rep.globals.push_back(global_ref{std::move(m), std::move(nm), s, at, 1, false,
                                     "in bytes a frame violation hides from a strict reader"});
  };
  for (std::size_t i = static_cast<std::size_t>(from); i < end; ++i) {
    if (p[i] == 'c' || p[i] == 'i') { // GLOBAL, INST: module\nname\n
      const std::size_t a = ident(p + i + 1, end - i - 1, '\n');
      if (!a) continue;
      const std::size_t b = ident(p + i + 2 + a, end - i - 2 - a, '\n');
      if (!b) continue;
      note(std::string(reinterpret_cast<const char*>(p + i + 1), a),
           std::string(reinterpret_cast<const char*>(p + i + 2 + a), b), i);
    } else if (p[i] == 0x8c) { // SHORT_BINUNICODE x2, STACK_GLOBAL
      std::string_view m, nm;
      const std::size_t a = short_name(p + i, end - i, m);
      if (!a) continue;
      const std::size_t b = short_name(p + i + a, end - i - a, nm);
      if (!b || i + a + b >= end || p[i + a + b] != 0x93) continue;
      note(std::string(m), std::string(nm), i);
    }
  }
}

} // namespace detail

const char* anomaly_name(scan_anomaly::kind k) noexcept {
  switch (k) {
  case scan_anomaly::kind::frame:
    return "frame";
  case scan_anomaly::kind::proto:
    return "proto";
  case scan_anomaly::kind::trailing:
    return "trailing";
  case scan_anomaly::kind::expansion:
    return "expansion";
  default:
    return "stop-in-frame";
  }
}

safety scan_report::verdict() const noexcept {
  safety v = safety::safe;
  for (const auto& g : globals) {
    if (g.classification == safety::dangerous) return safety::dangerous;
    if (g.classification == safety::unknown) v = safety::unknown;
  }
  if (!anomalies.empty() || error) v = safety::unknown;
  return v;
}

bool scan_report::unreadable() const noexcept {
  return error && globals.empty() && anomalies.empty() && pickles == 0 &&
         error->code() != errc::limit_exceeded;
}

std::string escape_name(std::string_view s, bool backslash) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  auto hex = [&out](unsigned c) {
    char b[8];
    std::snprintf(b, sizeof b, "\\x%02x", c);
    out += b;
  };
  for (std::size_t i = 0; i < n;) {
    const unsigned c = p[i];
    if (c < 0x80) {
      if (c == '\\')
        out += backslash ? "\\\\" : "\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (c < 0x20 || c == 0x7f)
        hex(c);
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    // a whole, shortest-form UTF-8 sequence of a printable code point is kept
    std::size_t len = 0;
    char32_t cp = 0, min = 0;
    if ((c & 0xe0) == 0xc0)
      len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
      len = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
      len = 4, cp = c & 0x07, min = 0x10000;
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    // no overlong forms, surrogates, C1 controls, or bidi/line-separator overrides
    ok = ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
         !(cp >= 0x80 && cp < 0xa0) && !(cp >= 0x2028 && cp <= 0x202e) &&
         !(cp >= 0x2066 && cp <= 0x2069) && cp != 0x200e && cp != 0x200f && cp != 0x061c;
    if (!ok) {
      hex(c);
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

} // namespace pickle
} // namespace v1
} // namespace npio
