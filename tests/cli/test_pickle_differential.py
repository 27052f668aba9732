"""Differential test of the pickle decoder against CPython (issue 9).

Random Python values (seeded) are pickled by CPython at protocols 0-5 and
decoded by `npio json --allow-pickle`; the JSON must be what shared/spec/json.md
says for `pickle.loads` of the same bytes. Then seeded byte mutations of those
streams: npio must never accept a stream CPython rejects, never crash, and
never hang. CPython only ever runs mutated streams through an Unpickler whose
find_class allows the names npio reconstructs (nothing else can be imported).

Usage: /usr/bin/python3 test_pickle_differential.py PATH_TO_npio [SEED]
Environment: NPIO_DIFF_MUTATIONS (default 3000).
"""
import _compat_pickle
import base64
import collections
import datetime
import decimal
import io
import json
import math
import os
import pickle
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

NPIO = sys.argv[1]
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 20261207
MUTATIONS = int(os.environ.get("NPIO_DIFF_MUTATIONS", "3000"))
TIMEOUT = 10

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg[:2000], flush=True)


# ---- random values ----------------------------------------------------------------------

def rand_float(r):
    return r.choice([0.0, -0.0, 1.5, -2.25, math.nan, math.inf, -math.inf, 1e300, 5e-324, 0.1,
                     1e16, 1e-5, 123456789.125, r.uniform(-1e6, 1e6), r.random()])


def rand_int(r):
    return r.choice([0, 1, -1, 255, 256, 65535, -65536, 2**31 - 1, -2**31, 2**63 - 1, -2**63,
                     2**64, -2**64 - 1, 10**40, -(10**60) + 7, r.randint(-2**200, 2**200),
                     r.randint(-1000, 1000)])


def rand_str(r):
    base = r.choice(["", "a", "hello", "caf\u00e9", "\u4e2d\u6587", "\U0001f600", "$tag",
                     "\n\t\x00", "x" * 20, "\ud800", "a\udfffb"])
    return base


def rand_array(r):
    kind = r.randrange(12)
    if kind == 0:
        return np.arange(r.randrange(0, 6), dtype=r.choice(["<i4", ">i4", "<u2", ">i8", "|u1"]))
    if kind == 1:
        return np.array([0.1, -0.0, 1.5, 65504.0][: r.randrange(0, 5)],
                        dtype=r.choice(["<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]))
    if kind == 2:
        fi = np.finfo(np.longdouble)
        return np.array([fi.max, fi.tiny, np.longdouble(1) / 3, -0.0], dtype=np.longdouble)
    if kind == 3:
        return np.array([1 + 2j, complex(1.5, -0.0)], dtype=r.choice(["<c8", ">c16", "<c16"]))
    if kind == 4:
        dt = [("a", r.choice(["<i2", ">i2"])), ("b", r.choice(["<f4", ">f4"]))]
        return np.array([(1, 2.0), (-3, 0.5)], dtype=dt)
    if kind == 5:
        dt = np.dtype({"names": ["x", "y"], "formats": [r.choice(["<u4", ">u4"]), ">f8"],
                       "offsets": [0, 8], "itemsize": 16})
        return np.array([(7, 1.25)], dtype=dt)
    if kind == 6:
        return np.array([[1, 2, 3], [4, 5, 6]], dtype=">i4", order=r.choice(["C", "F"]))
    if kind == 7:
        return np.array([b"ab", b"c"], dtype="S3")
    if kind == 8:
        return np.array(["ab", "\u00e9"], dtype=r.choice(["<U2", ">U2"]))
    if kind == 9:
        return np.array([True, False])
    if kind == 10:
        return np.array([("a", [1, 2])], dtype=[("s", "<U1"), ("v", ">i2", (2,))])
    return np.array(r.choice([5, -1.5, True]))


def rand_scalar(r):
    return r.choice([np.float16(0.1), np.float32(0.1), np.float64(-0.0), np.longdouble(1) / 3,
                     np.finfo(np.longdouble).max, np.int8(-5), np.uint64(2**64 - 1),
                     np.complex64(1.5 - 2j), np.bool_(True), np.int16(300)])


def rand_leaf(r):
    k = r.randrange(16)
    if k == 0:
        return None
    if k == 1:
        return r.choice([True, False])
    if k == 2:
        return rand_int(r)
    if k == 3:
        return rand_float(r)
    if k == 4:
        return complex(rand_float(r), rand_float(r))
    if k == 5:
        return rand_str(r)
    if k == 6:
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 8)))
    if k == 7:
        return bytearray(b"xyz"[: r.randrange(4)])
    if k == 8:
        return datetime.datetime(r.randrange(1, 10000), r.randrange(1, 13), r.randrange(1, 29),
                                 r.randrange(24), r.randrange(60), r.randrange(60),
                                 r.randrange(10**6))
    if k == 9:
        return datetime.date(r.randrange(1, 10000), r.randrange(1, 13), r.randrange(1, 29))
    if k == 10:
        return datetime.time(r.randrange(24), r.randrange(60), r.randrange(60), r.randrange(10**6))
    if k == 11:
        return datetime.timedelta(days=r.randint(-999999999, 999999999),
                                  seconds=r.randrange(86400), microseconds=r.randrange(10**6))
    if k == 12:
        return decimal.Decimal(r.choice(["1.5", "-0", "1E+10", "NaN", "-Infinity", "123.4500"]))
    if k == 13:
        return rand_array(r)
    if k == 14:
        return rand_scalar(r)
    return r.randint(-5, 5)


def rand_key(r):
    return r.choice([rand_str(r), r.randint(-3, 3), (1, "a"), 2.5, None, b"k", frozenset([1])])


def rand_value(r, depth=0):
    if depth > 3 or r.random() < 0.4:
        return rand_leaf(r)
    k = r.randrange(6)
    n = r.randrange(0, 4)
    if k == 0:
        return [rand_value(r, depth + 1) for _ in range(n)]
    if k == 1:
        return tuple(rand_value(r, depth + 1) for _ in range(n))
    if k == 2:
        return {rand_key(r): rand_value(r, depth + 1) for _ in range(n)}
    if k == 3:
        return set(rand_key(r) for _ in range(n))
    if k == 4:
        return frozenset(rand_key(r) for _ in range(n))
    return collections.OrderedDict((str(i), rand_value(r, depth + 1)) for i in range(n))


# ---- the spec's JSON of a value, compared with npio's ------------------------------------

def descr_json(dt):
    d = np.lib.format.dtype_to_descr(dt)

    def conv(x):
        if isinstance(x, (list, tuple)):
            return [conv(y) for y in x]
        return x
    return conv(d)


def sig_digits(text):
    """The significant digits of a decimal number text."""
    m = text.lower().split("e")[0].replace("-", "").replace(".", "").lstrip("0").rstrip("0")
    return m or "0"


def check_float(got, x, ftype, path):
    """A float element: a number text (kept as text) or a $float tag."""
    x = ftype(x)
    if np.isnan(x) or np.isinf(x):
        want = {"$float": "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")}
        if got != want:
            fail(f"{path}: {got!r} != {want!r}")
        return
    if not isinstance(got, str):
        fail(f"{path}: {got!r} is not a number")
        return
    if "." not in got and "e" not in got:
        fail(f"{path}: {got!r} has neither '.' nor 'e'")
    back = ftype(got)
    if back != x or np.signbit(back) != np.signbit(x):
        fail(f"{path}: {got!r} does not read back as {x!r}")
        return
    if ftype is float:
        if got != repr(x):
            fail(f"{path}: {got!r} is not repr {repr(x)!r}")
    else:
        want = np.format_float_scientific(x, unique=True)
        if sig_digits(got) != sig_digits(want):
            fail(f"{path}: {got!r} is not the shortest text ({want}) at {np.dtype(ftype)}")


def check_elem(got, x, dt, path):
    """One element of a typed array of dtype dt (x: the numpy element)."""
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        arr = np.asarray(x)
        check_nested(got, arr, base, path)
        return
    if dt.names is not None:
        names = [n for n in dt.names if not (n == "" and dt.fields[n][0].kind == "V")]
        if not isinstance(got, list) or len(got) != len(names):
            fail(f"{path}: {got!r} is not a list of {len(names)} fields")
            return
        for i, n in enumerate(names):
            check_elem(got[i], x[n], dt.fields[n][0], f"{path}.{n}")
        return
    k = dt.kind
    if k == "f":
        check_float(got, x, dt.type, path)
    elif k == "c":
        ft = {8: np.float32, 16: np.float64}.get(dt.itemsize, np.longdouble)
        if not isinstance(got, dict) or list(got) != ["$complex"]:
            fail(f"{path}: {got!r} is not a $complex")
            return
        check_float(got["$complex"][0], np.real(x), ft, path + ".re")
        check_float(got["$complex"][1], np.imag(x), ft, path + ".im")
    elif k == "b":
        if got is not bool(x):
            fail(f"{path}: {got!r} != {bool(x)!r}")
    elif k in "iu":
        if got != int(x):
            fail(f"{path}: {got!r} != {int(x)!r}")
    elif k == "S":
        want = {"$bytes": base64.b64encode(bytes(x).rstrip(b"\0")).decode()}
        if got != want:
            fail(f"{path}: {got!r} != {want!r}")
    elif k == "U":
        if got != str(x):
            fail(f"{path}: {got!r} != {str(x)!r}")
    elif k == "V":
        want = {"$bytes": base64.b64encode(bytes(x)).decode()}
        if got != want:
            fail(f"{path}: {got!r} != {want!r}")
    elif k == "O":
        check_value(got, x, path)
    else:
        fail(f"{path}: unexpected dtype {dt}")


def check_nested(got, arr, dt, path):
    if not isinstance(arr, np.ndarray):
        check_elem(got, arr, dt, path)
        return
    if arr.ndim == 0:
        check_elem(got, arr[()], dt, path)
        return
    if not isinstance(got, list) or len(got) != arr.shape[0]:
        fail(f"{path}: {got!r} does not have {arr.shape[0]} items")
        return
    for i in range(arr.shape[0]):
        check_nested(got[i], arr[i], dt, f"{path}[{i}]")


def canon(j):
    """JSON made order-independent where the spec allows (sets)."""
    if isinstance(j, list):
        return [canon(x) for x in j]
    if isinstance(j, dict):
        if len(j) == 1 and next(iter(j)) in ("$set", "$frozenset"):
            tag = next(iter(j))
            return {tag: sorted((canon(x) for x in j[tag]), key=lambda y: json.dumps(y))}
        return {k: canon(x) for k, x in j.items()}
    return j


def spec_of(v):
    """shared/spec/json.md for a value without NumPy parts or floats (text form)."""
    if v is None or isinstance(v, bool) or isinstance(v, int) or isinstance(v, str):
        return v
    if isinstance(v, float):
        if v != v:
            return {"$float": "nan"}
        if v in (math.inf, -math.inf):
            return {"$float": "inf" if v > 0 else "-inf"}
        return repr(v)
    if isinstance(v, complex):
        return {"$complex": [spec_of(v.real), spec_of(v.imag)]}
    if isinstance(v, bytes):
        return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, bytearray):
        return {"$bytearray": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, datetime.datetime):
        return {"$datetime": v.strftime("%Y-%m-%dT%H:%M:%S.%f").rjust(26, "0")}
    if isinstance(v, datetime.date):
        return {"$date": "%04d-%02d-%02d" % (v.year, v.month, v.day)}
    if isinstance(v, datetime.time):
        return {"$time": v.strftime("%H:%M:%S.%f")}
    if isinstance(v, datetime.timedelta):
        return {"$timedelta": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, decimal.Decimal):
        return {"$decimal": str(v)}
    raise TypeError(type(v))


def check_value(got, v, path):
    """npio's JSON (numbers kept as text) against the value pickle.loads gave."""
    if isinstance(v, np.ndarray):
        if not isinstance(got, dict) or list(got) != ["$ndarray"]:
            fail(f"{path}: {str(got)[:200]} is not an $ndarray ({v.dtype})")
            return
        d = got["$ndarray"]
        if d.get("dtype") != descr_json(v.dtype):
            fail(f"{path}: dtype {d.get('dtype')!r} != {descr_json(v.dtype)!r}")
            return
        if d.get("shape") != list(v.shape):
            fail(f"{path}: shape {d.get('shape')!r} != {list(v.shape)!r}")
            return
        check_nested(d["data"], v, v.dtype, path + ".data")
        return
    if isinstance(v, np.generic):
        if not isinstance(got, dict) or list(got) != ["$scalar"]:
            fail(f"{path}: {got!r} is not a $scalar")
            return
        d = got["$scalar"]
        if d.get("dtype") != descr_json(v.dtype):
            fail(f"{path}: scalar dtype {d.get('dtype')!r} != {descr_json(v.dtype)!r}")
            return
        check_elem(d["value"], v, v.dtype, path + ".value")
        return
    if isinstance(v, float):
        check_float(got, v, float, path)
        return
    if isinstance(v, complex):
        if not isinstance(got, dict) or list(got) != ["$complex"]:
            fail(f"{path}: {got!r} is not a $complex")
            return
        check_float(got["$complex"][0], v.real, float, path + ".re")
        check_float(got["$complex"][1], v.imag, float, path + ".im")
        return
    if isinstance(v, list):
        if not isinstance(got, list) or len(got) != len(v):
            fail(f"{path}: {str(got)[:200]} is not a list of {len(v)}")
            return
        for i, x in enumerate(v):
            check_value(got[i], x, f"{path}[{i}]")
        return
    if isinstance(v, tuple):
        if not isinstance(got, dict) or list(got) != ["$tuple"] or len(got["$tuple"]) != len(v):
            fail(f"{path}: {str(got)[:200]} is not a $tuple of {len(v)}")
            return
        for i, x in enumerate(v):
            check_value(got["$tuple"][i], x, f"{path}[{i}]")
        return
    if isinstance(v, dict):
        plain = all(isinstance(k, str) and not k.startswith("$") for k in v)
        if plain:
            if not isinstance(got, dict) or list(got) != list(v):
                fail(f"{path}: keys {str(got)[:200]} != {list(v)!r}")
                return
            for k, x in v.items():
                check_value(got[k], x, f"{path}[{k!r}]")
        else:
            if not isinstance(got, dict) or list(got) != ["$dict"] or len(got["$dict"]) != len(v):
                fail(f"{path}: {str(got)[:200]} is not a $dict of {len(v)}")
                return
            for i, (k, x) in enumerate(v.items()):
                check_value(got["$dict"][i][0], k, f"{path}.key{i}")
                check_value(got["$dict"][i][1], x, f"{path}[{k!r}]")
        return
    if isinstance(v, (set, frozenset)):
        tag = "$frozenset" if isinstance(v, frozenset) else "$set"
        if not isinstance(got, dict) or list(got) != [tag] or len(got[tag]) != len(v):
            fail(f"{path}: {str(got)[:200]} is not a {tag} of {len(v)}")
            return
        want = sorted(set_key(item_json(x)) for x in v)
        if sorted(set_key(x) for x in got[tag]) != want:
            fail(f"{path}: {got!r} != {want!r}")
        return
    want = spec_of(v)
    if got != want:
        fail(f"{path}: {got!r} != {want!r}")


def item_json(v):
    """The JSON npio writes for a hashable set item (numbers as text)."""
    if isinstance(v, tuple):
        return {"$tuple": [item_json(x) for x in v]}
    if isinstance(v, frozenset):
        return {"$frozenset": [item_json(x) for x in v]}
    return spec_of(v)


def set_key(j):
    return json.dumps(canon(j), sort_keys=True)


# ---- running both sides -----------------------------------------------------------------

def npio_json(path):
    """(exit code, parsed JSON with numbers as text, stderr); None on a timeout."""
    try:
        p = subprocess.run([NPIO, "json", "--allow-pickle", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None
    doc = None
    if p.returncode == 0:
        doc = json.loads(p.stdout, parse_float=str, parse_int=int)
    return p.returncode, doc, p.stderr.decode("utf-8", "replace")


ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.numeric", "_frombuffer"),
    ("_codecs", "encode"), ("copyreg", "_reconstructor"), ("collections", "OrderedDict"),
    ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"),
    ("datetime", "timedelta"), ("decimal", "Decimal"),
} | {("builtins", n) for n in ("set", "frozenset", "list", "tuple", "dict", "complex",
                                "bytearray", "bytes", "int", "float", "bool", "str", "range",
                                "object", "slice")}


class Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        # fix_imports' mapping decides what would be imported (the C
        # Unpickler applies it for protocols < 3 only; for later ones the
        # Python 2 name is imported as is, and does not exist)
        m, n = module, name
        if True:
            if (m, n) in _compat_pickle.NAME_MAPPING:
                m, n = _compat_pickle.NAME_MAPPING[(m, n)]
            elif m in _compat_pickle.IMPORT_MAPPING:
                m = _compat_pickle.IMPORT_MAPPING[m]
        if (m, n) not in ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed here")
        return super().find_class(module, name)


def cpython_loads(data):
    return Restricted(io.BytesIO(data)).load()


# NumPy 1.x keeps dtype flags in a C char and refuses a state whose flags do
# not fit; NumPy 2 keeps 64 bits (and writes 144 for aligned structs), so npio
# reads them as NumPy 2 does.
NUMPY1_ONLY = ("incorrect value for flags variable (overflow)",)


def has_dtype(v, depth=0):
    if isinstance(v, np.dtype):
        return True
    if isinstance(v, (list, tuple, set, frozenset)):
        return any(has_dtype(x) for x in v)
    if isinstance(v, dict):
        return any(has_dtype(x) for x in v.values()) or any(has_dtype(k) for k in v)
    return False


def main():
    r = random.Random(SEED)
    t0 = time.time()
    values = [rand_value(r) for _ in range(120)]
    # the cases, always present
    values += [
        np.array([(1, 2.0)], dtype=[("a", "<i2"), ("b", ">f4")]),
        np.array([(1, 2)], dtype=[("a", ">i4"), ("b", ">i4")]),
        [np.finfo(np.longdouble).max, np.finfo(np.longdouble).tiny, np.float16(0.1)],
        complex(1.5, -0.0), 10**4000, -(2**10000), datetime.timedelta(1, 2, 3),
    ]
    streams = []
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.pkl")
        for i, v in enumerate(values):
            for proto in range(6):
                data = pickle.dumps(v, protocol=proto)
                streams.append(data)
                with open(path, "wb") as f:
                    f.write(data)
                res = npio_json(path)
                if res is None:
                    fail(f"value {i} p{proto}: npio json timed out")
                    continue
                rc, doc, err = res
                back = pickle.loads(data)
                if rc != 0:
                    fail(f"value {i} p{proto}: npio json failed: {err.strip()} for {back!r:.200}")
                    continue
                before = len(failures)
                check_value(doc["pickle"], back, f"value {i} p{proto}")
                if len(failures) != before:
                    print("  value:", repr(back)[:300])
                compared += 1
        # dtypes have no JSON form: npio loads and refuses them as unsupported
        for dt in [np.dtype(">i4"), np.dtype([("a", "<i2"), ("b", ">f4")]), np.dtype("M8[ns]")]:
            for proto in range(6):
                with open(path, "wb") as f:
                    f.write(pickle.dumps(dt, protocol=proto))
                rc, _, err = npio_json(path)
                if rc == 0 or "no JSON form" not in err:
                    fail(f"dtype {dt} p{proto}: {rc} {err.strip()}")
        t1 = time.time()
        print(f"{compared} streams compared with pickle.loads in {t1 - t0:.1f} s", flush=True)

        # mutations
        accepted = both = skipped = 0
        for m in range(MUTATIONS):
            data = bytearray(r.choice(streams))
            for _ in range(r.randint(1, 3)):
                op = r.randrange(4)
                pos = r.randrange(len(data)) if data else 0
                if op == 0 and data:
                    data[pos] = r.randrange(256)
                elif op == 1 and data:
                    data[pos] ^= 1 << r.randrange(8)
                elif op == 2:
                    data[pos:pos] = bytes([r.randrange(256)])
                elif data:
                    del data[pos:pos + r.randint(1, 4)]
            data = bytes(data)
            try:
                cpython_ok = True
                back = cpython_loads(data)
            except RecursionError:
                continue  # CPython's own depth limit: npio's is max_depth
            except BaseException as e:  # noqa: BLE001 -- any refusal counts
                cpython_ok = False
                cpython_error = f"{type(e).__name__}: {e}"
            with open(path, "wb") as f:
                f.write(data)
            res = npio_json(path)
            if res is None:
                fail(f"mutation {m}: npio json timed out on {data!r:.300}")
                continue
            rc, doc, err = res
            if rc < 0 or rc > 3 or "Sanitizer" in err:
                fail(f"mutation {m}: npio crashed ({rc}) on {data!r:.300}: {err[:300]}")
                continue
            if rc == 0:
                accepted += 1
                if not cpython_ok and any(x in cpython_error for x in NUMPY1_ONLY):
                    skipped += 1
                elif not cpython_ok:
                    fail(f"mutation {m}: npio accepts what CPython refuses ({cpython_error[:200]}): "
                         f"{data!r:.400}")
                elif not has_dtype(back):
                    both += 1
                    check_value(doc["pickle"], back, f"mutation {m} ({data!r:.300})")
        t2 = time.time()
        print(f"{MUTATIONS} mutations ({accepted} accepted by npio, {both} compared, {skipped} "
              f"NumPy 1-only refusals left to their own tests) in "
              f"{t2 - t1:.1f} s", flush=True)
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
