"""CLI tests for pickles: `npio scan`, and `npio json` / `npio from-json` of
object arrays and raw pickle files, checked against NumPy and CPython.

Usage: python3 test_pickle_cli.py PATH_TO_npio
"""
import base64
import collections
import datetime
import decimal
import json
import os
import pickle
import subprocess
import sys
import tempfile
import unittest

import numpy as np

NPIO = None
LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                      "numpy-legacy")


def run(*args):
    return subprocess.run([NPIO, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def spec_json(v):
    """The tagged JSON of a Python value, written from shared/spec/json.md."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return {"$float": "nan" if v != v else ("inf" if v > 0 else "-inf")} if v != v or v in (
            float("inf"), float("-inf")) else v
    if isinstance(v, complex):
        return {"$complex": [spec_json(v.real), spec_json(v.imag)]}
    if isinstance(v, bytes):
        return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, bytearray):
        return {"$bytearray": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, list):
        return [spec_json(x) for x in v]
    if isinstance(v, tuple):
        return {"$tuple": [spec_json(x) for x in v]}
    if isinstance(v, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in v):
            return {k: spec_json(x) for k, x in v.items()}
        return {"$dict": [[spec_json(k), spec_json(x)] for k, x in v.items()]}
    if isinstance(v, frozenset):
        return {"$frozenset": [spec_json(x) for x in v]}
    if isinstance(v, set):
        return {"$set": [spec_json(x) for x in v]}
    if isinstance(v, datetime.datetime):
        return {"$datetime": v.strftime("%Y-%m-%dT%H:%M:%S.%f")}
    if isinstance(v, datetime.date):
        return {"$date": v.strftime("%Y-%m-%d")}
    if isinstance(v, datetime.time):
        return {"$time": v.strftime("%H:%M:%S.%f")}
    if isinstance(v, datetime.timedelta):
        return {"$timedelta": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, decimal.Decimal):
        return {"$decimal": str(v)}
    if isinstance(v, type):
        return {"$global": "builtins." + v.__name__}
    if isinstance(v, np.ndarray):
        descr = np.lib.format.dtype_to_descr(v.dtype)
        data = v.tolist()
        if v.dtype.kind == "f" and v.dtype.itemsize < 8 and v.ndim == 1:
            data = [float(str(x)) for x in v]  # shortest text at the element's own precision
        return {"$ndarray": {"dtype": descr, "shape": list(v.shape),
                             "data": walk(data) if v.dtype.hasobject else data}}
    if isinstance(v, np.generic):
        return {"$scalar": {"dtype": np.lib.format.dtype_to_descr(v.dtype), "value": v.item()}}
    raise TypeError(type(v))


def walk(x):
    if isinstance(x, list):
        return [walk(y) for y in x]
    return spec_json(x)


VALUES = [1, "a\u00e9", None, {"k": [1.5, -0.0]}, (1, 2), {3}, frozenset({4}), b"\x00x", bytearray(b"ba"),
          complex(1, -2), datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(1999, 1, 1),
          datetime.time(1, 2, 3), datetime.timedelta(-1, 5, 7), decimal.Decimal("1.50"),
          {1: "int key", "$x": 2}, np.float32(1.5), np.arange(3), np.array([0.1], dtype="<f4"),
          collections.OrderedDict([("b", 1), ("a", 2)]), range, 2**63 - 1, -(2**63), float("inf")]


class TestScan(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def scan(self, path):
        p = run("scan", path)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_object_npy_is_safe(self):
        np.save(self.path("o.npy"), np.array(VALUES[:16], dtype=object), allow_pickle=True)
        code, out, err = self.scan(self.path("o.npy"))
        self.assertEqual(code, 0, out + err)
        self.assertIn("safe      numpy.core.multiarray._reconstruct", out)
        self.assertIn("safe      datetime.datetime", out)
        self.assertNotIn("unknown", out)

    def test_numeric_npy_has_no_pickle(self):
        np.save(self.path("f.npy"), np.arange(3.0))
        code, out, _ = self.scan(self.path("f.npy"))
        self.assertEqual(code, 0)
        self.assertIn("no pickled data", out)

    def test_dangerous_and_unknown(self):
        with open(self.path("evil.pkl"), "wb") as f:
            f.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
        code, out, _ = self.scan(self.path("evil.pkl"))
        self.assertEqual(code, 3, out)
        self.assertIn("dangerous os.system", out)
        with open(self.path("unknown.pkl"), "wb") as f:
            pickle.dump(collections.Counter("aab"), f, protocol=4)
        code, out, _ = self.scan(self.path("unknown.pkl"))
        self.assertEqual(code, 2, out)
        self.assertIn("unknown   collections.Counter", out)
        # dangerous wins over unknown; globals behind STACK_GLOBAL are resolved
        with open(self.path("both.pkl"), "wb") as f:
            f.write(b"\x80\x04\x8c\x0bcollections\x8c\x07Counter\x93)R"
                    b"\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R\x86.")
        code, out, _ = self.scan(self.path("both.pkl"))
        self.assertEqual(code, 3, out)
        self.assertIn("dangerous builtins.eval", out)
        self.assertIn("unknown   collections.Counter", out)
        # fix_imports: Python 2 names are reported mapped
        with open(self.path("py2.pkl"), "wb") as f:
            f.write(b"\x80\x02c__builtin__\neval\nq\x00.")
        code, out, _ = self.scan(self.path("py2.pkl"))
        self.assertEqual(code, 3, out)
        self.assertIn("dangerous builtins.eval", out)

    def test_unreadable(self):
        with open(self.path("t.pkl"), "wb") as f:
            f.write(pickle.dumps({"a": 1}, protocol=4)[:-3])
        code, out, err = self.scan(self.path("t.pkl"))
        self.assertEqual(code, 1)
        self.assertIn("pickle data was truncated", err)
        code, _, err = self.scan(self.path("missing.npy"))
        self.assertEqual(code, 1)

    def test_legacy_files(self):
        code, out, _ = self.scan(os.path.join(LEGACY, "py2-objarr.npy"))
        self.assertEqual(code, 0, out)
        self.assertIn("safe      builtins.range", out)
        self.assertIn("safe      numpy.core.multiarray._reconstruct", out)
        code, out, _ = self.scan(os.path.join(LEGACY, "py2-objarr.npz"))
        self.assertEqual(code, 0, out)
        self.assertIn("py2-objarr.npz:x.npy", out)

    def test_npz_members(self):
        np.savez(self.path("z.npz"), a=np.arange(3), b=np.array([{"x": 1}], dtype=object))
        code, out, _ = self.scan(self.path("z.npz"))
        self.assertEqual(code, 0, out)
        self.assertIn("z.npz:b.npy", out)
        self.assertNotIn("z.npz:a.npy", out)


class TestObjectJson(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def json_of(self, path, *extra):
        p = run("json", "--allow-pickle", *extra, path)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return json.loads(p.stdout)

    def test_object_array_json_follows_the_spec(self):
        a = np.empty(len(VALUES), dtype=object)
        for i, v in enumerate(VALUES):
            a[i] = v
        np.save(self.path("o.npy"), a)
        doc = self.json_of(self.path("o.npy"))
        self.assertEqual(doc["dtype"], "|O")
        self.assertEqual(doc["shape"], [len(VALUES)])
        for i, v in enumerate(VALUES):
            self.assertEqual(doc["data"][i], spec_json(v), f"element {i}: {v!r}")
        # and back: from-json writes an .npy NumPy loads equal
        with open(self.path("o.json"), "w") as f:
            json.dump(doc, f)
        p = run("from-json", self.path("o.json"), self.path("back.npy"))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        b = np.load(self.path("back.npy"), allow_pickle=True)
        self.assertEqual(b.shape, a.shape)
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
            if isinstance(x, np.ndarray):
                self.assertTrue(np.array_equal(x, y) and x.dtype == y.dtype, i)
            else:
                self.assertEqual(type(x) if not isinstance(x, collections.OrderedDict) else dict,
                                 type(y), i)
                self.assertEqual(x, y, i)

    def test_needs_allow_pickle(self):
        np.save(self.path("o.npy"), np.array([1, "a"], dtype=object))
        p = run("json", self.path("o.npy"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("Object arrays cannot be loaded when allow_pickle=False", p.stderr.decode())

    def test_raw_pickle_both_ways(self):
        v = {"a": [1, 2.5, None], "b": (b"x",), 3: {"s"}, "big": [2**100, -(3**90), 2**64 - 1]}
        with open(self.path("v.pkl"), "wb") as f:
            pickle.dump(v, f, protocol=2)
        doc = self.json_of(self.path("v.pkl"))
        self.assertEqual(doc, {"pickle": spec_json(v)})
        with open(self.path("v.json"), "w") as f:
            json.dump(doc, f)
        p = run("from-json", self.path("v.json"), self.path("w.pkl"))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with open(self.path("w.pkl"), "rb") as f:
            self.assertEqual(pickle.load(f), v)

    def test_legacy_py2_with_encodings(self):
        f = os.path.join(LEGACY, "py2-objarr.npy")
        doc = self.json_of(f, "--encoding", "latin1")
        self.assertEqual(doc["data"], [None, {"$global": "builtins.range"}, "\u512a\u826f",
                                       "\u00e4\u00b8\u008d\u00e8\u0089\u00af"])
        doc = self.json_of(f, "--encoding", "bytes")
        self.assertEqual(doc["data"][3], {"$bytes": base64.b64encode(b"\xe4\xb8\x8d\xe8\x89\xaf").decode()})
        p = run("json", "--allow-pickle", f)
        self.assertEqual(p.returncode, 1)
        self.assertIn("'ascii' codec can't decode byte 0xe4", p.stderr.decode())

    def test_inert_objects(self):
        with open(self.path("c.pkl"), "wb") as f:
            pickle.dump(collections.Counter("aab"), f, protocol=4)
        p = run("json", "--allow-pickle", self.path("c.pkl"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("collections.Counter", p.stderr.decode())
        doc = self.json_of(self.path("c.pkl"), "--inert")
        obj = doc["pickle"]["$object"]
        self.assertEqual(obj["class"], "collections.Counter")
        self.assertEqual(obj["args"], [{"a": 2, "b": 1}])
        with open(self.path("c.json"), "w") as f:
            json.dump(doc, f)
        p = run("from-json", self.path("c.json"), self.path("c2.pkl"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("never written back", p.stderr.decode())


if __name__ == "__main__":
    NPIO = sys.argv.pop(1)
    unittest.main()
