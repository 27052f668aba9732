#!/usr/bin/python3
"""Golden .npy files written by real NumPy, the oracle of npio's tests.

Run as `/usr/bin/python3 generate.py GOLDEN_DIR` (ctest does, as a fixture).
Writes only GOLDEN_DIR/npy/ (wiped first):

  *.npy          files written by np.save (and a few legacy headers made by hand)
  *.bin          a.tobytes('C') of what NumPy loads, in the file's own byte order
  *.native.bin   the same elements byte-swapped to native order (non-native files)
  manifest.tsv   one row per .npy file (read by tests/unit/golden_tests.cpp)
  manifest.json  the same rows as JSON, for people and other tools
  dtypes.tsv     dtype spellings -> what np.dtype makes of them
  records.tsv    np.dtype([...], align=...) -> offsets, itemsize, descr
  astype.tsv     source file, target dtype, NumPy's astype result file

Everything is deterministic (seeded RNG, padding bytes zeroed) and takes a
second or two. See docs/testing.md.
"""

import io
import json
import os
import pprint
import shutil
import struct
import sys
import warnings

import numpy as np

SEED = 20261122
MAGIC = b"\x93NUMPY"


def descr_repr(dt):
    """The descr text np.save puts in the header."""
    return repr(np.lib.format.dtype_to_descr(dt))


def shape_text(shape):
    return ",".join(str(int(n)) for n in shape)


class Golden:
    def __init__(self, out):
        self.out = out
        self.rows = []
        self.names = set()
        self.rng = np.random.default_rng(SEED)

    # ---- element values -------------------------------------------------

    def fill(self, dt, shape):
        """A native-order-independent array of `dt` (its own byte order) with
        varied, valid values and zeroed padding."""
        n = int(np.prod(shape, dtype=np.int64))
        flat = self.values(dt, n)
        return flat.reshape(shape)

    def values(self, dt, n):
        rng = self.rng
        k = dt.kind
        if dt.names is not None:
            a = np.zeros(n, dt)
            for name in dt.names:
                view = a[name]  # shape (n,) + subarray shape, dtype the field's base
                view[...] = self.values(view.dtype, view.size).reshape(view.shape)
            return a
        if dt.subdtype is not None:
            raise AssertionError("top-level subarray")
        if k == "b":
            return rng.integers(0, 2, n).astype(dt)
        if k in "iu":
            info = np.iinfo(dt)
            v = rng.integers(info.min, info.max, n, endpoint=True, dtype=dt.newbyteorder("="))
            special = [info.min, info.max, 0, 1]
            v[: min(n, 4)] = special[: min(n, 4)]
            return v.astype(dt)
        if k == "f":
            return self.floats(dt, n)
        if k == "c":
            part = np.dtype(f"f{dt.itemsize // 2}").newbyteorder(dt.byteorder)
            re, im = self.floats(part, n), self.floats(part, n)[::-1].copy()
            v = np.empty(n, dt)
            v.real, v.imag = re, im
            if dt.itemsize == 32:
                zero_ld_padding(v.view(part))
            return v
        if k == "S":
            size = dt.itemsize
            out = []
            for i in range(n):
                length = int(rng.integers(0, size + 1)) if i else size
                out.append(bytes(rng.integers(1, 256, length, dtype=np.uint8)))
            return np.array(out, dtype=dt)
        if k == "U":
            alphabet = "abcXYZ09 _-é中文😀\u00ff\u0100\t"
            out = []
            for i in range(n):
                length = int(rng.integers(0, dt.itemsize // 4 + 1)) if i else dt.itemsize // 4
                out.append("".join(alphabet[j] for j in rng.integers(0, len(alphabet), length)))
            return np.array(out, dtype=dt)
        if k == "V":
            return np.frombuffer(rng.bytes(n * dt.itemsize), dtype=dt).copy() if dt.itemsize else np.zeros(n, dt)
        if k in "Mm":
            v = rng.integers(-(10**6), 10**6, n, dtype=np.int64)
            if n > 2:
                v[2] = np.iinfo(np.int64).min  # NaT
            return v.astype(np.dtype("i8").newbyteorder(dt.byteorder)).view(dt)
        raise AssertionError(dt)

    def floats(self, dt, n):
        native = dt.newbyteorder("=")
        if native.itemsize == 16:
            v = (self.rng.standard_normal(n) * 1000).astype(native)
            special = [np.longdouble(1) / 3, np.inf, -np.inf, np.nan, -0.0,
                       np.finfo(np.longdouble).tiny / 4, np.finfo(np.longdouble).max]
        else:
            v = (self.rng.standard_normal(n) * 1000).astype(native)
            fi = np.finfo(native)
            special = [1 / 3, np.inf, -np.inf, np.nan, -0.0, fi.tiny / 4, fi.max]
        with np.errstate(all="ignore"):
            m = min(n, len(special))
            v[:m] = np.array(special[:m], dtype=native)
        r = v.astype(dt)
        if native.itemsize == 16:
            zero_ld_padding(r)
        return r

    # ---- writing --------------------------------------------------------

    def path(self, name):
        return os.path.join(self.out, name)

    def add_saved(self, name, a, group, base="-", ops="-", max_header=0):
        """np.save(a) as NAME.npy and record it."""
        assert name not in self.names, name
        self.names.add(name)
        fn = name + ".npy"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Stored array in format 2.0/3.0"
            np.save(self.path(fn), a)
        self.record(name, fn, group, save=fn, base=base, ops=ops, max_header=max_header)
        return fn

    def add_raw(self, name, raw, group, max_header=0):
        """A hand-made file: NumPy must load it; its canonical np.save form is
        written as NAME.save.npy (what npio's writer must produce for it)."""
        assert name not in self.names, name
        self.names.add(name)
        fn = name + ".npy"
        with open(self.path(fn), "wb") as f:
            f.write(raw)
        loaded = np.load(self.path(fn), max_header_size=max(10000, max_header))
        canon = name + ".save.npy"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            np.save(self.path(canon), loaded)
        self.record(name, fn, group, save=canon, max_header=max_header)

    def record(self, name, fn, group, save, base="-", ops="-", max_header=0):
        p = self.path(fn)
        with open(p, "rb") as f:
            version = np.lib.format.read_magic(f)
            shape, fortran, dt = np.lib.format._read_array_header(
                f, version, max_header_size=max(10000, max_header))
            data_offset = f.tell()
        a = np.load(p, max_header_size=max(10000, max_header))
        assert a.dtype == dt and a.shape == shape
        binf = name + ".bin"
        with open(self.path(binf), "wb") as f:
            f.write(a.tobytes("C"))
        native_bin, native_str = "-", "-"
        # not dt.isnative: NumPy 1.24 calls structs with big-endian subarray fields native
        if dt != dt.newbyteorder("="):
            nat = a.byteswap().view(dt.newbyteorder("="))
            if dt.names is not None:
                # NumPy's byteswap leaves struct padding undefined: keep the file's
                keep = np.tile(~covered(dt), a.size)
                raw = np.frombuffer(nat.tobytes("C"), np.uint8).copy()
                raw[keep] = np.frombuffer(a.tobytes("C"), np.uint8)[keep]
                nat = np.frombuffer(raw.tobytes(), nat.dtype).reshape(a.shape)
            native_bin = name + ".native.bin"
            with open(self.path(native_bin), "wb") as f:
                f.write(nat.tobytes("C"))
            native_str = nat.dtype.str
        self.rows.append({
            "name": name,
            "file": fn,
            "group": group,
            "version": "%d.%d" % version,
            "descr": descr_repr(dt),
            "str": dt.str,
            "itemsize": dt.itemsize,
            "shape": shape_text(shape),
            "fortran": int(bool(fortran)),
            "data_offset": data_offset,
            "bin": binf,
            "native_bin": native_bin,
            "native_str": native_str,
            "save": save,
            "base": base,
            "ops": ops,
            "max_header": max_header,
        })

    def write_manifest(self):
        cols = ["name", "file", "group", "version", "descr", "str", "itemsize", "shape", "fortran",
                "data_offset", "bin", "native_bin", "native_str", "save", "base", "ops", "max_header"]
        write_tsv(self.path("manifest.tsv"), cols, self.rows)
        with open(self.path("manifest.json"), "w", encoding="utf-8") as f:
            json.dump(self.rows, f, indent=1, ensure_ascii=False)


def write_tsv(path, cols, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            cells = [str(r[c]) for c in cols]
            for c in cells:
                assert "\t" not in c and "\n" not in c, cells
            f.write("\t".join(cells) + "\n")


def covered(dt):
    """Which bytes of one `dt` element belong to some field (not padding)."""
    if dt.names is None:
        if dt.subdtype is not None:
            base, shape = dt.subdtype
            return np.tile(covered(base), int(np.prod(shape, dtype=np.int64)))
        return np.ones(dt.itemsize, bool)
    m = np.zeros(dt.itemsize, bool)
    for name in dt.names:
        ft, off = dt.fields[name][:2]
        m[off:off + ft.itemsize] |= covered(ft)
    return m


def zero_ld_padding(v):
    """x87 long double uses 10 of its 16 bytes; zero the rest so files are
    deterministic (NumPy leaves whatever was in memory)."""
    b = v.reshape(-1).view(np.uint8).reshape(-1, 16)
    if v.dtype.byteorder == ">" or (v.dtype.byteorder == "=" and sys.byteorder == "big"):
        b[:, :6] = 0
    else:
        b[:, 10:] = 0


# ---- dtypes -----------------------------------------------------------------

UNITS = ["", "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "25s", "7D", "10ns"]


def scalar_dtypes():
    """(tag, dtype) for every non-object, non-structured dtype, both byte orders
    where byte order means something."""
    specs = ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "f16",
             "c8", "c16", "c32", "S1", "S7", "U1", "U5", "V1", "V7"]
    specs += ["M8[%s]" % u if u else "M8" for u in UNITS]
    specs += ["m8[%s]" % u if u else "m8" for u in UNITS]
    out = []
    for s in specs:
        dt = np.dtype(s)
        tag = s.replace("[", "_").replace("]", "")
        if dt.byteorder == "|":
            out.append((tag, dt))
        else:
            out.append(("le_" + tag, dt.newbyteorder("<")))
            out.append(("be_" + tag, dt.newbyteorder(">")))
    return out


def struct_dtypes():
    d = {}
    d["simple"] = np.dtype([("x", "<f8"), ("y", "<i4"), ("name", "S5")])
    d["nested"] = np.dtype([("pos", [("x", "<f4"), ("y", "<f4")]), ("id", "<u2"), ("flag", "?")])
    d["subarray"] = np.dtype([("m", "<f8", (2, 3)), ("v", "<i2", (4,)), ("s", "S3", (2,))])
    d["nestsub"] = np.dtype([("x", ("<f8", (5,)), (2,)), ("y", [("a", "<i2"), ("b", "u1", (3,))], (2,))])
    d["titles"] = np.dtype([(("Temperature", "t"), "<f4"), (("Index", "i"), "<i8")])
    d["aligned"] = np.dtype([("a", "i1"), ("b", "<i4"), ("c", "i1"), ("d", "<f8"), ("e", "i1")], align=True)
    d["alignnest"] = np.dtype([("a", "i1"), ("s", np.dtype([("p", "<i2"), ("q", "<f8")], align=True)),
                               ("c", "u1")], align=True)
    d["offsets"] = np.dtype({"names": ["a", "b"], "formats": ["<i4", "<f8"], "offsets": [0, 8], "itemsize": 24})
    d["gaps"] = np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i4"], "offsets": [1, 6]})
    d["gapnest"] = np.dtype({"names": ["c", "d"], "formats": ["<i4", d["gaps"]]})
    d["gaptitles"] = np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i4"], "offsets": [1, 6],
                               "titles": ["aa", "bb"]})
    d["emptyname"] = np.dtype({"names": ["a", "", "b"], "formats": ["<i4"] * 3})
    d["nofields"] = np.dtype({"names": [], "formats": [], "itemsize": 8})
    d["allkinds"] = np.dtype([("b", "?"), ("u", "u1"), ("h", "<f2"), ("c", "<c16"), ("t", "<M8[ns]"),
                              ("d", "<m8[s]"), ("s", "<U2"), ("v", "V3"), ("g", "<f16"), ("z", "<c32")])
    d["one"] = np.dtype([("x", "<f4")])  # a field view of it can be F-contiguous
    d["names"] = np.dtype([("it's", "<i2"), ('a"b\'c', "<i2"), ("back\\slash", "<i2"),
                           ("tab\tnl\n", "<i2"), ("\x01ctl", "<i2"), ("latin\u00e9", "<i2")])
    return d


def view_cases():
    """Views of a (6, 8) C-order base: (tag, ops, function). ops is what the
    C++ test applies to the loaded base (see golden_tests.cpp: apply_ops)."""
    return [
        ("vnc", "s0:0:6:2,s1:1:7:2", lambda b: b[0:6:2, 1:7:2]),
        ("vT", "T", lambda b: b.T),
        ("vnf", "T,s0:1:7:1,s1:0:6:2", lambda b: b.T[1:7, 0:6:2]),
        ("vneg", "s1:7:0:-3", lambda b: b[:, 7:0:-3]),
        ("vrow", "i2", lambda b: b[2]),
        ("v0d", "i2,i3", lambda b: b[2, 3, ...]),  # a 0-d view (b[2, 3] is a NumPy scalar)
        ("vcol", "s1:3:4:1", lambda b: b[:, 3:4]),
        ("vresh", "r3:16", lambda b: b.reshape(3, 16)),
        ("vreshT", "T,r4:12", lambda b: b.T.reshape(4, 12)),
        ("vreshS", "s1:0:8:2,r2:12", lambda b: b[:, ::2].reshape(2, 12)),
    ]


def asf(a):
    """np.asfortranarray, keeping struct padding (NumPy's copy leaves it undefined)."""
    if a.dtype.names is None:
        return np.asfortranarray(a)
    return np.asfortranarray(a.view("V%d" % a.dtype.itemsize)).view(a.dtype)


def layouts(g, dt):
    """(tag, array, base_tag, ops) for every shape class and order."""
    out = [
        ("0d", g.fill(dt, ())),
        ("e0", g.fill(dt, (0,))),
        ("e30", g.fill(dt, (3, 0))),
        ("e03f", asf(g.fill(dt, (0, 3)))),
        ("1d", g.fill(dt, (5,))),
        ("2c", g.fill(dt, (3, 4))),
        ("2f", asf(g.fill(dt, (3, 4)))),
        ("3c", g.fill(dt, (2, 3, 4))),
        ("3f", asf(g.fill(dt, (2, 3, 4)))),
    ]
    return out


def gen_arrays(g):
    all_dtypes = scalar_dtypes()
    for sname, sdt in struct_dtypes().items():
        all_dtypes.append(("le_st_" + sname, sdt))
        big = sdt.newbyteorder(">")
        if big != sdt:
            all_dtypes.append(("be_st_" + sname, big))
    for tag, dt in all_dtypes:
        group = "struct" if dt.names is not None else "scalar"
        for lay, a in layouts(g, dt):
            assert a.dtype == dt, (tag, a.dtype, dt)
            g.add_saved(f"{tag}.{lay}", a, group)
        base = g.fill(dt, (6, 8))
        bname = f"{tag}.base"
        g.add_saved(bname, base, group)
        for vtag, ops, fn in view_cases():
            if dt.names is not None:
                # copies of structs (reshape of a strided view) leave NumPy's
                # padding bytes undefined: take views of raw bytes instead
                v = fn(base.view("V%d" % dt.itemsize)).view(dt)
            else:
                v = fn(base)
            g.add_saved(f"{tag}.{vtag}", v, "view", base=bname, ops=ops)
        # field views of structured arrays (subarray fields add dimensions)
        for i, fname in enumerate(dt.names or ()):
            if fname and fname.isprintable() and "," not in fname and "\\" not in fname:
                g.add_saved(f"{tag}.vf{i}", base[fname], "view", base=bname, ops="f" + fname)
                if i == 0:  # a field of the transposed (F-contiguous) base
                    g.add_saved(f"{tag}.vTf{i}", base.T[fname], "view", base=bname, ops="T,f" + fname)
    # itemsize 0 (NumPy writes '|V0'; S0 and U0 become S1 and U1 in arrays)
    for lay, a in layouts(g, np.dtype("V0"))[:6]:
        g.add_saved(f"V0.{lay}", a, "scalar")


# ---- versions and legacy headers -------------------------------------------


def preamble(text, version, align, newline=True, pad=b" "):
    """magic + version + length + text padded so the data starts at a multiple
    of `align` (align=None: no padding at all). With align 16 the length field
    counts as 2 bytes even for v2, as NumPy 1.9-1.13 did (v2 files 2 bytes off)."""
    lenfield = 2 if version[0] == 1 else 4
    body = text + (b"\n" if newline else b"")
    if align:
        total = len(MAGIC) + 2 + (2 if align == 16 else lenfield) + len(body)
        padlen = (-total) % align
        body = text + pad * padlen + (b"\n" if newline else b"")
    if lenfield == 2:
        hl = struct.pack("<H", len(body))
    else:
        hl = struct.pack("<I", len(body))
    return MAGIC + bytes(version) + hl + body


def gen_versions(g):
    # 2.0: more header than fits 65535 bytes (NumPy's own test: many long names)
    names = ["field_%03d_" % i + "x" * 90 for i in range(700)]
    dt = np.dtype([(n, "u1") for n in names])
    a = g.fill(dt, (2,))
    g.add_saved("v2_many_fields", a, "version", max_header=200000)
    # 3.0: a field name that latin1 cannot encode
    dt = np.dtype([("名前", "<i4"), ("value", "<f8")])
    g.add_saved("v3_utf8_name", g.fill(dt, (3,)), "version")
    dt = np.dtype([("\U0001f600", ">u2")])
    g.add_saved("v3_emoji_name", g.fill(dt, (2, 2)), "version")
    # latin1 (not ASCII) stays 1.0
    dt = np.dtype([("é", "<i4")])
    g.add_saved("v1_latin1_name", g.fill(dt, (2,)), "version")
    # header growth crossing a 64-byte boundary (test_header_growth_axis)
    for n in (22, 23):
        dt = np.dtype([("x" * n, "<f4")])
        g.add_saved(f"growth_{n}", g.fill(dt, (1,)), "version")
    g.add_saved("growth_bigdim", np.zeros((10**6, 0), "<f8"), "version")
    g.add_saved("growth_bigdim_f", np.asfortranarray(np.zeros((0, 10**6), "<f8")), "version")


def gen_forced_versions(g):
    """np.lib.format.write_array(f, a, version=...): what save_options.version must give."""
    arrays = {"f8": np.arange(6, dtype="<f8").reshape(2, 3), "st": g.fill(struct_dtypes()["aligned"], (3,)),
              "f": np.asfortranarray(np.arange(6, dtype=">i2").reshape(2, 3)), "0d": np.array(1.5, ">f4"),
              "utf8": g.fill(np.dtype([("名", "<i4")]), (2,))}
    for tag, a in arrays.items():
        for ver in [(1, 0), (2, 0), (3, 0)]:
            if tag == "utf8" and ver != (3, 0):
                continue
            buf = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                np.lib.format.write_array(buf, a, version=ver)
            g.add_raw("forced_v%d_%s" % (ver[0], tag), buf.getvalue(), "version")


def gen_legacy(g):
    f8 = np.arange(3, dtype="<f8") + 0.5
    i4 = np.arange(4, dtype="<i4").reshape(2, 2)

    def hdr(d):
        return ("{" + "".join("'%s': %s, " % (k, repr(v)) for k, v in sorted(d.items())) + "}").encode("latin1")

    # 1.2-1.13: aligned to 16 (v1), and v2 files 2 bytes off 16
    g.add_raw("legacy_align16", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}),
                                         (1, 0), 16) + f8.tobytes(), "legacy")
    g.add_raw("legacy_v2_align16", preamble(hdr({"descr": "<i4", "fortran_order": False, "shape": (2, 2)}),
                                            (2, 0), 16) + i4.tobytes(), "legacy")
    # 1.1.0: pprint.pformat, no trailing comma; short (one line) and long (wrapped)
    d = {"descr": "<f8", "fortran_order": False, "shape": (3,)}
    g.add_raw("legacy_pprint", preamble(pprint.pformat(d).encode(), (1, 0), 16) + f8.tobytes(), "legacy")
    sdt = np.dtype([("alpha_long_field_name", "<f8"), ("beta_long_field_name", "<i4"),
                    ("gamma_long_field_name", "S4")])
    sa = g.fill(sdt, (2,))
    d = {"descr": sdt.descr, "fortran_order": False, "shape": (2,)}
    text = pprint.pformat(d).encode()
    assert b"\n" in text
    g.add_raw("legacy_pprint_multiline", preamble(text, (1, 0), 16) + sa.tobytes(), "legacy")
    # Python 2 writers: 3L and u''
    fa = np.asfortranarray(np.arange(6, dtype="<i8").reshape(3, 2))
    g.add_raw("legacy_py2_long", preamble(b"{'descr': '<i8', 'fortran_order': True, 'shape': (3L, 2L), }",
                                          (1, 0), 16) + fa.T.tobytes(), "legacy")
    f4 = np.arange(4, dtype="<f4") * 1.25
    g.add_raw("legacy_py2_unicode",
              preamble(b"{u'descr': u'<f4', u'fortran_order': False, u'shape': (4L,), }", (1, 0), 16)
              + f4.tobytes(), "legacy")
    udt = np.dtype([("a", "<i4"), ("b", "S2")])
    ua = g.fill(udt, (2,))
    g.add_raw("legacy_py2_struct",
              preamble(b"{'descr': [(u'a', u'<i4'), (u'b', u'|S2')], 'fortran_order': False, 'shape': (2L,), }",
                       (1, 0), 16) + ua.tobytes(), "legacy")
    sub = g.fill(np.dtype([("a", "<i4", (2,)), ("t", "<f4")]), (2,))
    g.add_raw("legacy_py2_subshape_title",
              preamble(b"{'descr': [(u'a', u'<i4', (2L,)), ((u'Title', u't'), u'<f4')], "
                       b"'fortran_order': False, 'shape': (2L,), }", (1, 0), 16) + sub.tobytes(), "legacy")
    # other writers: double quotes, other key order, no trailing comma, odd spacing
    u2 = np.arange(6, dtype="<u2").reshape(2, 3)
    g.add_raw("legacy_dquote", preamble(b'{"descr": "<u2", "fortran_order": False, "shape": (2, 3)}',
                                        (1, 0), 64) + u2.tobytes(), "legacy")
    be = np.arange(3, dtype=">f8")
    g.add_raw("legacy_key_order", preamble(b"{'shape': (3,), 'fortran_order': False, 'descr': '>f8'}",
                                           (1, 0), 64) + be.tobytes(), "legacy")
    i2 = np.arange(6, dtype="<i2").reshape(2, 3)
    g.add_raw("legacy_spacing",
              preamble(b"{ 'descr' : '<i2' ,\n  'fortran_order' : False ,\n  'shape' : ( 2 , 3 , ) ,\n}",
                       (1, 0), 64) + i2.tobytes(), "legacy")
    g.add_raw("legacy_no_newline", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}),
                                            (1, 0), 64, newline=False) + f8.tobytes(), "legacy")
    g.add_raw("legacy_crlf", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}) + b"\r",
                                      (1, 0), 64) + f8.tobytes(), "legacy")
    g.add_raw("legacy_tab_pad", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}),
                                         (1, 0), 64, pad=b"\t") + f8.tobytes(), "legacy")
    # descr spellings other writers use
    for tag, spelling, arr in [("f8", "f8", np.arange(3, dtype="=f8")), ("float32", "float32", f4),
                               ("lt_b1", "<b1", np.array([True, False, True])),
                               ("eq_i4", "=i4", np.arange(3, dtype="=i4")),
                               ("d", "d", np.arange(3, dtype="d")),
                               ("bar_u1", "|u1", np.arange(3, dtype="u1")),
                               ("be_b1", ">b1", np.array([False, True])),
                               ("be_i1", ">i1", np.array([-1, 2], dtype="i1")),
                               ("be_S3", ">S3", np.array([b"ab", b"xyz"]))]:
        text = ("{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (spelling, arr.shape)).encode()
        g.add_raw("legacy_descr_" + tag, preamble(text, (1, 0), 64) + arr.tobytes(), "legacy")
    # escapes in strings: \x, \u, \U, octal, and a quote escaped inside
    esc = g.fill(np.dtype([("aA", "<i2"), ("b\u00e9", "<i2"), ("c'd", "<i2"), ("e\U0001f600", "<i2"),
                           ("tab\t", "<i2")]), (2,))
    g.add_raw("legacy_escapes",
              preamble(b"{'descr': [('a\\x41', '\\x3ci2'), ('b\\u00e9', '<i2'), ('c\\'d', '<\\151\\62'), "
                       b"('e\\U0001F600', '<i2'), ('tab\\t', '<i2')], "
                       b"'fortran_order': False, 'shape': (2,), }", (3, 0), 64) + esc.tobytes(), "legacy")
    # int shape in a structured descr means (n,)
    dt = np.dtype([("a", "<i4", (2,))])
    ia = g.fill(dt, (2,))
    g.add_raw("legacy_int_subshape", preamble(b"{'descr': [('a', '<i4', 2)], 'fortran_order': False, 'shape': (2,), }",
                                              (1, 0), 64) + ia.tobytes(), "legacy")
    # trailing bytes after the data are ignored
    g.add_raw("legacy_trailing_bytes", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}),
                                                (1, 0), 64) + f8.tobytes() + b"trailing junk", "legacy")
    # no padding at all: the data start at an odd offset (misaligned)
    mis = np.arange(5, dtype="<f8") - 2.25
    raw = preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (5,)}), (1, 0), None)
    assert len(raw) % 8 != 0
    g.add_raw("legacy_misaligned_f8", raw + mis.tobytes(), "legacy")
    mis2 = np.arange(6, dtype=">i4").reshape(2, 3)
    raw = preamble(b"{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3) }", (1, 0), None)
    assert len(raw) % 4 != 0
    g.add_raw("legacy_misaligned_be_i4", raw + mis2.tobytes(), "legacy")
    # a version 3.0 header that is pure ASCII, and a 2.0 header that is short
    g.add_raw("legacy_v3_ascii", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}),
                                          (3, 0), 64) + f8.tobytes(), "legacy")
    g.add_raw("legacy_v2_short", preamble(hdr({"descr": "<f8", "fortran_order": False, "shape": (3,)}),
                                          (2, 0), 64) + f8.tobytes(), "legacy")
    # a huge header (test_huge_header): needs max_header_size lifted
    dt = np.dtype("i," * 1000 + "i")
    ha = np.zeros(1, dt)
    g.add_saved("huge_header", ha, "version", max_header=200000)


# ---- dtype spellings, records, astype ---------------------------------------

SPELLINGS = [
    # byte order prefixes and type codes
    "f8", "<f8", ">f8", "=f8", "|f8", "f4", "<f4", ">f4", "f2", "e", "<e", "f16", "g", "<g", ">g",
    "i1", "<i1", ">i1", "|i1", "i2", ">i2", "i4", "=i4", "<i4", ">i4", "i8", "<i8", ">i8",
    "u1", "u2", "u4", "u8", ">u8", "b1", "<b1", ">b1", "|b1", "?", "b", "B", "h", "H", "i", "I",
    "l", "L", "q", "Q", "p", "P", "d", "f", "F", "D", "G", ">D", "c8", "c16", "c32", "<c16", ">c8",
    # strings, text, void
    "S", "S1", "S7", "|S3", ">S3", "<S3", "a5", "U", "U1", "U5", "<U3", ">U3", "|U3", "V", "V1", "V7",
    "|V16", "<V4",
    # objects
    "O", "|O", "|O8", "O8", "object",
    # names
    "float64", "float32", "float16", "float128", "longdouble", "double", "single", "half",
    "complex64", "complex128", "complex256", "complex", "float", "int", "bool", "bool_",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "uint", "intc", "uintc",
    "intp", "uintp", "longlong", "ulonglong", "short", "ushort", "byte", "ubyte", "csingle",
    "cdouble", "clongdouble", "bytes", "bytes_", "str", "str_", "unicode", "void",
    "datetime64", "timedelta64", "datetime64[ns]", "timedelta64[25s]",
    # datetimes
    "M8", "<M8", ">M8", "m8", "M8[Y]", "M8[M]", "M8[W]", "M8[D]", "M8[h]", "M8[m]", "M8[s]",
    "M8[ms]", "M8[us]", "M8[ns]", "M8[ps]", "M8[fs]", "M8[as]", "<M8[ns]", ">M8[ns]", "=M8[us]",
    "M8[25s]", "m8[25s]", "<m8[7D]", ">m8[10ns]", "m8[2ms]", "m8[us]", "M8[1s]",
    # not dtypes at all (NumPy raises TypeError)
    "", "f3", "i3", "u16", "c4", "b2", "S-1", "x", "<", "f8 ", " f8", "Int8", "float65", "M8[xyz]",
    "M8[s", "m8[]", "<>f8", "ff8", "U-2", "M16", "f", "V-1",
    # ('n' and 'N' are refused by NumPy 1.24 but mean intp/uintp in NumPy 2: no contract)
]


def gen_dtypes(out):
    rows = []
    seen = set()
    for s in SPELLINGS:
        if s in seen:
            continue
        seen.add(s)
        row = {"spelling": s.replace(" ", "\\s") if s.strip() != s or s == "" else s}
        if s == "":
            row["spelling"] = "\\e"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                dt = np.dtype(s)
            if dt.itemsize < 0:
                raise TypeError("NumPy 1.24 accepts negative sizes ('S-1'); npio rejects them")
            row.update(ok=1, str=dt.str, descr=descr_repr(dt), itemsize=dt.itemsize,
                       alignment=dt.alignment, kind=dt.kind)
        except (TypeError, ValueError):
            row.update(ok=0, str="-", descr="-", itemsize="-", alignment="-", kind="-")
        except Warning:
            continue  # deprecated spellings: no contract
        rows.append(row)
    write_tsv(os.path.join(out, "dtypes.tsv"),
              ["spelling", "ok", "str", "descr", "itemsize", "alignment", "kind"], rows)


RECORDS = [
    # (name, [(field, spelling or @record)], align)
    ("p_if", [("a", "<i4"), ("b", "<f8")], False),
    ("a_if", [("a", "<i4"), ("b", "<f8")], True),
    ("a_bib", [("f0", "i1"), ("f1", "<i4"), ("f2", "i1")], True),
    ("p_bib", [("f0", "i1"), ("f1", "<i4"), ("f2", "i1")], False),
    ("a_hq", [("x", "<i2"), ("y", ">i8"), ("z", "u1")], True),
    ("a_ld", [("c", "i1"), ("g", "<f16"), ("z", "<c32")], True),
    ("a_cplx", [("c", "u1"), ("z", "<c8"), ("w", "<c16")], True),
    ("a_text", [("s", "S3"), ("u", "<U2"), ("v", "V5"), ("t", "<M8[ns]")], True),
    ("a_nest", [("a", "i1"), ("s", "@a_if"), ("b", "i1")], True),
    ("p_nest_in_a", [("a", "i1"), ("s", "@p_if"), ("b", "<i2")], True),
    ("a_nest_in_p", [("a", "i1"), ("s", "@a_if"), ("b", "<i2")], False),
    ("a_half", [("a", "u1"), ("h", "<f2")], True),
    ("a_bool", [("a", "?"), ("b", "?")], True),
]


def gen_records(out):
    made = {}
    rows = []
    for name, fields, align in RECORDS:
        spec = [(f, made[t[1:]] if t.startswith("@") else np.dtype(t)) for f, t in fields]
        dt = np.dtype(spec, align=align)
        made[name] = dt
        rows.append({"name": name, "align": int(align),
                     "fields": ";".join(f"{f}={t}" for f, t in fields),
                     "itemsize": dt.itemsize, "alignment": dt.alignment,
                     "offsets": ",".join(str(dt.fields[f][1]) for f, _ in fields),
                     "descr": descr_repr(dt)})
    write_tsv(os.path.join(out, "records.tsv"),
              ["name", "align", "fields", "itemsize", "alignment", "offsets", "descr"], rows)


ASTYPE_TYPES = ["?", "i1", "u1", "<i2", ">u2", "<i4", ">i4", "<u4", "<i8", ">u8", "<f2", ">f4", "<f8",
                ">f8", "<f16", "<c8", ">c16", "<c32"]

ASTYPE_INTS = [0, 1, 2, 7, 100, 127, -1, -2, -100, -128, 255, 256, 1000, 32767, -32768, 65535,
               2**31 - 1, -(2**31), 2**32 + 3, 2**53 + 1, 2**62 + 7, -(2**62) - 9]
ASTYPE_FLOATS = ASTYPE_INTS + [0.5, 1.25, 2.75, 99.5, 126.875, -0.0, -0.5, -1.75, -99.25, 3.0e-8,
                               65504.0, 65520.0, 1 / 3, 1e30, -1e30, 1e300, np.inf, -np.inf, np.nan,
                               1.0 + 2**-11 + 2**-30, 6.0e-8, 2.0**-25 + 2.0**-40]  # double rounding via float


def gen_astype(g):
    """NumPy's astype for every pair of numeric dtypes, over the source values
    whose cast is defined (no overflow or NaN into integers: NumPy's result is
    whatever the C cast does there)."""
    rows = []
    for s in ASTYPE_TYPES:
        src = np.dtype(s)
        nsrc = src.newbyteorder("=")
        for d in ASTYPE_TYPES:
            dst = np.dtype(d)
            if src.kind == "b":
                cand = [False, True, True, False]
            elif src.kind in "iu":
                info = np.iinfo(src)
                cand = [v for v in ASTYPE_INTS if info.min <= v <= info.max]
            else:
                part = nsrc if src.kind == "f" else np.dtype("f%d" % (src.itemsize // 2))
                big = float(np.finfo(part).max)
                cand = [v for v in ASTYPE_FLOATS if not (abs(v) <= np.inf and abs(v) > big)]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = np.array(cand, dtype=nsrc)
                if dst.kind in "iu":
                    info = np.iinfo(dst)
                    re = a.real if src.kind == "c" else a
                    keep = [i for i, x in enumerate(re)
                            if np.isfinite(x) and info.min <= int(np.trunc(x)) <= info.max]
                    a = a[keep]
                if src.kind == "c" and dst.kind == "c":
                    a.imag = np.arange(len(a)) * 0.5 - 1
                a = a.astype(src)
                zero_padding(a)
                r = a.astype(dst)
                zero_padding(r)
            tag = f"{tagof(s)}_to_{tagof(d)}"
            np.save(g.path(f"astype_{tag}.src.npy"), a)
            np.save(g.path(f"astype_{tag}.dst.npy"), r)
            rows.append({"src": f"astype_{tag}.src.npy", "dst_str": dst.str,
                         "expected": f"astype_{tag}.dst.npy"})
    # rounding to float16 from every float width, over many magnitudes and the
    # exact halfway points between neighbouring halves (double rounding shows there)
    rng = np.random.default_rng(SEED + 1)
    mags = rng.uniform(-27, 17, 20000)
    bits = np.arange(0, 0x7BFF, 3, dtype=np.uint16)
    mid = (bits.view("<f2").astype("<f8") + (bits + 1).view("<f2").astype("<f8")) / 2
    vals = np.concatenate([np.sign(rng.standard_normal(20000)) * 2.0 ** mags,
                           mid, -mid, mid * (1 + 2.0**-40), mid * (1 - 2.0**-40)])
    vals = vals[np.isfinite(vals)]
    for s in ["<f4", "<f8", ">f8", "<f16", "<c16"]:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ComplexWarning: the values are real
            a = vals.astype(s)
            zero_padding(a)
            r = a.astype("<f2")
        tag = "random_%s_to_lef2" % tagof(s)
        np.save(g.path(f"astype_{tag}.src.npy"), a)
        np.save(g.path(f"astype_{tag}.dst.npy"), r)
        rows.append({"src": f"astype_{tag}.src.npy", "dst_str": "<f2", "expected": f"astype_{tag}.dst.npy"})
    write_tsv(g.path("astype.tsv"), ["src", "dst_str", "expected"], rows)


def zero_padding(a):
    if a.dtype.kind == "f" and a.dtype.itemsize == 16:
        zero_ld_padding(a)
    if a.dtype.kind == "c" and a.dtype.itemsize == 32:
        zero_ld_padding(a.view(np.dtype("f16").newbyteorder(a.dtype.byteorder)))


def tagof(s):
    return s.replace("<", "le").replace(">", "be").replace("?", "bool")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py GOLDEN_DIR")
    out = os.path.join(sys.argv[1], "npy")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    g = Golden(out)
    gen_arrays(g)
    gen_versions(g)
    gen_legacy(g)
    gen_forced_versions(g)
    g.write_manifest()
    gen_dtypes(out)
    gen_records(out)
    gen_astype(g)
    print(f"generate.py: {len(g.rows)} .npy files in {out}")


if __name__ == "__main__":
    main()
