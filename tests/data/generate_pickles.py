"""Golden pickles for npio's unpickler, made by CPython and NumPy at test time.

Usage: python3 generate_pickles.py GOLDEN_DIR   (writes GOLDEN_DIR/pickle/)

For every case and every protocol 0-5 that CPython can pickle it with:
  NAME.pN.pkl   pickle.dumps(value, protocol=N)
  NAME.repr     repr(value) (the C++ test compares py::value::repr())
Arrays (whose repr npio does not copy) get NAME.npy (np.save of the same
array, object arrays excluded) and NAME.tolist.repr (repr(value.tolist())).
Legacy NumPy files are loaded with every encoding:
  legacy_FILE.ENC.repr  repr(np.load(FILE, allow_pickle=True, encoding=ENC).tolist())
  legacy_FILE.ENC.err   the exception text when NumPy refuses
Hand-made Python 2 streams (STRING, BINSTRING, ...) are in py2_*.pkl with
py2_*.ENC.repr / .err from pickle.loads(encoding=ENC).
"""
import collections
import datetime
import decimal
import os
import pickle
import sys

import numpy as np

out = os.path.join(sys.argv[1], "pickle")
os.makedirs(out, exist_ok=True)


def has_multi_set(v):
    """Whether v holds a set or frozenset of more than one element."""
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, (set, frozenset)):
            if len(x) > 1:
                return True
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    return False


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(out, name), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
        f.write(data)


cases = {
    "none": None,
    "true": True,
    "false": False,
    "int_small": 7,
    "int_neg": -300,
    "int_32": 2**31 - 1,
    "int_64": -(2**63),
    "int_big": 2**100 + 12345,
    "int_big_neg": -(3**90),
    "float": 1.5,
    "float_tiny": 5e-324,
    "float_inf": float("inf"),
    "float_negzero": -0.0,
    "complex": complex(1.5, -2.0),
    "str_ascii": "hello",
    "str_unicode": "h\u00e9llo \u512a\u826f \U0001f600",
    "str_quotes": "it's \"quoted\"\n\t\\",
    "str_long": "x" * 70000,
    "bytes": b"\x00\x01\xffabc",
    "bytes_empty": b"",
    "bytes_long": bytes(range(256)) * 300,
    "bytearray": bytearray(b"\x00mutable\xff"),
    "list": [1, "two", 3.0, None],
    "list_empty": [],
    "tuple0": (),
    "tuple1": (1,),
    "tuple2": (1, 2),
    "tuple3": (1, 2, 3),
    "tuple5": (1, 2, 3, 4, 5),
    "dict": {"foo": 34, "bar": [1, 2], 3: "int key", (1, 2): "tuple key"},
    "dict_empty": {},
    "set": {1, 2, 3, "a"},
    "set_empty": set(),
    "frozenset": frozenset({4, 5}),
    "frozenset_empty": frozenset(),
    "nested": {"a": [{"b": (1, [2, {"c": None}])}], "d": {frozenset({1}): b"x"}},
    "shared": (lambda s: [s, s, {"k": s}])([1, 2]),
    "ordereddict": collections.OrderedDict([("z", 1), ("a", 2)]),
    "datetime": datetime.datetime(2020, 1, 2, 3, 4, 5, 678901),
    "datetime_fold": datetime.datetime(2021, 11, 7, 1, 30, fold=1),
    "date": datetime.date(1999, 12, 31),
    "time": datetime.time(23, 59, 58, 999),
    "timedelta": datetime.timedelta(days=-3, seconds=5, microseconds=7),
    "decimal": decimal.Decimal("-1.2345E+7"),
    "global_range": range,
    "global_int": int,
    "many": list(range(3000)),
    "bigdict": {str(i): i for i in range(2000)},
}

arrays = {
    "arr_f8": np.arange(6, dtype="<f8").reshape(2, 3),
    "arr_i4_be": np.arange(5, dtype=">i4"),
    "arr_fortran": np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3)),
    "arr_0d": np.array(3.25),
    "arr_empty": np.zeros((0, 3), dtype="<u8"),
    "arr_bool": np.array([True, False, True]),
    "arr_c16": np.array([1 + 2j, -3.5j]),
    "arr_f2": np.array([1.5, -2.0, 65504.0], dtype="<f2"),
    "arr_S": np.array([b"ab", b"c"], dtype="S3"),
    "arr_U": np.array(["h\u00e9", "\u512a"], dtype="<U3"),
    "arr_U_be": np.array(["ab"], dtype=">U2"),
    "arr_M": np.array(["2020-01-01T00:00:01", "NaT"], dtype="<M8[ns]"),
    "arr_m": np.array([5, -1], dtype=">m8[2s]"),
    "arr_struct": np.array([(1, 2.5, b"x"), (3, 4.5, b"y")], dtype=[("a", "<i4"), ("b", "<f8"), ("c", "S2")]),
    "arr_struct_sub": np.zeros(2, dtype=[("a", "<f4", (2, 3)), ("b", [("c", "u1"), ("d", ">i8")])]),
    "arr_struct_title": np.zeros(2, dtype=[(("the title", "a"), "<i2"), ("b", "u1")]),
    "arr_struct_aligned": np.zeros(2, dtype=np.dtype("i1,i4,i1", align=True)),
    "arr_obj": np.array([1, "a", None, {"k": [1.5]}], dtype=object),
    "arr_obj_2d": np.array([[1, 2], [3, (4,)]], dtype=object),
    "arr_obj_0d": np.array({"foo": 34}),
    "arr_obj_struct": np.array([(1, "x"), (2, [3])], dtype=[("a", "<i8"), ("b", "O")]),
    "arr_nested_obj": np.array([np.arange(3), np.array(["s"], dtype=object)], dtype=object),
    "scalar_f4": np.float32(1.5),
    "scalar_i8": np.int64(-5),
    "scalar_U": np.str_("ab"),
    "scalar_c8": np.complex64(1 - 1j),
    "dtype_struct": np.dtype([("a", "<i4"), ("b", "O", (2,))]),
    "dtype_M": np.dtype(">M8[25s]"),
}

def canon(x):
    """tolist() as npio defines it: nested lists all the way down, datetime64 and
    timedelta64 as int counts (NaT as None)."""
    if isinstance(x, np.ndarray):
        if x.dtype.hasobject:
            return x.tolist()  # object elements stay as they are (arrays too)
        if x.dtype.kind in "Mm":
            counts = x.view(np.dtype("i8").newbyteorder(x.dtype.byteorder))
            return [None if v == -(2**63) else v for v in counts.ravel().tolist()] if x.ndim == 1 \
                else [canon(r) for r in x]
        return canon(x.tolist())
    if isinstance(x, list):
        return [canon(v) for v in x]
    if isinstance(x, tuple):
        return tuple(canon(v) for v in x)
    return x


for name, value in list(cases.items()) + list(arrays.items()):
    is_np = name in arrays
    for proto in range(6):
        try:
            data = pickle.dumps(value, protocol=proto)
        except Exception:
            continue
        write(f"{name}.p{proto}.pkl", data)
        if not is_np:
            # What CPython itself gets back (e.g. protocols < 4 drop datetime.fold),
            # except for sets: the stream holds the original set's iteration order
            # (what npio keeps), while a set rebuilt here iterates in an order that
            # depends on this process's string hash seed.
            expected = value if has_multi_set(value) else pickle.loads(data)
            write(f"{name}.p{proto}.repr", repr(expected))
    if not is_np:
        pass
    elif isinstance(value, np.ndarray):
        write(f"{name}.tolist.repr", repr(canon(value)))
        if not value.dtype.hasobject:
            np.save(os.path.join(out, name + ".npy"), value)
    elif isinstance(value, np.generic):
        write(f"{name}.tolist.repr", repr(value.item()))
    else:  # dtypes
        write(f"{name}.descr", repr(np.lib.format.dtype_to_descr(value)))

# Protocol 5 with in-band PickleBuffer data (_frombuffer + BYTEARRAY8).
for name in ("arr_f8", "arr_fortran", "arr_i4_be"):
    write(f"{name}.p5buf.pkl", pickle.dumps(arrays[name], protocol=5))

# Legacy NumPy files (Python 2 and NumPy 2 era) with every encoding.
legacy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                      "data", "numpy-legacy")
for fname in sorted(os.listdir(legacy)) if os.path.isdir(legacy) else []:
    if not fname.endswith(".npy"):
        continue
    for enc in ("ASCII", "latin1", "bytes"):
        try:
            arr = np.load(os.path.join(legacy, fname), allow_pickle=True, encoding=enc)
            write(f"legacy_{fname}.{enc}.repr", repr(arr.tolist()))
        except Exception as e:  # noqa: BLE001 - the message is the oracle
            write(f"legacy_{fname}.{enc}.err", f"{type(e).__name__}: {e}")

# Python 2 str opcodes, made by hand (CPython 3 never writes them).
py2 = {
    "py2_string": b"S'caf\\xe9 \\'q\\''\np0\n.",
    "py2_binstring": b"\x80\x02T\x03\x00\x00\x00\xe4\xb8\x8dq\x00.",
    "py2_short_binstring": b"\x80\x02U\x02abq\x00.",
    "py2_list": b"(lp0\nS'a'\np1\naI1\naL12345678901234567890L\naF1.5\naV\\u512a\\u826f\np2\na.",
    "py2_dict": b"(dp0\nS'k'\np1\nI00\nsS'j'\np2\nI01\ns.",
    "py2_xrange": b"\x80\x02c__builtin__\nxrange\nq\x00.",
    "py2_set": b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.",
    "py2_datetime": b"\x80\x02cdatetime\ndatetime\nq\x00U\n\x07\xe4\x01\x02\x03\x04\x05\x00\x00\x06q\x01\x85q\x02Rq\x03.",
    "py2_date": b"cdatetime\ndate\np0\n(S'\\x07\\xcf\\x0c\\x1f'\np1\ntp2\nRp3\n.",
    "py2_inst": b"(icollections\nOrderedDict\np0\n(dp1\nS'a'\np2\nI1\nsb.",
    "py2_reconstructor": b"ccopy_reg\n_reconstructor\np0\n(c__builtin__\nlist\np1\nc__builtin__\nlist\np2\n(lp3\nI1\naI2\natp4\nRp5\n.",
}
for name, data in py2.items():
    write(f"{name}.pkl", data)
    for enc in ("ASCII", "latin1", "bytes"):
        try:
            write(f"{name}.{enc}.repr", repr(pickle.loads(data, encoding=enc)))
        except Exception as e:  # noqa: BLE001
            write(f"{name}.{enc}.err", f"{type(e).__name__}: {e}")
