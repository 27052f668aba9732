// Classification of the globals a pickle references: safe (npio reconstructs
// it), dangerous (a code-execution, file, process or network primitive), or
// unknown. Used by the decoder (dangerous names are always refused) and by scan().
#include "pickle_internal.hpp"

#include <algorithm>

namespace npio {
inline namespace v1 {
namespace pickle {

namespace {

// Modules whose every global is dangerous to call (prefix match on dotted names).
constexpr std::string_view dangerous_modules[] = {"os",
                                                  "posix",
                                                  "nt",
                                                  "posixpath",
                                                  "ntpath",
                                                  "subprocess",
                                                  "sys",
                                                  "importlib",
                                                  "runpy",
                                                  "pickle",
                                                  "_pickle",
                                                  "cPickle",
                                                  "marshal",
                                                  "shutil",
                                                  "socket",
                                                  "_socket",
                                                  "ctypes",
                                                  "_ctypes",
                                                  "code",
                                                  "codeop",
                                                  "pty",
                                                  "commands",
                                                  "webbrowser",
                                                  "multiprocessing",
                                                  "_posixsubprocess",
                                                  "asyncio",
                                                  "pdb",
                                                  "bdb",
                                                  "timeit",
                                                  "cProfile",
                                                  "profile",
                                                  "trace",
                                                  "threading",
                                                  "_thread",
                                                  "signal",
                                                  "tempfile",
                                                  "glob",
                                                  "io",
                                                  "_io",
                                                  "pathlib",
                                                  "zipimport",
                                                  "pkgutil",
                                                  "imp",
                                                  "http",
                                                  "urllib",
                                                  "urllib2",
                                                  "ftplib",
                                                  "smtplib",
                                                  "telnetlib",
                                                  "xmlrpc",
                                                  "requests",
                                                  "types",
                                                  "gc",
                                                  "inspect",
                                                  "operator",
                                                  "functools",
                                                  "builtins.__import__",
                                                  "dill",
                                                  "joblib",
                                                  "numpy.testing",
                                                  "numpy.f2py",
                                                  "numpy.distutils",
                                                  "distutils",
                                                  "setuptools",
                                                  "pip",
                                                  "ensurepip",
                                                  "venv",
                                                  "sqlite3",
                                                  "dbm",
                                                  "shelve",
                                                  "mmap",
                                                  "fcntl",
                                                  "resource",
                                                  "pwd",
                                                  "grp",
                                                  "spawn",
                                                  "platform",
                                                  "sysconfig",
                                                  "site",
                                                  "torch",
                                                  "tensorflow",
                                                  "keras"};

// Names in builtins (and other otherwise harmless modules) that run code.
constexpr std::string_view dangerous_builtins[] = {
    "eval",         "exec",       "compile",     "getattr",
    "setattr",      "delattr",    "__import__",  "open",
    "globals",      "locals",     "vars",        "input",
    "breakpoint",   "exit",       "quit",        "help",
    "execfile",     "file",       "reload",      "apply",
    "__builtins__", "memoryview", "classmethod", "staticmethod",
    "property",     "super",      "type",        "object.__reduce__",
    "dir",          "print",      "id",          "hash",
    "iter",         "next",       "map",         "filter",
    "zip",          "sorted",     "reversed",    "enumerate",
    "callable"};

bool under(std::string_view module, std::string_view root) {
  return module == root || (module.size() > root.size() && module.substr(0, root.size()) == root &&
                            module[root.size()] == '.');
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
  if (module == "builtins" || module == "__builtin__") {
    if (std::find(std::begin(dangerous_builtins), std::end(dangerous_builtins), name) !=
        std::end(dangerous_builtins))
      return safety::dangerous;
  }
  // numpy's own helpers that evaluate strings or load files
  if (under(module, "numpy") &&
      (name == "runstring" || name == "load" || name == "loads" || name == "fromfile" ||
       name == "loadtxt" || name == "genfromtxt" || name == "memmap" || name == "open_memmap" ||
       name == "safe_eval" || name == "_get_ndarray_c_version" || name == "tofile" ||
       name == "save" || name == "savez" || name == "savetxt"))
    return safety::dangerous;
  for (auto m : dangerous_modules)
    if (under(module, m)) return safety::dangerous;
  if (detail::is_reconstructable(module, name)) return safety::safe;
  return safety::unknown;
}

} // namespace pickle
} // namespace v1
} // namespace npio
