// The scanner (issue 9): frames as CPython's pure-Python unpickler enforces
// them (loads and scan alike, checked against pickle._Unpickler), a scan that
// keeps what it found before an error, computed and dotted names, the
// denylist, concatenated pickles, anomalies, and escaped names.
#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <npio/pickle.hpp>

namespace {

using namespace pickle_test;
namespace pk = npio::pickle;
using npio::errc;

// A literal that may hold NUL bytes.
template <std::size_t N> std::string S(const char (&a)[N]) {
  return std::string(a, N - 1);
}

std::string frame(std::uint64_t n) {
  std::string s = "\x95";
  for (int i = 0; i < 8; ++i)
    s += static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

pk::scan_report scan(const std::string& s, pk::options o = {}) {
  o.encoding = npio::pickle_encoding::latin1;
  return pk::scan_all(bytes_of(s), o);
}

const pk::global_ref* find(const pk::scan_report& r, std::string_view m, std::string_view n) {
  for (const auto& g : r.globals)
    if (g.module == m && g.name == n) return &g;
  return nullptr;
}

bool has_anomaly(const pk::scan_report& r, pk::scan_anomaly::kind k) {
  for (const auto& a : r.anomalies)
    if (a.what == k) return true;
  return false;
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s)
    h += d[c >> 4], h += d[c & 15];
  return h;
}

// Streams without globals: safe to give CPython's pure-Python unpickler.
struct frame_case {
  const char* name;
  std::string data;
  std::uint64_t offset; // of the refused opcode, when refused
};

std::vector<frame_case> frame_cases() {
  const std::string p4 = "\x80\x04";
  return {
      {"exact", p4 + frame(3) + "K\x01.", 0},
      {"two frames", p4 + frame(2) + "K\x01" + frame(1) + ".", 0},
      {"empty frame", p4 + frame(0) + "K\x01.", 0},
      {"opcode after the frame", p4 + frame(2) + "K\x01.", 0},
      {"BINBYTES length crosses", p4 + frame(3) + S("B\x01\x00\x00\x00x."), 11},
      {"BINBYTES data crosses", p4 + frame(4) + std::string("C\x04") + "ab" + "cd0.", 11},
      {"BININT crosses", p4 + frame(3) + S("J\x01\x00\x00\x00."), 11},
      {"line crosses", p4 + frame(3) + "I12" + "3\n.", 11},
      {"line to the end of the input", p4 + frame(3) + "I12", 11},
      {"frame in frame", p4 + frame(11) + "N" + frame(1) + "0N.", 12},
      {"frame at its end", p4 + frame(10) + "N" + frame(1) + ".", 0},
      {"STOP inside", p4 + frame(4) + "N.NN", 0},
  };
}

TEST(PickleScan, FramesAsCPythonsPurePythonUnpickler) {
  const std::string script = R"(import binascii, io, pickle, sys
for h in sys.argv[1:]:
    try:
        pickle._Unpickler(io.BytesIO(binascii.unhexlify(h))).load()
        print("ok")
    except Exception as e:
        print(str(e))
)";
  std::vector<std::string> args;
  const auto cases = frame_cases();
  for (const auto& c : cases)
    args.push_back(hex(c.data));
  std::string out;
  ASSERT_EQ(run_python(script, args, out), 0) << out;
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < out.size();) {
    const std::size_t nl = out.find('\n', i);
    lines.push_back(out.substr(i, nl - i));
    i = nl == std::string::npos ? out.size() : nl + 1;
  }
  ASSERT_EQ(lines.size(), cases.size()) << out;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const auto r = pk::try_loads(bytes_of(cases[i].data));
    if (lines[i] == "ok") {
      EXPECT_TRUE(r.has_value()) << r.error().what();
      EXPECT_TRUE(scan(cases[i].data).anomalies.empty() ||
                  has_anomaly(scan(cases[i].data), pk::scan_anomaly::kind::stop_in_frame));
      continue;
    }
    ASSERT_FALSE(r.has_value()) << lines[i];
    EXPECT_EQ(r.error().code(), errc::pickle_invalid);
    EXPECT_EQ(r.error().detail(), lines[i]);
    EXPECT_EQ(r.error().offset(), cases[i].offset);
    // the scan stops at the same opcode and says why
    const auto s = scan(cases[i].data);
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->detail(), lines[i]);
    EXPECT_EQ(s.error->offset(), cases[i].offset);
    EXPECT_TRUE(has_anomaly(s, pk::scan_anomaly::kind::frame));
    EXPECT_EQ(s.verdict(), pk::safety::unknown);
    EXPECT_FALSE(s.unreadable());
  }
}

TEST(PickleScan, FrameBoundaryBypassIsFound) {
  // fickling's frame-boundary bypass: the BINBYTES length runs past its frame;
  // a reader that ignores frames swallows GLOBAL os system ... REDUCE as data.
  const std::string hidden = "cos\nsystem\nVecho pwned\n\x85R";
  const std::string data = std::string("\x80\x04") + frame(3) + S("B\x10\x00") +
                           std::string(2, '\0') + hidden + "NNNN0.";
  const auto r = scan(data);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->offset(), 11u);
  const auto* g = find(r, "os", "system");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->classification, pk::safety::dangerous);
  EXPECT_EQ(r.verdict(), pk::safety::dangerous);
  EXPECT_THROW((void)pk::loads(data), npio::error);
}

TEST(PickleScan, KeepsWhatItFoundBeforeAnError) {
  // picklescan's keyerror exploit: the call ran before the bad memo key
  const auto r = scan("\x80\x04\x63os\nsystem\nVecho\n\x85R0\x8c\x02os\x94h\x03.");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), errc::pickle_memo);
  ASSERT_NE(find(r, "os", "system"), nullptr);
  EXPECT_EQ(r.verdict(), pk::safety::dangerous);
  // an error before any global: not a pickle
  const auto t = scan("hello");
  EXPECT_TRUE(t.unreadable());
  EXPECT_TRUE(t.globals.empty());
  // the old interface still throws
  EXPECT_THROW((void)pk::scan(bytes_of("hello")), npio::error);
}

TEST(PickleScan, IssueExamplesAreDangerous) {
  for (const std::string& s : {
           std::string("\x80\x04\x8c\x08"
                       "builtins\x8c\x04"
                       "eval\x93\x8c\x0d__import__('os')\x85R."),
           S("\x80\x02\x63__builtin__\neval\nX\x04\x00\x00\x00"
             "1+1\x85R."),
           std::string("\x80\x02S'os'\nS'system'\n\x93S'id'\n\x85R."),
           std::string("\x80\x02U\x02osU\x06system\x93U\x02id\x85R."),
       }) {
    SCOPED_TRACE(s);
    EXPECT_EQ(scan(s).verdict(), pk::safety::dangerous);
  }
}

TEST(PickleScan, ComputedNames) {
  // a name taken from a call's result
  auto r = scan("\x80\x04"
                "ccollections\nOrderedDict\n)R\x8c\x06system\x93.");
  const auto* g = find(r, "<computed>", "system");
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(g->computed);
  EXPECT_EQ(g->classification, pk::safety::dangerous);
  EXPECT_FALSE(r.error);
  // a call of a call's result
  r = scan("\x80\x04"
           "ccollections\nOrderedDict\n)R)R.");
  ASSERT_NE(find(r, "<computed>", "<computed>"), nullptr);
  // a call whose arguments came from another call: read on, os.system found
  r = scan("\x80\x04\x63os\nsystem\n\x63"
           "builtins\ntuple\n)RR.");
  EXPECT_FALSE(r.error);
  EXPECT_NE(find(r, "os", "system"), nullptr);
  // BUILD on a module sets its attributes: later names in it are computed
  r = scan("\x80\x04\x8c\x05torch\x8c\x06_utils\x93}\x8c\x01x\x8c\x01ysb.");
  g = nullptr;
  for (const auto& x : r.globals)
    if (x.computed) g = &x;
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->module, "torch");
  // a name from a global's value (picklescan's sys_module_override_sploit)
  r = scan("\x80\x04\x8c\x01m\x8c\x01n\x93\x8c\x01x\x93.");
  EXPECT_NE(find(r, "<computed>", "x"), nullptr);
  // a constant that is not a str stops the stream (CPython refuses it)
  r = scan(S("\x80\x04J\x01\x00\x00\x00\x8c\x02os\x93."));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->detail(), "STACK_GLOBAL requires str");
}

TEST(PickleScan, DottedNamesAndDenylist) {
  EXPECT_EQ(pk::classify("builtins", "eval.__call__"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("builtins", "getattr.__call__"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("numpy", "__builtins__"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("collections", "OrderedDict.__init__.__globals__"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("foo.__builtins__", "x"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("collections", "OrderedDict"), pk::safety::safe);
  EXPECT_EQ(pk::classify("collections", "Counter"), pk::safety::unknown);
  EXPECT_EQ(pk::classify("numpy", "dtype"), pk::safety::safe);
  // picklescan's _unsafe_globals (src/picklescan/scanner.py)
  const std::pair<const char*, const char*> picklescan[] = {
      {"__builtin__", "eval"},
      {"__builtin__", "compile"},
      {"__builtin__", "getattr"},
      {"__builtin__", "apply"},
      {"__builtin__", "exec"},
      {"__builtin__", "open"},
      {"__builtin__", "breakpoint"},
      {"builtins", "eval"},
      {"builtins", "compile"},
      {"builtins", "getattr"},
      {"builtins", "apply"},
      {"builtins", "exec"},
      {"builtins", "open"},
      {"builtins", "breakpoint"},
      {"aiohttp", "x"},
      {"aiohttp.client", "ClientSession"},
      {"asyncio", "x"},
      {"asyncio.unix_events", "_UnixSubprocessTransport._start"},
      {"bdb", "Bdb"},
      {"commands", "getoutput"},
      {"ctypes", "CDLL"},
      {"functools", "partial"},
      {"httplib", "HTTPSConnection"},
      {"numpy.f2py", "x"},
      {"numpy.f2py.crackfortran", "getlincoef"},
      {"numpy.testing._private.utils", "runstring"},
      {"nt", "system"},
      {"posix", "system"},
      {"operator", "attrgetter"},
      {"operator", "itemgetter"},
      {"operator", "methodcaller"},
      {"os", "system"},
      {"requests.api", "get"},
      {"runpy", "_run_code"},
      {"shutil", "rmtree"},
      {"socket", "create_connection"},
      {"ssl", "get_server_certificate"},
      {"subprocess", "run"},
      {"sys", "exit"},
      {"code", "InteractiveInterpreter.runcode"},
      {"cProfile", "runctx"},
      {"cProfile", "run"},
      {"distutils.file_util", "write_file"},
      {"doctest", "debug_script"},
      {"ensurepip", "_run_pip"},
      {"idlelib.autocomplete", "AutoComplete.get_entity"},
      {"idlelib.autocomplete", "AutoComplete.fetch_completions"},
      {"idlelib.calltip", "Calltip.fetch_tip"},
      {"idlelib.calltip", "get_entity"},
      {"idlelib.debugobj", "ObjectTreeItem.SetText"},
      {"idlelib.pyshell", "ModifiedInterpreter.runcode"},
      {"idlelib.pyshell", "ModifiedInterpreter.runcommand"},
      {"idlelib.run", "Executive.runcode"},
      {"lib2to3.pgen2.grammar", "Grammar.loads"},
      {"lib2to3.pgen2.pgen", "ParserGenerator.make_label"},
      {"pdb", "run"},
      {"pickle", "loads"},
      {"_pickle", "loads"},
      {"pip", "main"},
      {"pty", "spawn"},
      {"profile", "Profile.run"},
      {"profile", "Profile.runctx"},
      {"pydoc", "pipepager"},
      {"pydoc", "locate"},
      {"timeit", "timeit"},
      {"torch._dynamo.guards", "GuardBuilder.get"},
      {"torch._inductor.codecache", "compile_file"},
      {"torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"},
      {"torch.jit.unsupported_tensor_ops", "execWrapper"},
      {"torch.serialization", "load"},
      {"torch.utils._config_module", "ConfigModule.load_config"},
      {"torch.utils.bottleneck.__main__", "run_cprofile"},
      {"torch.utils.bottleneck.__main__", "run_autograd_prof"},
      {"torch.utils.collect_env", "run"},
      {"torch.utils.data.datapipes.utils.decoder", "basichandlers"},
      {"trace", "Trace.run"},
      {"trace", "Trace.runctx"},
      {"venv", "create"},
      {"webbrowser", "open"},
  };
  for (const auto& [m, n] : picklescan)
    EXPECT_EQ(pk::classify(m, n), pk::safety::dangerous) << m << " " << n;
  // names issue 9 found only unknown (among them fickling's UNSAFE_IMPORTS)
  for (const char* m : {"_operator",
                        "_functools",
                        "pydoc",
                        "ssl",
                        "logging",
                        "uuid",
                        "imaplib",
                        "doctest",
                        "unittest",
                        "tarfile",
                        "zipfile",
                        "atexit",
                        "_imp",
                        "_frozen_importlib",
                        "_frozen_importlib_external",
                        "cloudpickle",
                        "pexpect",
                        "_io",
                        "types",
                        "urllib.request",
                        "pkgutil",
                        "_osx_support",
                        "_aix_support",
                        "_pyrepl.pager",
                        "test.support.script_helper",
                        "marshal",
                        "importlib",
                        "multiprocessing.util",
                        "code",
                        "linecache",
                        "zipimport"})
    EXPECT_EQ(pk::classify(m, "x"), pk::safety::dangerous) << m;
}

TEST(PickleScan, ConcatenatedPicklesAndAnomalies) {
  // np.load reads the first; pickle.load in a loop the second
  const std::string two = std::string("\x80\x04N.\x80\x04") + "cos\nsystem\n.";
  auto r = scan(two);
  EXPECT_EQ(r.pickles, 2u);
  EXPECT_TRUE(has_anomaly(r, pk::scan_anomaly::kind::trailing));
  EXPECT_NE(find(r, "os", "system"), nullptr);
  EXPECT_EQ(find(r, "os", "system")->offset, 6u);
  std::size_t consumed = 0;
  const auto v = pk::loads(bytes_of(two), {}, consumed);
  EXPECT_TRUE(v.is_none());
  EXPECT_EQ(consumed, 4u);
  // PROTO in mid-stream
  r = scan("\x80\x04N0\x80\x02N.");
  EXPECT_TRUE(has_anomaly(r, pk::scan_anomaly::kind::proto));
  EXPECT_EQ(r.verdict(), pk::safety::unknown);
  // a memo bomb: 2^40 references to one empty list
  std::string bomb = "\x80\x04]\x94";
  for (int i = 0; i < 40; ++i)
    bomb += std::string("]h") + static_cast<char>(i) + "ah" + static_cast<char>(i) + "a\x94";
  r = scan(bomb + ".");
  EXPECT_TRUE(has_anomaly(r, pk::scan_anomaly::kind::expansion));
  EXPECT_FALSE(r.error);
  // deep nesting does not stop a scan (CPython reads it): the global after it is found
  std::string deep = "\x80\x04";
  for (int i = 0; i < 20000; ++i)
    deep += "](";
  deep += "cos\nsystem\n.";
  r = scan(deep);
  EXPECT_NE(find(r, "os", "system"), nullptr);
}

TEST(PickleScan, LimitsAreNotUnreadable) {
  pk::options o;
  o.limits.max_stack = 8;
  const auto r = scan("\x80\x04NNNNNNNNNNNNNNNNNcos\nsystem\n.", o);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), errc::limit_exceeded);
  EXPECT_FALSE(r.unreadable());
  EXPECT_EQ(r.verdict(), pk::safety::unknown);
}

TEST(PickleScan, GlobalNamesAreDecodedAsCPythonDoes) {
  // GLOBAL decodes its lines as UTF-8, INST as ASCII, before importing
  auto r = scan("cmod\n\xf8\n");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), errc::pickle_encoding);
  EXPECT_TRUE(r.globals.empty());
  EXPECT_TRUE(r.unreadable());
  r = scan("(i\xc3\xa9\nx\n.");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), errc::pickle_encoding);
  r = scan("c\xc3\xa9\nx\n.");
  EXPECT_FALSE(r.error);
  EXPECT_NE(find(r, "\xc3\xa9", "x"), nullptr);
  // INST imports before it looks for its MARK: the global is seen first
  r = scan("ios\nsystem\n.");
  EXPECT_NE(find(r, "os", "system"), nullptr);
}

TEST(PickleScan, EscapedNames) {
  EXPECT_EQ(pk::escape_name("a\x1b[2K\rb\n"), "a\\x1b[2K\\rb\\n");
  EXPECT_EQ(pk::escape_name("\\"), "\\\\");
  EXPECT_EQ(pk::escape_name("key '\\x00'.\x1b", false), "key '\\x00'.\\x1b");
  EXPECT_EQ(pk::escape_name("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(pk::escape_name("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(pk::escape_name("\xc2\x9b"), "\\xc2\\x9b");          // C1 CSI
  EXPECT_EQ(pk::escape_name("\xe2\x80\xae"), "\\xe2\\x80\\xae"); // right-to-left override
  EXPECT_EQ(pk::escape_name("\xed\xa0\x80"), "\\xed\\xa0\\x80"); // a surrogate
}

} // namespace

TEST(PickleScan, FicklingUnsafeImports) {
  // fickling's Pickled.unsafe_imports() (fickling/fickle.py): every import
  // from these modules, and any import of a name `eval`.
  for (const char* m : {"__builtin__", "__builtins__", "builtins", "os", "posix", "nt",
                        "subprocess", "sys", "socket"})
    EXPECT_EQ(pk::classify(m, "anything_else"), pk::safety::dangerous) << m;
  EXPECT_EQ(pk::classify("somewhere", "eval"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("somewhere", "exec"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("somewhere", "Thing.eval"), pk::safety::dangerous);
  // its bypass tests: pty.spawn (GHSA-r7v6-mfhq-g3m2), marshal.loads
  EXPECT_EQ(pk::classify("pty", "spawn"), pk::safety::dangerous);
  EXPECT_EQ(pk::classify("marshal", "loads"), pk::safety::dangerous);
  // what NumPy's pickles need from builtins stays safe
  EXPECT_EQ(pk::classify("builtins", "set"), pk::safety::safe);
  EXPECT_EQ(pk::classify("__builtin__", "set"), pk::safety::safe);
  EXPECT_EQ(pk::classify("somewhere", "evaluate"), pk::safety::unknown);
}
