"""Regression tests for the pickle decoding bugs of issue 9, each checked
against CPython / NumPy run here: `npio json --allow-pickle` must give the
value pickle.loads gives (in shared/spec/json.md form), or refuse where
CPython refuses.

Usage: /usr/bin/python3 test_pickle_decode.py PATH_TO_npio
"""
import collections
import datetime
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

NPIO = None


def npio_json(data, *extra):
    """(exit code, JSON document with numbers as text or None, stderr bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.pkl")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run([NPIO, "json", "--allow-pickle", *extra, path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    doc = json.loads(p.stdout, parse_float=str) if p.returncode == 0 else None
    return p.returncode, doc, p.stderr


def cpython(data):
    """('ok', value) or ('error', message)."""
    try:
        return "ok", pickle.loads(data)
    except Exception as e:  # noqa: BLE001
        return "error", f"{type(e).__name__}: {e}"


def reduce_stream(module, name, args_ops, proto=2):
    """A protocol-2 stream calling module.name(*args) through REDUCE; args_ops
    are the opcodes that push the arguments (between MARK and TUPLE)."""
    return (b"\x80" + bytes([proto]) + b"c" + module.encode() + b"\n" + name.encode() + b"\n(" +
            args_ops + b"tR.")


def uni(s):
    b = s.encode("utf-8", "surrogatepass")
    return b"X" + len(b).to_bytes(4, "little") + b


def binint(i):
    return b"J" + (i & 0xffffffff).to_bytes(4, "little")


def long1(i):
    n = (i.bit_length() + 8) // 8
    return b"\x8a" + bytes([n]) + i.to_bytes(n, "little", signed=True)


class Decode(unittest.TestCase):
    def same(self, data, want_json=None):
        """npio agrees with CPython on accept/refuse; when want_json is given it
        is the expected "pickle" value."""
        state, val = cpython(data)
        rc, doc, err = npio_json(data)
        if state == "error":
            self.assertNotEqual(rc, 0, f"npio accepts {data!r}; CPython: {val}")
            return None
        self.assertEqual(rc, 0, f"npio refuses {data!r} ({err!r}); CPython gives {val!r}")
        if want_json is not None:
            self.assertEqual(doc["pickle"], want_json, data)
        return doc["pickle"]

    # ---- big ints ----
    def test_int_text_limit(self):
        for op, tail in ((b"L", b"L\n."), (b"I", b"\n.")):
            ok = op + b"7" * 4300 + tail
            self.assertEqual(self.same(ok), int("7" * 4300))
            bad = op + b"7" * 4301 + tail
            self.assertEqual(cpython(bad)[0], "error")
            rc, _, err = npio_json(bad)
            self.assertNotEqual(rc, 0)
            self.assertIn(b"4300 digits", err)

    def test_huge_binary_int_is_refused_quickly(self):
        # a 1 MB LONG4: loads in linear time; str() of it is refused as CPython's is
        n = 10**6
        data = b"\x80\x02\x8b" + n.to_bytes(4, "little") + b"\x5a" * n + b"."
        t = time.time()
        rc, _, err = npio_json(data)
        self.assertNotEqual(rc, 0)
        self.assertIn(b"Exceeds the limit (4300 digits) for integer string conversion", err)
        print(f"  1 MB LONG4: npio json refused in {time.time() - t:.3f} s", file=sys.stderr)
        with self.assertRaises(ValueError):
            str(pickle.loads(data))
        # just under the limit prints exactly
        v = 10**4299 + 12345
        self.assertEqual(self.same(pickle.dumps(v, 2)), v)
        self.assertEqual(self.same(pickle.dumps(-v, 0)), -v)

    def test_int_and_long_text_as_cpython(self):
        for t in [b"010", b"0x10", b" 12", b"12 ", b"1_0", b"+5", b"-0x1f", b"0x_1", b"1__0",
                  b"0b101", b"0o17", b"00", b"01", b"+0", b"-1", b"010 ", b"1_", b"_1",
                  b"99999999999999999999", b"-9223372036854775809", b"0X10", b"1\x002",
                  b"", b"x", b"  ", b"0_0", b"0_7"]:
            for op, tail in ((b"I", b"\n."), (b"L", b"\n."), (b"L", b"L\n.")):
                data = op + t + tail
                got = self.same(data)
                state, val = cpython(data)
                if state == "ok":
                    self.assertEqual(got, val, data)

    def test_float_text_as_cpython(self):
        for t in [b"1.5", b"1.5 ", b" 1.5", b"1e400", b"-1e400", b"1e-400", b"inf", b"-Infinity",
                  b"nan", b"-nan", b"1_0.5", b"0x1p3", b"1.5\r", b"1.5\t", b"+1.5", b"iNf",
                  b".5", b"5.", b"1e5", b"1e", b"e5", b".", b"1.5\x00junk", b"infinityx"]:
            data = b"F" + t + b"\n."
            got = self.same(data)
            state, val = cpython(data)
            if state == "ok":
                if val != val:
                    self.assertEqual(got, {"$float": "nan"})
                elif val in (float("inf"), float("-inf")):
                    self.assertEqual(got, {"$float": "inf" if val > 0 else "-inf"})
                else:
                    self.assertEqual(got, repr(val), data)

    # ---- structured dtypes ----
    def test_structured_byte_orders_every_protocol(self):
        layouts = []
        for a in ("<i2", ">i2"):
            for b in ("<f4", ">f4"):
                layouts.append([("a", a), ("b", b)])
                layouts.append(np.dtype({"names": ["a", "b"], "formats": [a, b],
                                         "offsets": [0, 8], "itemsize": 16}))
                layouts.append([("a", a), ("b", b, (2,))])
                layouts.append(np.dtype([("a", a), ("b", b)], align=True))
        for dt in layouts:
            arr = np.zeros(2, dtype=dt)
            arr["a"] = [1, -300]
            arr["b"] = 2.0 if np.dtype(dt)["b"].shape == () else [[2.0, 0.5], [-1.0, 3.0]]
            for proto in range(6):
                data = pickle.dumps(arr, protocol=proto)
                back = pickle.loads(data)
                rc, doc, err = npio_json(data)
                self.assertEqual(rc, 0, err)
                nd = doc["pickle"]["$ndarray"]
                want_descr = json.loads(json.dumps(np.lib.format.dtype_to_descr(back.dtype)))
                self.assertEqual(nd["dtype"], want_descr, (dt, proto))
                want = json.loads(json.dumps(np.array(back.tolist(), dtype=object).tolist(),
                                             default=lambda x: x.tolist()), parse_float=str)
                self.assertEqual(nd["data"], [list(w) for w in want], (dt, proto))

    def test_issue_example(self):
        data = pickle.dumps(np.array([(1, 2.0)], dtype=[("a", "<i2"), ("b", ">f4")]), protocol=2)
        nd = self.same(data)["$ndarray"]
        self.assertEqual(nd["dtype"], [["a", "<i2"], ["b", ">f4"]])
        self.assertEqual(nd["data"], [[1, "2.0"]])
        data = pickle.dumps(np.array([(1, 2)], dtype=[("a", ">i4"), ("b", ">i4")]), protocol=2)
        self.assertEqual(self.same(data)["$ndarray"]["dtype"], [["a", ">i4"], ["b", ">i4"]])
        # a simple big-endian array comes back native, as NumPy gives it
        data = pickle.dumps(np.array([1, 2], dtype=">i4"), protocol=2)
        self.assertEqual(self.same(data)["$ndarray"]["dtype"], "<i4")

    # ---- float precision ----
    def test_floats_at_their_own_precision(self):
        fi = np.finfo(np.longdouble)
        for proto in range(6):
            data = pickle.dumps([fi.max, fi.tiny, np.float16(0.1), np.array([0.1], np.float16),
                                 np.array([fi.max]), np.float32(0.1),
                                 np.complex64(complex(0.1, -0.0))], protocol=proto)
            got = self.same(data)
            self.assertEqual(np.longdouble(got[0]["$scalar"]["value"]), fi.max)
            self.assertNotIn("$float", json.dumps(got[0]))
            self.assertEqual(np.longdouble(got[1]["$scalar"]["value"]), fi.tiny)
            self.assertEqual(got[2]["$scalar"]["value"], "0.1")
            self.assertEqual(got[3]["$ndarray"]["data"], ["0.1"])
            self.assertEqual(np.longdouble(got[4]["$ndarray"]["data"][0]), fi.max)
            self.assertEqual(got[5]["$scalar"]["value"], "0.1")
            self.assertEqual(got[6]["$scalar"]["value"], {"$complex": ["0.1", "-0.0"]})

    def test_complex_keeps_negative_zero(self):
        for proto in range(6):
            for c in (complex(1.5, -0.0), complex(-0.0, -0.0), complex(0.0, -2.5)):
                data = pickle.dumps(c, protocol=proto)
                self.same(data, {"$complex": [repr(c.real), repr(c.imag)]})
        # complex(r, i) with complex arguments, as complex_new computes it
        inner = pickle.dumps(complex(1, -0.0), 2)[2:-1]
        for args in (inner + b"G" + struct.pack(">d", 3.0), b"G" + struct.pack(">d", 3.0) + inner,
                     inner + inner, inner):
            data = reduce_stream("__builtin__", "complex", args)
            state, val = cpython(data)
            self.same(data, {"$complex": [repr(val.real), repr(val.imag)]})

    # ---- strict argument checks ----
    def test_datetime_fields_do_not_wrap(self):
        for args in ([2**32 + 2020, 1, 2], [2020, 2**32 + 1, 2], [2020, 1, 2, 2**31 + 1],
                     [2020, 1, 2, 0, 0, 0, 2**32 + 5], [2020, 1, 2]):
            ops = b"".join(long1(a) for a in args)
            for cls in ("datetime", "date"):
                if cls == "date" and len(args) != 3:
                    continue
                self.same(reduce_stream("datetime", cls, ops))
        self.same(reduce_stream("datetime", "time", long1(2**32 + 1)))
        self.same(reduce_stream("datetime", "time", binint(5) + binint(6)))

    def test_timedelta_all_seven_arguments(self):
        for args in ([1, 2, 3, 4], [0, 0, 0, 0, 5], [0, 0, 0, 0, 0, 7], [1, 2, 3, 4, 5, 6, 7],
                     [0, 0, 0, 0, 0, 0, -2], [999999999, 86399, 999999, 1],
                     [-999999999, 0, 0, 0, 0, 0, -1], [1, 2, 3, 4, 5, 6, 7, 8]):
            data = reduce_stream("datetime", "timedelta", b"".join(binint(a) for a in args))
            state, val = cpython(data)
            want = ({"$timedelta": [val.days, val.seconds, val.microseconds]}
                    if state == "ok" else None)
            self.same(data, want)

    def test_newobj_on_mutable_builtins_is_empty(self):
        for cls, arg in (("list", b"]K\x01a"), ("set", b"]K\x01a"), ("dict", b"]"),
                         ("bytearray", b"C\x02ab")):
            data = (b"\x80\x02c__builtin__\n" + cls.encode() + b"\n" + b"(" + arg + b"t\x81.")
            state, val = cpython(data)
            self.assertEqual(state, "ok")
            self.assertEqual(len(val), 0)
            got = self.same(data)
            if isinstance(got, dict) and len(got) == 1 and next(iter(got)).startswith("$"):
                got = next(iter(got.values()))
            self.assertFalse(got, (cls, got))
        # tuple and frozenset take their items in __new__
        data = b"\x80\x02c__builtin__\ntuple\n(]K\x01at\x81."
        self.same(data, {"$tuple": [1]})

    def test_int_with_base(self):
        for s, base in (("ff", 16), ("0xff", 16), ("0xff", 0), ("077", 8), ("0o77", 0),
                        ("1__0", 10), ("1_0", 10), ("_1", 10), ("z", 36), ("12", 2), ("12", 37),
                        ("12", 1), ("010", 0), ("0", 0), (" 11 ", 2), ("0b_1", 0), ("7" * 4301, 10),
                        ("f" * 3000, 16)):
            data = reduce_stream("__builtin__", "int", uni(s) + binint(base))
            state, val = cpython(data)
            self.same(data, val if state == "ok" else None)
        # int(str) without a base: Python's rules, not '0x' prefixes
        for s in ("12", " 12 ", "1_2", "0x12", "1__2", "", "-7"):
            data = reduce_stream("__builtin__", "int", uni(s))
            state, val = cpython(data)
            self.same(data, val if state == "ok" else None)
        # an int with a base is refused
        self.same(reduce_stream("__builtin__", "int", binint(5) + binint(10)))

    def test_unhashable_inside_keys_and_set_items(self):
        # {(1, [2]): 0}
        self.same(b"\x80\x02}K\x01]K\x02a\x86K\x00s.")
        # {frozenset(): 0, (1, (2, {})): 1}
        self.same(b"\x80\x02}K\x01K\x02}\x86\x86K\x01s.")
        # set items: a tuple holding a list
        self.same(b"\x80\x04\x8f(K\x01]\x86\x90.")
        # frozenset items
        self.same(b"\x80\x04(K\x01]\x86\x91.")
        # hashable tuple keys are fine
        self.same(b"\x80\x02}K\x01K\x02\x86K\x00s.", {"$dict": [[{"$tuple": [1, 2]}, 0]]})

    def test_decimal_text_is_validated(self):
        for t in ("abc", "", "1.5", " 1.5 ", "1_000", "1e5", "-Infinity", "sNaN12", "NaNx",
                  "1..5", "e5", ".5", "5.", "+1E-7", "1_", "in f", "_1", "1._5", "1e_5", "_",
                  "1 _", " _1", "\t1\n", "\x0c1", "NaN_1", "In_f"):
            data = reduce_stream("decimal", "Decimal", uni(t))
            state, val = cpython(data)
            # the text the pickle carries, as Decimal keeps it (no space, no '_')
            want = t.strip().replace("_", "")
            self.same(data, {"$decimal": want} if state == "ok" else None)

    def test_codecs_encode_refuses_surrogates(self):
        for s, enc in (("\ud800", "utf-8"), ("a\udfffb", "utf-8"), ("\ud800", "latin1"),
                       ("ok", "utf-8"), ("\u00e9", "ascii")):
            data = reduce_stream("_codecs", "encode", uni(s) + uni(enc))
            state, val = cpython(data)
            self.same(data)
        data = reduce_stream("__builtin__", "bytes", uni("\ud800") + uni("utf-8"))
        self.same(data)

    def test_build_on_plain_dict_refused(self):
        # BUILD {} on a dict: CPython refuses ('dict' object has no attribute '__dict__')
        self.same(b"\x80\x02}}b.")
        self.same(b"\x80\x02}K\x01K\x02s}U\x01aK\x01sb.")
        # BUILD None is a no-op
        self.same(b"\x80\x02}Nb.", {})
        # an OrderedDict takes instance attributes
        data = b"\x80\x02ccollections\nOrderedDict\n)R}U\x01aK\x01sb."
        self.same(data, {})

    # ---- messages ----
    def test_messages_escape_control_characters(self):
        for name in (b"os\x1b[2K\rsafe", b"x\xff\xfey", b"a\nb", b"\xc2\x85z"):
            data = b"\x80\x02c" + name + b"\nsystem\n)R."
            rc, _, err = npio_json(data)
            self.assertNotEqual(rc, 0)
            body = err.rstrip(b"\n")
            self.assertNotIn(b"\x1b", body)
            self.assertNotIn(b"\r", body)
            self.assertNotIn(b"\n", body, err)
            body.decode("utf-8")  # valid UTF-8
            self.assertNotIn(b"\xc2\x85", body)

    # ---- $global and $object ----
    def test_global_only_for_builtin_types(self):
        import _codecs
        for v in (range, int, slice):
            for proto in range(6):
                self.same(pickle.dumps(v, protocol=proto), {"$global": "builtins." + v.__name__})
        for v, q in ((np.ndarray, "numpy.ndarray"), (collections.OrderedDict,
                                                     "collections.OrderedDict"),
                     (_codecs.encode, "_codecs.encode")):
            for proto in (0, 2, 4):
                data = pickle.dumps(v, protocol=proto)
                rc, _, err = npio_json(data)
                self.assertNotEqual(rc, 0)
                self.assertIn(b"no JSON form", err)
                rc, doc, err = npio_json(data, "--inert")
                self.assertEqual(rc, 0, err)
                self.assertEqual(doc["pickle"], {"$object": {"class": q, "args": [],
                                                             "state": None}})

    def test_timezone_needs_inert(self):
        for tz in (datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=2))):
            for proto in (0, 2, 4):
                data = pickle.dumps(tz, protocol=proto)
                rc, _, err = npio_json(data)
                self.assertNotEqual(rc, 0)
                self.assertIn(b"no JSON form", err)
                rc, doc, err = npio_json(data, "--inert")
                self.assertEqual(rc, 0, err)
                self.assertEqual(doc["pickle"]["$object"]["class"], "datetime.timezone")


if __name__ == "__main__":
    NPIO = sys.argv.pop(1)
    unittest.main(verbosity=1)
