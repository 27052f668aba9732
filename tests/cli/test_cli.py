#!/usr/bin/python3
"""The npio command-line tool against NumPy.

Run as `/usr/bin/python3 tests/cli/test_cli.py PATH_TO_npio`.

For every non-object dtype x byte order x C/F order x shape class, NumPy writes
a file and:
- `npio json` must print exactly the document shared/spec/json.md describes,
  compared with a reference encoder written here from the spec (digits of
  floats from NumPy's own shortest round-trip printer, at the element's
  precision);
- `npio from-json` of the reference document must write a file np.load reads
  as the same array, byte-identical to np.save (headers always; data too
  except where x87 long double padding bytes are unspecified);
- `npio info` must report the version, descr, shape, order, data offset and size.
Error cases must give exactly one line `npio: FILE: ...` on stderr and exit 1,
never a signal.
"""

import base64
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile

import numpy as np

NPIO = None  # set from argv in main


# ---- the reference encoder, written from shared/spec/json.md ----------------


class F(str):
    """The text of a JSON number with a fraction or exponent (compared exactly)."""


def repr_style(negative, digits, exp10):
    """Python repr(float) layout of significant digits and the exponent of the first."""
    digits = digits.rstrip("0") or "0"
    n = len(digits)
    decpt = exp10 + 1
    if decpt <= -4 or decpt > 16:
        out = digits[0] + ("." + digits[1:] if n > 1 else "")
        out += "e" + ("-" if exp10 < 0 else "+") + "%02d" % abs(exp10)
    elif decpt <= 0:
        out = "0." + "0" * -decpt + digits
    elif decpt >= n:
        out = digits + "0" * (decpt - n) + ".0"
    else:
        out = digits[:decpt] + "." + digits[decpt:]
    return ("-" if negative else "") + out


def enc_float(x):
    """The float rule: shortest round-trip digits at x's own precision."""
    if np.isnan(x):
        return {"$float": "nan"}
    if np.isinf(x):
        return {"$float": "inf" if x > 0 else "-inf"}
    s = np.format_float_scientific(x, unique=True, trim="-")
    neg = s.startswith("-")
    mant, exp = s.lstrip("-").split("e")
    text = repr_style(neg, mant.replace(".", ""), int(exp))
    if x.dtype == np.float64:
        assert text == repr(float(x)), (text, repr(float(x)))
    return F(text)


def b64(b):
    return {"$bytes": base64.b64encode(bytes(b)).decode("ascii")}


def enc_scalar(v, dt):
    """One element (a NumPy scalar or 0-d value) of dtype dt."""
    if dt.subdtype is not None:
        return enc_nested(np.asarray(v), dt.subdtype[0])
    if dt.names is not None:
        return [enc_scalar(v[name], dt.fields[name][0]) for name in dt.names]
    k = dt.kind
    if k == "b":
        return bool(v)
    if k in "iu":
        return int(v)
    if k == "f":
        return enc_float(dt.type(v))
    if k == "c":
        v = dt.type(v)
        return {"$complex": [enc_float(v.real), enc_float(v.imag)]}
    if k == "S":
        return b64(bytes(v))  # NumPy strips trailing NULs
    if k == "U":
        return str(v)  # NumPy strips trailing NULs
    if k == "V":
        return b64(np.asarray(v).tobytes())
    if k in "Mm":
        if np.isnat(v):
            return None
        return int(np.asarray(v).view(np.int64))
    raise AssertionError("unexpected kind " + k)


def enc_nested(a, base):
    if a.ndim == 0:
        return enc_scalar(a[()], base)
    return [enc_nested(a[i, ...], base) for i in range(a.shape[0])]


def listify(x):
    if isinstance(x, (list, tuple)):
        return [listify(i) for i in x]
    return x


def ref_descr(dt):
    return listify(np.lib.format.dtype_to_descr(dt))


def ref_document(a, fortran_order):
    return {
        "dtype": ref_descr(a.dtype),
        "shape": list(a.shape),
        "fortran_order": fortran_order,
        "data": enc_nested(a, a.dtype),
    }


def ordered(x):
    """Dicts as (key, value) lists so that key order is compared too."""
    if isinstance(x, dict):
        return ("object", [(k, ordered(v)) for k, v in x.items()])
    if isinstance(x, list):
        return [ordered(i) for i in x]
    return x


def parse_output(text):
    return json.loads(
        text,
        parse_float=F,
        object_pairs_hook=lambda pairs: ("object", [(k, v) for k, v in pairs]),
    )


def dump(x):
    """JSON text of a reference value; F values are written as their text."""
    if isinstance(x, F):
        return str(x)
    if isinstance(x, dict):
        return "{" + ", ".join(dump(k) + ": " + dump(v) for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(dump(i) for i in x) + "]"
    return json.dumps(x, ensure_ascii=False)


# ---- test data ---------------------------------------------------------------

LD = np.longdouble
FLOAT_SAMPLES = {
    "f2": [0.0, -0.0, 1.0, 0.1, -2.5, 65504.0, 6.1035e-05, 6e-08, 1e-4, 1e-5, 3.14159,
           float("nan"), float("inf"), float("-inf"), 1000.0, 0.333],
    "f4": [0.0, -0.0, 1.0, 0.1, -2.5, 3.4028235e38, 1.1754944e-38, 1e-45, 1e-4, 1e-5,
           16777217.0, 1e16, 1e15, 123456.789, float("nan"), float("inf"), float("-inf"),
           1 / 3],
    "f8": [0.0, -0.0, 1.0, 0.1, -2.5, 1.7976931348623157e308, 2.2250738585072014e-308, 5e-324,
           1e-4, 1e-5, 1e16, 1e15, 123456.789, 9007199254740993.0, float("nan"), float("inf"),
           float("-inf"), 1 / 3, 2.0 ** 70],
}
LD_SAMPLES = [LD(0), -LD(0), LD(1), LD("0.1"), LD(1) / 3, np.finfo(LD).max, np.finfo(LD).tiny,
              np.finfo(LD).smallest_subnormal, LD("1e-4"), LD("1e16"), LD("1e15"), LD("-2.5"),
              LD("nan"), LD("inf"), -LD("inf"), LD(2) ** 80 + 1]


def int_samples(dt):
    info = np.iinfo(dt)
    return [0, 1, info.max, info.min, info.max // 3, 7 if info.min == 0 else -7]


def samples(dt):
    """A list of values for dtype dt (structured: tuples)."""
    if dt.names is not None:
        cols = []
        for name in dt.names:
            fdt = dt.fields[name][0]
            base, shape = (fdt.subdtype if fdt.subdtype is not None else (fdt, ()))
            vals = samples(base)
            size = int(np.prod(shape)) if shape else 1
            col = []
            for i in range(len(vals)):
                if shape:
                    flat = [vals[(i + j) % len(vals)] for j in range(size)]
                    col.append(np.array(flat, dtype=base).reshape(shape))
                else:
                    col.append(vals[i])
            cols.append(col)
        n = max(len(c) for c in cols)
        return [tuple(c[i % len(c)] for c in cols) for i in range(n)]
    k = dt.kind
    if k == "b":
        return [True, False, False, True]
    if k in "iu":
        return int_samples(dt)
    if k == "f":
        if dt.itemsize > 8:
            return LD_SAMPLES
        return FLOAT_SAMPLES["f%d" % dt.itemsize]
    if k == "c":
        if dt.itemsize > 16:
            r = LD_SAMPLES
        else:
            r = FLOAT_SAMPLES["f%d" % (dt.itemsize // 2)]
        return [(r[i], r[(i * 7 + 3) % len(r)]) for i in range(len(r))]
    if k == "S":
        return [b"", b"a", b"ab\x00c", b"\xff\x00", b"xyzzy"[: dt.itemsize]]
    if k == "U":
        return ["", "h\u00e9", "\U0001f600x", "a\x00b", "\u4e2d\u6587"[: dt.itemsize // 4]]
    if k == "V":
        return [bytes(range(i, i + dt.itemsize)) for i in (0, 100, 250 - dt.itemsize)]
    if k in "Mm":
        return [0, 1, -1, 1234567890, "NaT", 2**62]
    raise AssertionError(k)


def set_element(arr, i, dt, v):
    """arr[i] = v for a 1-d array (or field view) of dtype dt, exactly."""
    if dt.names is not None:
        for j, name in enumerate(dt.names):
            fdt = dt.fields[name][0]
            if fdt.subdtype is not None:
                arr[name][i] = v[j]
            else:
                set_element(arr[name], i, fdt, v[j])
    elif dt.kind == "c":
        # Parts set separately so that inf and nan parts stay exact.
        arr.real[i] = v[0]
        arr.imag[i] = v[1]
    elif dt.kind in "Mm":
        if isinstance(v, str):
            arr[i] = dt.type("NaT")
        else:
            arr.view(np.dtype(np.int64).newbyteorder(dt.byteorder))[i] = v
    else:
        with np.errstate(all="ignore"):
            arr[i] = v


def make_array(dt, shape, fortran):
    """Values of dt shaped `shape` with zeroed padding, C or Fortran ordered."""
    vals = samples(dt)
    n = int(np.prod(shape)) if shape else 1
    flat = np.zeros(n, dtype=dt)
    for i in range(n):
        set_element(flat, i, dt, vals[i % len(vals)])
    a = flat.reshape(shape)
    if fortran:
        # Copy into zeros: a structured copy moves fields, not padding bytes.
        f = np.zeros(shape, dtype=dt, order="F")
        f[...] = a
        a = f
    return a


BASE_DTYPES = [
    "?", "i1", "u1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8",
    np.dtype(LD).newbyteorder("<").str, "<c8", "<c16", np.dtype(np.clongdouble).newbyteorder("<").str,
    "S5", "<U4", "V3", "<M8[ns]", "<M8[D]", "<m8[s]", "<m8[25s]", "<m8",
    [("a", "<i4"), ("b", "<f8", (2,))],
    [(("Title", "t"), "<i2"), ("n", [("x", "u1"), ("y", "<c8")]), ("s", "S3")],
    np.dtype("i1,<i4,i1", align=True),
    [("p", [("q", "<f4"), ("r", "u1")], (2,)), ("z", "<U2")],
    [("u", "<U2"), ("d", "<M8[s]"), ("g", np.dtype(LD).newbyteorder("<").str)],
    [("m", "<i2", (2, 3))],
]

SHAPES = [((), False), ((0,), False), ((3, 0), False), ((5,), False), ((2, 3), False),
          ((2, 3), True), ((2, 1, 3), True)]


def all_dtypes():
    for spec in BASE_DTYPES:
        dt = np.dtype(spec)
        yield dt
        big = dt.newbyteorder(">")
        if big != dt:
            yield big


def has_longdouble(dt):
    if dt.names is not None:
        return any(has_longdouble(dt.fields[n][0]) for n in dt.names)
    if dt.subdtype is not None:
        return has_longdouble(dt.subdtype[0])
    return dt.kind in "fc" and dt.itemsize in (16, 32) and not (dt.kind == "c" and dt.itemsize == 16)


def header_length(raw):
    major = raw[6]
    if major == 1:
        return 10 + struct.unpack("<H", raw[8:10])[0]
    return 12 + struct.unpack("<I", raw[8:12])[0]


# ---- running the tool ----------------------------------------------------------


def run(*args, stdin=None):
    p = subprocess.run([NPIO, *map(str, args)], capture_output=True, timeout=120, input=stdin)
    assert p.returncode >= 0, "npio %s died with signal %d: %s" % (
        " ".join(map(str, args)), -p.returncode, p.stderr.decode(errors="replace"))
    return p


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="npio-cli-")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def assert_one_line_error(self, p, file):
        err = p.stderr.decode("utf-8", errors="replace")
        self.assertEqual(p.returncode, 1, err)
        self.assertTrue(err.endswith("\n"), repr(err))
        self.assertEqual(err.count("\n"), 1, repr(err))
        self.assertTrue(err.startswith("npio: %s: " % file), repr(err))
        self.assertGreater(len(err.strip()), len("npio: %s: " % file), repr(err))
        self.assertEqual(p.stdout, b"", "no partial output on stdout for errors before any data")

    def json_of(self, path, *opts):
        p = run("json", path, *opts)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stderr, b"")
        self.assertTrue(p.stdout.endswith(b"\n"))
        return parse_output(p.stdout.decode("utf-8"))

    def info_of(self, path):
        p = run("info", path)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        out = {}
        for line in p.stdout.decode("utf-8").splitlines():
            if not line.strip():
                continue
            key, _, value = line.partition(":")
            out.setdefault(key.strip(), []).append(value.strip())
        return out


# ---- the dtype x order x shape matrix -----------------------------------------


class TestMatrix(Base):
    def check_one(self, a, fortran, tag):
        src = self.path(tag + ".npy")
        np.save(src, a)
        raw = open(src, "rb").read()
        # NumPy records Fortran order only for F-contiguous, not C-contiguous arrays.
        header_fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)

        # npio json == the reference document.
        expected = ref_document(a, header_fortran)
        self.assertEqual(self.json_of(src), ordered(expected))

        # npio from-json (fed the reference text) writes what np.save writes.
        doc = self.path(tag + ".json")
        with open(doc, "w", encoding="utf-8") as f:
            f.write(dump(expected))
        out = self.path(tag + ".out.npy")
        p = run("from-json", doc, out)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        written = open(out, "rb").read()
        hlen = header_length(raw)
        self.assertEqual(written[:hlen], raw[:hlen], "header differs from np.save")
        if has_longdouble(a.dtype):
            # x87 long doubles leave 6 padding bytes that NumPy does not define:
            # compare the values through NumPy and through a second `npio json`.
            self.assertEqual(len(written), len(raw))
            back = np.load(out)
            self.assertEqual(back.dtype, a.dtype)
            self.assertEqual(back.shape, a.shape)
        else:
            self.assertEqual(written, raw, "data differs from np.save")
            back = np.load(out)
            self.assertEqual(back.dtype, a.dtype)
            self.assertEqual(back.tobytes("A"), a.tobytes("A"))
        self.assertEqual(self.json_of(out), ordered(expected))

        # npio info.
        info = self.info_of(src)
        self.assertEqual(info["format"], ["npy %d.%d" % (raw[6], raw[7])])
        self.assertEqual(info["descr"], [repr(np.lib.format.dtype_to_descr(a.dtype))])
        self.assertEqual(info["shape"], [repr(tuple(a.shape))])
        self.assertEqual(info["order"], ["Fortran" if header_fortran else "C"])
        self.assertEqual(info["data offset"], [str(hlen)])
        self.assertEqual(info["data size"], ["%d bytes" % a.nbytes])
        self.assertTrue(info["dtype"][0])

    def test_matrix(self):
        n = 0
        for dt in all_dtypes():
            for shape, fortran in SHAPES:
                a = make_array(dt, shape, fortran)
                n += 1
                with self.subTest(dtype=str(dt), shape=shape, fortran=fortran):
                    self.check_one(a, fortran, "m%d" % n)


# ---- the float rule over many bit patterns -------------------------------------------


def random_floats(dtype, n, seed):
    """n values of a float dtype from random bit patterns (every class of value)."""
    rng = np.random.default_rng(seed)
    if dtype == np.dtype("<f2"):
        return np.arange(65536, dtype=np.uint32).astype("<u2").view("<f2")
    if dtype.itemsize in (4, 8):
        bits = rng.integers(0, 2 ** (8 * dtype.itemsize), size=n, dtype=np.uint64,
                            endpoint=False)
        return bits.astype("<u%d" % dtype.itemsize).view(dtype)
    # x87 extended: 64-bit significand with an explicit integer bit, 15-bit
    # exponent and a sign; keep to the encodings a CPU produces (no unnormals).
    raw = np.zeros((n, 16), dtype=np.uint8)
    mant = rng.integers(0, 2 ** 63, size=n, dtype=np.uint64)
    se = rng.integers(0, 2 ** 16, size=n, dtype=np.uint64).astype(np.uint16)
    se[: n // 20] &= 0x8000  # some subnormals
    normal = (se & 0x7FFF) != 0
    mant = np.where(normal, mant | np.uint64(1 << 63), mant)
    raw[:, :8] = mant.astype("<u8").view(np.uint8).reshape(n, 8)
    raw[:, 8:10] = se.astype("<u2").view(np.uint8).reshape(n, 2)
    return raw.view(np.longdouble).reshape(n)


class TestFloatRule(Base):
    def check(self, dt, n):
        a = random_floats(np.dtype(dt), n, seed=len(dt))
        src = self.path("r.npy")
        np.save(src, a)
        expected = ref_document(a, False)
        self.assertEqual(self.json_of(src), ordered(expected))
        doc = self.path("r.json")
        with open(doc, "w") as f:
            f.write(dump(expected))
        out = self.path("r.out.npy")
        p = run("from-json", doc, out)
        self.assertEqual(p.returncode, 0, p.stderr)
        back = np.load(out)
        nan = np.isnan(a)
        self.assertTrue(np.array_equal(np.isnan(back), nan))
        # Every non-NaN value comes back exactly, sign of zero included.
        keep = ~nan
        if a.dtype.itemsize == 16:
            got = back[keep].view(np.uint8).reshape(-1, 16)[:, :10]
            want = a[keep].view(np.uint8).reshape(-1, 16)[:, :10]
        else:
            got, want = back[keep].view("u%d" % a.itemsize), a[keep].view("u%d" % a.itemsize)
        self.assertTrue(np.array_equal(got, want))

    def test_every_float16(self):
        self.check("<f2", 65536)

    def test_random_float32(self):
        self.check("<f4", 20000)

    def test_random_float64(self):
        self.check("<f8", 20000)

    def test_random_long_double(self):
        self.check(np.dtype(LD).newbyteorder("<").str, 20000)


# ---- other header forms --------------------------------------------------------


class TestHeaders(Base):
    def write_raw(self, name, header, data):
        path = self.path(name)
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(f, header)
            f.write(data)
        return path

    def test_fortran_flag_on_1d_is_kept(self):
        data = np.arange(3, dtype="<i4")
        path = self.write_raw("f1.npy", {"descr": "<i4", "fortran_order": True, "shape": (3,)},
                              data.tobytes())
        doc = self.json_of(path)
        self.assertEqual(doc, ordered({"dtype": "<i4", "shape": [3], "fortran_order": True,
                                       "data": [0, 1, 2]}))
        # from-json writes the flag it is given.
        src = self.path("f1.json")
        with open(src, "w") as f:
            f.write('{"dtype": "<i4", "shape": [3], "fortran_order": true, "data": [0, 1, 2]}')
        out = self.path("f1.out.npy")
        self.assertEqual(run("from-json", src, out).returncode, 0)
        self.assertEqual(open(out, "rb").read(), open(path, "rb").read())

    def test_fortran_data_in_logical_order(self):
        a = np.asfortranarray(np.arange(24, dtype=">i2").reshape(2, 3, 4))
        src = self.path("f3.npy")
        np.save(src, a)
        doc = self.json_of(src)
        self.assertEqual(doc, ordered({"dtype": ">i2", "shape": [2, 3, 4], "fortran_order": True,
                                       "data": a.tolist()}))

    def test_other_spellings_normalized(self):
        for descr, want in (("float64", "<f8"), ("d", "<f8"), ("=i4", "<i4"), ("?", "|b1")):
            a = np.zeros(2, dtype=want)
            path = self.write_raw("s.npy", {"descr": descr, "fortran_order": False, "shape": (2,)},
                                  a.tobytes())
            self.assertEqual(self.json_of(path)[1][0], ("dtype", want), descr)

    def test_version_2_header(self):
        dt = np.dtype([("f%d_%s" % (i, "x" * 100), "<i2") for i in range(700)])
        a = np.zeros(2, dtype=dt)
        src = self.path("v2.npy")
        np.save(src, a)  # warns: format 2.0
        raw = open(src, "rb").read()
        self.assertEqual(raw[6], 2)
        doc = self.json_of(src, "--max-header-size", "1000000")
        self.assertEqual(doc, ordered(ref_document(a, False)))
        p = run("info", "--max-header-size", "1000000", src)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"npy 2.0", p.stdout)
        # The default limit refuses it, with one error line.
        self.assert_one_line_error(run("json", src), src)

    def test_unicode_field_names(self):
        dt = np.dtype([("\u4e2d", "<i4"), ("caf\u00e9", "<f4")])
        a = np.zeros(2, dtype=dt)
        a["\u4e2d"] = [1, 2]
        src = self.path("u.npy")
        np.save(src, a)
        self.assertEqual(self.json_of(src), ordered(ref_document(a, False)))
        doc = self.path("u.json")
        with open(doc, "w", encoding="utf-8") as f:
            f.write(dump(ref_document(a, False)))
        out = self.path("u.out.npy")
        self.assertEqual(run("from-json", doc, out).returncode, 0)
        self.assertEqual(open(out, "rb").read(), open(src, "rb").read())


# ---- from-json inputs ------------------------------------------------------------


class TestFromJson(Base):
    def from_json(self, text, name="x"):
        src = self.path(name + ".json")
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        out = self.path(name + ".npy")
        return src, out, run("from-json", src, out)

    def test_integer_values_for_floats(self):
        src, out, p = self.from_json('{"dtype": "<f4", "shape": [2], "fortran_order": false, '
                                     '"data": [1, -3]}')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(np.load(out).tolist(), [1.0, -3.0])

    def test_big_integers(self):
        big = 123456789012345678901234567890
        src, out, p = self.from_json('{"dtype": "<f8", "shape": [2], "fortran_order": false, '
                                     '"data": [%d, %d]}' % (big, -big))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(np.load(out).tolist(), [float(big), -float(big)])
        src, out, p = self.from_json('{"dtype": "<u8", "shape": [], "fortran_order": false, '
                                     '"data": %d}' % big, "big2")
        self.assert_one_line_error(p, src)
        self.assertIn(b"out of range", p.stderr)

    def test_subarray_dtype_at_top_level(self):
        # np.zeros(3, ('<f8', (2,))) is a (3, 2) float64 array; from-json agrees,
        # in either order.
        for fortran in (False, True):
            src, out, p = self.from_json(
                '{"dtype": ["<f8", [2]], "shape": [3], "fortran_order": %s, '
                '"data": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}' % ("true" if fortran else "false"),
                "sub%d" % fortran)
            self.assertEqual(p.returncode, 0, p.stderr)
            want = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
            if fortran:
                want = np.asfortranarray(want)
            buf = io.BytesIO()
            np.save(buf, want)
            self.assertEqual(open(out, "rb").read(), buf.getvalue())

    def test_no_suffix_added(self):
        src, _, _ = self.from_json('{"dtype": "|u1", "shape": [], "fortran_order": false, '
                                   '"data": 7}')
        out = self.path("plain")
        self.assertEqual(run("from-json", src, out).returncode, 0)
        self.assertTrue(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".npy"))
        self.assertEqual(np.load(out)[()], 7)

    def test_bad_documents(self):
        bad = {
            "syntax": '{"dtype": "<f8", ',
            "not_object": "[1, 2]",
            "bad_dtype": '{"dtype": "<q9", "shape": [1], "fortran_order": false, "data": [1]}',
            "short_data": '{"dtype": "<i4", "shape": [2, 2], "fortran_order": false, '
                          '"data": [[1, 2], [3]]}',
            "wrong_type": '{"dtype": "<i4", "shape": [2], "fortran_order": false, '
                          '"data": [1, "x"]}',
            "overflow": '{"dtype": "|i1", "shape": [1], "fortran_order": false, "data": [128]}',
            "negative_shape": '{"dtype": "<i4", "shape": [-1], "fortran_order": false, '
                              '"data": []}',
            "duplicate_key": '{"dtype": "<i4", "dtype": "<i8", "shape": [], '
                             '"fortran_order": false, "data": 1}',
            "unknown_key": '{"dtype": "<i4", "shape": [], "fortran_order": false, "data": 1, '
                           '"x": 0}',
            "bad_base64": '{"dtype": "|S3", "shape": [], "fortran_order": false, '
                          '"data": {"$bytes": "!!"}}',
            "bytes_too_long": '{"dtype": "|S1", "shape": [], "fortran_order": false, '
                              '"data": {"$bytes": "YWI="}}',
            "text_too_long": '{"dtype": "<U1", "shape": [], "fortran_order": false, '
                             '"data": "ab"}',
            "float_range": '{"dtype": "<f4", "shape": [], "fortran_order": false, '
                           '"data": 1e39}',
            "bad_float_tag": '{"dtype": "<f8", "shape": [], "fortran_order": false, '
                             '"data": {"$float": "nope"}}',
            "huge_shape": '{"dtype": "<f8", "shape": [4294967296, 4294967296], '
                          '"fortran_order": false, "data": []}',
            "empty": "",
        }
        for name, text in bad.items():
            with self.subTest(name):
                src, out, p = self.from_json(text, name)
                self.assert_one_line_error(p, src)
                self.assertFalse(os.path.exists(out))
                self.assertEqual([f for f in os.listdir(self.dir) if ".npio-" in f], [])


# ---- errors --------------------------------------------------------------------------


class TestErrors(Base):
    def saved(self, name="a.npy"):
        path = self.path(name)
        np.save(path, np.arange(10, dtype="<f8"))
        return path

    def test_nonexistent(self):
        path = self.path("missing.npy")
        for cmd in ("json", "info"):
            with self.subTest(cmd):
                self.assert_one_line_error(run(cmd, path), path)
        self.assert_one_line_error(run("from-json", path, self.path("o.npy")), path)

    def test_truncated(self):
        raw = open(self.saved(), "rb").read()
        for cut in (1, 8, len(raw) - 80, len(raw) - 100, 3, len(raw)):
            path = self.path("t%d.npy" % cut)
            with open(path, "wb") as f:
                f.write(raw[:-cut] if cut < len(raw) else b"")
            for cmd in ("json", "info"):
                with self.subTest(cmd=cmd, cut=cut):
                    self.assert_one_line_error(run(cmd, path), path)

    def test_bad_magic(self):
        raw = bytearray(open(self.saved(), "rb").read())
        raw[1:6] = b"NUMPX"
        path = self.path("magic.npy")
        open(path, "wb").write(raw)
        for cmd in ("json", "info"):
            with self.subTest(cmd):
                self.assert_one_line_error(run(cmd, path), path)

    def test_bad_header(self):
        for name, header in (
            ("keys", b"{'descr': '<f8', 'shape': (1,), }"),
            ("syntax", b"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), "),
            ("descr", b"{'descr': '<x9', 'fortran_order': False, 'shape': (1,), }"),
            ("shape", b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"),
        ):
            header += b" " * (117 - len(header)) + b"\n"
            path = self.path(name + ".npy")
            open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
                                   header + b"\0" * 8)
            for cmd in ("json", "info"):
                with self.subTest(cmd=cmd, case=name):
                    self.assert_one_line_error(run(cmd, path), path)

    def test_directory(self):
        for cmd in ("json", "info"):
            with self.subTest(cmd):
                self.assert_one_line_error(run(cmd, self.dir), self.dir)

    def test_info_on_a_pickle(self):
        import pickle
        path = self.path("p.pkl")
        data = pickle.dumps([1, "a"], protocol=4)
        open(path, "wb").write(data)
        info = self.info_of(path)
        self.assertEqual(info["format"], ["pickle, protocol 4"])
        self.assertEqual(info["size"], ["%d bytes" % len(data)])

    def test_object_array_needs_allow_pickle(self):
        path = self.path("obj.npy")
        np.save(path, np.array([1, "a", None], dtype=object))
        self.assert_one_line_error(run("json", path), path)

    def test_corrupted_files_never_crash(self):
        rng = random.Random(2)
        base = io.BytesIO()
        a = np.zeros(3, dtype=[("a", "<i4"), ("b", ">U2", (2,)), ("c", "<c16")])
        np.save(base, a)
        raw = base.getvalue()
        path = self.path("fuzz.npy")
        for i in range(60):
            b = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            if i % 5 == 0:
                b = b[: rng.randrange(len(b))]
            open(path, "wb").write(b)
            for cmd in ("json", "info"):
                p = run(cmd, path)
                self.assertIn(p.returncode, (0, 1))
                if p.returncode == 1:
                    self.assert_one_line_error(p, path)

    def test_usage(self):
        for args in ((), ("json",), ("info", "a", "b"), ("nope",), ("json", "--encoding", "x", "f")):
            with self.subTest(args=args):
                p = run(*args)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertTrue(p.stderr.startswith(b"npio: "))
                self.assertEqual(p.stderr.count(b"\n"), 1, p.stderr)

    def test_help_everywhere(self):
        for args in (("--help",), ("info", "--help"), ("json", "--help"),
                     ("from-json", "--help"), ("json", "-h")):
            with self.subTest(args=args):
                p = run(*args)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(b"Usage", p.stdout)


# ---- .npz ----------------------------------------------------------------------------


class TestNpz(Base):
    def test_npz_json_info_and_back(self):
        a = np.arange(6, dtype=">f4").reshape(2, 3)
        b = np.array([b"x", b"yz"])
        path = self.path("z.npz")
        np.savez(path, first=a, second=np.asfortranarray(np.ones((2, 2), "<i2")), b=b)
        with zipfile.ZipFile(path, "a") as z:
            z.writestr("notes.txt", b"hello")
        doc = self.json_of(path)
        expected = {"members": {
            "first": ref_document(a, False),
            "second": ref_document(np.ones((2, 2), "<i2"), True),
            "b": ref_document(b, False),
            "notes.txt": b64(b"hello"),
        }}
        self.assertEqual(doc, ordered(expected))
        info = self.info_of(path)
        self.assertEqual(info["format"][0], "npz archive, 4 members")
        self.assertEqual(len(info["member"]), 4)
        self.assertEqual(info["shape"], ["(2, 3)", "(2, 2)", "(2,)"])
        self.assertEqual(info["order"], ["C", "Fortran", "C"])

        del expected["members"]["notes.txt"]
        src = self.path("z.json")
        open(src, "w").write(dump(expected))
        out = self.path("z.out")
        p = run("from-json", src, out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(out + ".npz"))
        with np.load(out) as z:
            self.assertEqual(z.files, ["first", "second", "b"])
            self.assertEqual(z["first"].dtype, a.dtype)
            np.testing.assert_array_equal(z["first"], a)
            np.testing.assert_array_equal(z["b"], b)


    def test_compressed_archive(self):
        a = np.arange(12, dtype=">u2").reshape(3, 4)
        b = np.array(["x", "\u00e9\u00e9"], dtype="<U2")
        path = self.path("c.npz")
        np.savez_compressed(path, a=a, b=b)
        self.assertEqual(self.json_of(path), ordered({"members": {
            "a": ref_document(a, False), "b": ref_document(b, False)}}))
        info = self.info_of(path)
        self.assertEqual(info["shape"], ["(3, 4)", "(2,)"])
        self.assertEqual(info["descr"], ["'>u2'", "'<U2'"])
        self.assertTrue(all("deflated" in m for m in info["member"]), info["member"])

    def test_truncated_archive(self):
        path = self.path("t.npz")
        np.savez(path, a=np.arange(100))
        raw = open(path, "rb").read()
        open(path, "wb").write(raw[: len(raw) // 2])
        for cmd in ("json", "info"):
            with self.subTest(cmd):
                self.assert_one_line_error(run(cmd, path), path)


# ---- runner ----------------------------------------------------------------------------


class CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0
        self.failed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed += 1

    def addError(self, test, err):
        super().addError(test, err)
        self.failed += 1

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            self.passed += 1
        else:
            self.failed += 1


def main():
    global NPIO
    if len(sys.argv) < 2:
        print("usage: test_cli.py PATH_TO_npio [unittest args]", file=sys.stderr)
        return 2
    NPIO = os.path.abspath(sys.argv[1])
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    if len(sys.argv) > 2:
        suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[2:], sys.modules[__name__])
    runner = unittest.TextTestRunner(resultclass=CountingResult, verbosity=1)
    result = runner.run(suite)
    print("%d passed, %d failed" % (result.passed, result.failed))
    return 0 if result.wasSuccessful() and result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
