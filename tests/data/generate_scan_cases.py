"""Hostile pickles for `npio scan`, built opcode by opcode (nothing here is ever
unpickled): fickling's bypass and crash pickles rebuilt from its tests
(trailofbits/fickling test/test_bypasses.py, test/test_crashes.py), the frame
boundary evasion of CPython gh-154848, and the cases of npio issue 9.

cases() returns (name, bytes, expected exit status of `npio scan`, names that
must be listed) tuples; tests/cli/test_scan_corpus.py runs them.
Usage: python3 generate_scan_cases.py DIR [CORPUS]
  writes the fuzz_scan seeds: DIR/NAME (an options byte 0, then the pickle),
  and with CORPUS (../shared/data/scanner-corpus) its in-scope raw pickles too.
"""
import base64
import os
import struct
import sys

PROTO = b"\x80"
FRAME_OP = b"\x95"
MARK = b"("
STOP = b"."
POP = b"0"
POP_MARK = b"1"
NONE = b"N"
MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"
REDUCE = b"R"
BUILD = b"b"
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
EMPTY_LIST = b"]"
APPENDS = b"e"
SETITEM = b"s"
OBJ = b"o"


def proto(n):
    return PROTO + bytes([n])


def frame(n):
    return FRAME_OP + struct.pack("<Q", n)


def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def unicode_line(s):  # UNICODE (raw-unicode-escape, ASCII here)
    return b"V" + s.encode() + b"\n"


def sbb(b):  # SHORT_BINBYTES
    return b"C" + bytes([len(b)]) + b


def string(s):  # STRING, a Python 2 repr
    return b"S'" + s.encode() + b"'\n"


def short_binstring(s):
    b = s.encode()
    return b"U" + bytes([len(b)]) + b


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def binget(i):
    return b"h" + bytes([i])


def binput(i):
    return b"q" + bytes([i])


def put(i):
    return b"p" + str(i).encode() + b"\n"


def get(i):
    return b"g" + str(i).encode() + b"\n"


def binint1(i):
    return b"K" + bytes([i])


def framed(protocol, body):
    """PROTO, then body in one frame of its exact length."""
    return proto(protocol) + frame(len(body)) + body


def cases():
    c = []

    def add(name, data, status, names=()):
        c.append((name, data, status, list(names)))

    # ---- fickling test/test_bypasses.py (frame lengths as in its tests) ----
    add("fickling_pty_ghsa", proto(4) + frame(26) + sbu("pty") + MEMOIZE + sbu("spawn") + MEMOIZE +
        STACK_GLOBAL + MEMOIZE + sbu("id") + MEMOIZE + TUPLE1 + MEMOIZE + REDUCE + MEMOIZE +
        sbu("gottem") + MEMOIZE + BUILD + STOP, 3, ["pty.spawn"])
    add("fickling_pty_pr", MARK + glob("pty", "spawn") + string("id") + OBJ + STOP, 3, ["pty.spawn"])
    code = b"\xe3" + bytes(range(40))  # stands in for marshal.dumps(code): never run
    add("fickling_marshal_types", proto(4) + frame(0) + sbu("marshal") + sbu("loads") +
        STACK_GLOBAL + MEMOIZE + binget(0) + sbb(code) + TUPLE1 + REDUCE + MEMOIZE + sbu("types") +
        sbu("FunctionType") + STACK_GLOBAL + MEMOIZE + binget(2) + binget(1) + EMPTY_DICT + TUPLE2 +
        REDUCE + MEMOIZE + binget(3) + EMPTY_TUPLE + REDUCE + MEMOIZE + sbu("gottem") + BUILD + STOP,
        3, ["marshal.loads", "types.FunctionType"])
    add("fickling_runpy", proto(5) + frame(46) + sbu("runpy") + MEMOIZE + sbu("run_path") + MEMOIZE +
        STACK_GLOBAL + MEMOIZE + sbu("/tmp/malicious.py") + MEMOIZE + TUPLE1 + MEMOIZE + REDUCE +
        MEMOIZE + STOP, 3, ["runpy.run_path"])
    add("fickling_cprofile", proto(5) + frame(58) + sbu("cProfile") + MEMOIZE + sbu("run") + MEMOIZE +
        STACK_GLOBAL + MEMOIZE + sbu("print('CPROFILE_RCE_CONFIRMED')") + MEMOIZE + TUPLE1 +
        MEMOIZE + REDUCE + MEMOIZE + STOP, 3, ["cProfile.run"])

    def getattr_chain(mod, cls, cls_args, attr, arg):
        return (proto(5) + sbu("builtins") + MEMOIZE + sbu("getattr") + MEMOIZE + STACK_GLOBAL +
                MEMOIZE + sbu(mod) + MEMOIZE + sbu(cls) + MEMOIZE + STACK_GLOBAL + MEMOIZE + cls_args +
                MEMOIZE + REDUCE + MEMOIZE + sbu(attr) + MEMOIZE + TUPLE2 + MEMOIZE + REDUCE +
                MEMOIZE + arg + MEMOIZE + TUPLE1 + MEMOIZE + REDUCE + MEMOIZE + STOP)

    add("fickling_ctypes", getattr_chain("ctypes", "CDLL", sbu("libc.dylib") + MEMOIZE + TUPLE1,
                                         "system", sbb(b"id")), 3,
        ["builtins.getattr", "ctypes.CDLL"])
    add("fickling_importlib", getattr_chain("importlib", "import_module", sbu("os") + MEMOIZE + TUPLE1,
                                            "system", sbu("id")), 3,
        ["builtins.getattr", "importlib.import_module"])
    add("fickling_code", getattr_chain("code", "InteractiveInterpreter", EMPTY_TUPLE, "runsource",
                                       sbu('import os; os.system("id")')), 3,
        ["code.InteractiveInterpreter"])
    add("fickling_pydoc", glob("pydoc", "locate") + string("ctypes.windll.kernel32.WinExec") +
        TUPLE1 + REDUCE + put(0) + POP + get(0) + sbb(b"calc.exe") + binint1(1) + TUPLE2 + REDUCE +
        put(1) + POP + glob("builtins", "Exception") + EMPTY_TUPLE + REDUCE + put(2) + EMPTY_DICT +
        string("rce_status") + get(1) + SETITEM + BUILD + STOP, 3, ["pydoc.locate"])
    add("fickling_multiprocessing", proto(5) + frame(74) + sbu("multiprocessing.util") + MEMOIZE +
        sbu("spawnv_passfds") + MEMOIZE + STACK_GLOBAL + MEMOIZE + sbb(b"/bin/sh") + MEMOIZE +
        EMPTY_LIST + MEMOIZE + MARK + binget(3) + sbb(b"-c") + MEMOIZE + sbb(b"id") + MEMOIZE +
        APPENDS + EMPTY_TUPLE + TUPLE3 + MEMOIZE + REDUCE + MEMOIZE + STOP, 3,
        ["multiprocessing.util.spawnv_passfds"])

    # ---- fickling test/test_crashes.py ----
    add("fickling_crash_stable_diffusion", base64.b64decode(
        "gAJ9cQAoWA8AAABzdHJpbmdfdG9fdG9rZW5xAX1xAlgBAAAAKnEDY3RvcmNoLl91dGlscwpfcmVi"
        "dWlsZF90ZW5zb3JfdjIKcQQoKFgHAAAAc3RvcmFnZXEFY3RvcmNoCkxvbmdTdG9yYWdlCnEGWAEA"
        "AAAwcQdYAwAAAGNwdXEIS010cQlRSwEpKYljY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcQopUnEL"
        "dHEMUnENc1gPAAAAc3RyaW5nX3RvX3BhcmFtcQ5jdG9yY2gubm4ubW9kdWxlcy5jb250YWluZXIK"
        "UGFyYW1ldGVyRGljdApxDymBcRB9cREoWAgAAAB0cmFpbmluZ3ESiFgLAAAAX3BhcmFtZXRlcnNx"
        "E2gKKVJxFGgDY3RvcmNoLl91dGlscwpfcmVidWlsZF9wYXJhbWV0ZXIKcRVoBCgoaAVjdG9yY2gK"
        "RmxvYXRTdG9yYWdlCnEWWAEAAAAxcRdYBgAAAGN1ZGE6MHEYTQADdHEZUUsASwFNAAOGcRpNAANL"
        "AYZxG4loCilScRx0cR1ScR6IaAopUnEfh3EgUnEhc1gIAAAAX2J1ZmZlcnNxImgKKVJxI1gbAAAA"
        "X25vbl9wZXJzaXN0ZW50X2J1ZmZlcnNfc2V0cSRjX19idWlsdGluX18Kc2V0CnElXXEmhXEnUnEo"
        "WA8AAABfYmFja3dhcmRfaG9va3NxKWgKKVJxKlgWAAAAX2lzX2Z1bGxfYmFja3dhcmRfaG9va3Er"
        "TlgOAAAAX2ZvcndhcmRfaG9va3NxLGgKKVJxLVgSAAAAX2ZvcndhcmRfcHJlX2hvb2tzcS5oCilS"
        "cS9YEQAAAF9zdGF0ZV9kaWN0X2hvb2tzcTBoCilScTFYGgAAAF9sb2FkX3N0YXRlX2RpY3RfcHJl"
        "X2hvb2tzcTJoCilScTNYGwAAAF9sb2FkX3N0YXRlX2RpY3RfcG9zdF9ob29rc3E0aAopUnE1WAgA"
        "AABfbW9kdWxlc3E2aAopUnE3WAUAAABfa2V5c3E4fXE5aANOc3VidS4="), 3,
        ["torch._utils._rebuild_tensor_v2"])
    add("fickling_crash_pop_mark",
        b"\x80\x04\x95\x82\x00\x00\x00\x00\x00\x00\x00(\x8c\x05numpy\x8c\x06poly1d\x93\x94\x8c"
        b"\x05numpy\x8c\x04size\x93\x94\x8c\x05numpy\x8c\x0c__builtins__\x93\x94h\x00N\x85R\x94h"
        b"\x03\x94h\x02\x94h\x04(\x8c\x05shapeh\x05dbh\x01h\x04\x8c\x04eval\x86R\x8c\x1d"
        b"__import__('os').system('id')\x85R1N.", 3, ["numpy.__builtins__"])
    add("fickling_crash_obj", b'(cos\nsystem\nS"whoami"\no.', 3, ["os.system"])
    alphabet = "Jw~[v5QpA(BY%aKnyT&*x0r9-OpfF}HN4$GU2VhS@XEq!Zt>6_R7#]1b{z3M^D?)d8eImgckPLiuoClW<js"
    add("fickling_crash_dynamic_import", proto(4) + glob("operator", "itemgetter") + binput(0) + POP +
        glob("builtins", "getattr") + MARK + sbu("") + sbu("join") + TUPLE + REDUCE + MEMOIZE +
        binget(0) + MARK + binint1(77) + binint1(83) + TUPLE + REDUCE + MARK + binunicode(alphabet) +
        TUPLE + REDUCE + MEMOIZE + binget(1) + MARK + binget(2) + TUPLE + REDUCE + MEMOIZE +
        binget(0) + MARK + b"".join(binint1(i) for i in (83, 16, 83, 47, 67, 69)) + TUPLE + REDUCE +
        MARK + binunicode(alphabet) + TUPLE + REDUCE + MEMOIZE + binget(1) + MARK + binget(4) +
        TUPLE + REDUCE + MEMOIZE + binget(3) + binget(5) + STACK_GLOBAL + STOP, 3,
        ["operator.itemgetter", "<computed>.<computed>"])

    # ---- frames (CPython gh-154848; fickling's frame-boundary test) ----
    # A BINBYTES whose length runs past its 2-byte frame: a reader that ignores
    # frames swallows `GLOBAL os system ... REDUCE` as data, the C unpickler of
    # old CPython reading a file ran it.
    hidden = glob("os", "system") + unicode_line("echo pwned") + TUPLE1 + REDUCE
    add("frame_boundary_bypass", proto(5) + NONE + unicode_line("a" * (8192 * 16 - 17)) + POP + MARK +
        frame(2) + b"B\x07\x01\x00\x00" + b"\x00\x00" + (hidden + MARK).ljust(256 + 5, NONE) +
        POP_MARK + STOP, 3, ["os.system"])
    # the same idea in a small stream: the frame ends inside the BINBYTES length
    add("frame_boundary_small", proto(4) + frame(3) + b"B\x10\x00" + b"\x00\x00" + hidden +
        b"N" * 4 + POP + STOP, 3, ["os.system"])
    add("frame_in_frame", proto(4) + frame(12) + NONE + frame(2) + POP + NONE + STOP, 2)
    add("frame_line_crosses", proto(4) + frame(4) + b"I12" + b"3\n" + STOP, 2)
    add("frame_ok", proto(4) + frame(3) + b"K\x01" + STOP, 0)
    add("frame_empty_then_ops", proto(4) + frame(0) + b"K\x01" + STOP, 0)

    # ---- npio issue 9 ----
    add("issue_eval_broken_string", b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x0d__import__('os')"
        b"\x85R.", 3, ["builtins.eval"])
    add("issue_eval_binunicode_args", b"\x80\x02c__builtin__\neval\nX\x04\x00\x00\x001+1\x85R.", 3,
        ["builtins.eval"])
    add("py2_string_names", proto(2) + string("os") + string("system") + STACK_GLOBAL +
        string("id") + TUPLE1 + REDUCE + STOP, 3, ["os.system"])
    add("py2_binstring_names", proto(2) + short_binstring("os") + short_binstring("system") +
        STACK_GLOBAL + short_binstring("id") + TUPLE1 + REDUCE + STOP, 3, ["os.system"])
    add("dotted_eval_call", proto(4) + sbu("builtins") + sbu("eval.__call__") + STACK_GLOBAL +
        sbu("1") + TUPLE1 + REDUCE + STOP, 3, ["builtins.eval.__call__"])
    add("dotted_getattr_call", proto(4) + sbu("builtins") + sbu("getattr.__call__") + STACK_GLOBAL +
        POP + NONE + STOP, 3, ["builtins.getattr.__call__"])
    add("numpy_builtins", proto(4) + sbu("numpy") + sbu("__builtins__") + STACK_GLOBAL + STOP, 3,
        ["numpy.__builtins__"])
    add("name_from_call", proto(4) + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE +
        MEMOIZE + sbu("system") + STACK_GLOBAL + STOP, 3, ["<computed>.system"])
    add("call_of_call", proto(4) + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE +
        EMPTY_TUPLE + REDUCE + STOP, 3, ["<computed>.<computed>"])
    add("args_from_call", proto(4) + glob("os", "system") + glob("builtins", "tuple") + EMPTY_TUPLE +
        REDUCE + REDUCE + STOP, 3, ["os.system"])
    add("build_on_module", proto(4) + sbu("collections") + sbu("abc") + STACK_GLOBAL + EMPTY_DICT +
        sbu("x") + sbu("y") + SETITEM + BUILD + STOP, 3, ["collections.abc"])
    add("error_after_reduce", proto(4) + glob("os", "system") + sbu("id") + TUPLE1 + REDUCE + POP +
        binget(7) + STOP, 3, ["os.system"])
    add("bad_opcode_after_reduce", proto(4) + glob("os", "system") + sbu("id") + TUPLE1 + REDUCE +
        b"\xff" + STOP, 3, ["os.system"])
    # CPython sets a list's item (`[5][0] = 1`) and reads on: so does the scan
    add("setitem_on_list", proto(4) + EMPTY_LIST + binint1(5) + b"a" + binint1(0) + binint1(1) +
        SETITEM + POP + glob("os", "system") + POP + NONE + STOP, 3, ["os.system"])
    # the pure-Python unpickler calls func(*args) with a list too
    add("reduce_list_args", proto(4) + glob("os", "system") + EMPTY_LIST + sbu("id") + b"a" +
        REDUCE + glob("builtins", "exec") + POP + NONE + STOP, 3, ["os.system", "builtins.exec"])
    # a global registered at load time, then fetched by its extension code
    add("extension_code", proto(2) + glob("copy_reg", "add_extension") + string("os") +
        string("system") + binint1(7) + TUPLE3 + REDUCE + POP + b"\x82\x07" + STOP, 3,
        ["copyreg.add_extension", "<computed>.<extension 7>"])
    add("denylist_operator", proto(4) + sbu("_operator") + sbu("attrgetter") + STACK_GLOBAL + STOP, 3,
        ["_operator.attrgetter"])
    add("denylist_logging", glob("logging", "FileHandler") + STOP, 3, ["logging.FileHandler"])
    add("escape_name", proto(4) + sbu("numpy") + sbu("x\x1b[2K\rsafe      numpy.dtype\n") +
        STACK_GLOBAL + STOP, 2, ["numpy.x\\x1b[2K\\rsafe      numpy.dtype\\n"])
    # concatenated pickles: np.load reads the first, pickle.load in a loop the second
    add("concatenated", proto(4) + NONE + STOP + proto(4) + glob("os", "system") + STOP, 3,
        ["os.system"])
    add("trailing_garbage", proto(4) + NONE + STOP + b"\xff\xfe", 2)
    add("proto_mid_stream", proto(4) + NONE + POP + proto(2) + NONE + STOP, 2)
    # memo/DUP bomb: each level doubles the references to the level below
    bomb = proto(4) + EMPTY_LIST + MEMOIZE
    for i in range(40):
        bomb += EMPTY_LIST + binget(i) + b"a" + binget(i) + b"a" + MEMOIZE if i < 255 else b""
    add("memo_bomb", bomb + STOP, 2)
    # DUP bomb: each DUP + TUPLE2 doubles the references
    add("dup_bomb", proto(4) + EMPTY_LIST + (b"2" + TUPLE2) * 48 + STOP, 2)
    add("not_a_pickle", b"hello, this is text\n", 1)
    add("safe_plain", proto(4) + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + STOP, 0)
    return c


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data, _, _ in cases():
        if len(data) > 16384:  # fuzz/run.sh's -max_len; the CLI test keeps it
            continue
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"\x00" + data)
    if len(sys.argv) > 2:
        corpus = sys.argv[2]
        with open(os.path.join(corpus, "expected.tsv"), encoding="utf-8") as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if line.startswith("#") or len(cols) < 3 or cols[1] != "raw" or cols[2] != "in":
                    continue
                with open(os.path.join(corpus, cols[0]), "rb") as src:
                    data = src.read()
                name = "corpus_" + cols[0].replace("/", "_")
                with open(os.path.join(out, name), "wb") as dst:
                    dst.write(b"\x00" + data)
