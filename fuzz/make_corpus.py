#!/usr/bin/python3
"""Writes the fuzz seed corpora fuzz/corpus/npy/ and fuzz/corpus/header/.

Run once with Debian's NumPy (/usr/bin/python3) and commit the output:

    /usr/bin/python3 fuzz/make_corpus.py            # writes next to this script
    /usr/bin/python3 fuzz/make_corpus.py OUT_DIR    # writes OUT_DIR/npy, OUT_DIR/header

Every well-formed seed is written by NumPy itself (np.save or
np.lib.format.write_array); legacy and malformed seeds are derived from
NumPy-written bytes by editing the header, so the fuzzer starts next to every
accept and reject path. Arrays are tiny: the whole corpus stays well under
200 KB. Names are stable, so re-running only rewrites identical files.
"""

import io
import os
import struct
import sys

import numpy as np
from numpy.lib import format as npformat

MAGIC = b"\x93NUMPY"


def npy_bytes(a, version=None):
    f = io.BytesIO()
    if version is None:
        np.save(f, a, allow_pickle=True)
    else:
        npformat.write_array(f, a, version=version, allow_pickle=True)
    return f.getvalue()


def split(b):
    """(version, header text, data) of a NumPy-written .npy."""
    major = b[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", b[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", b[8:12])
        start = 12
    return (b[6], b[7]), b[start : start + hlen], b[start + hlen :]


def header_end(b):
    """Offset of the data in a .npy (the whole length when it cannot tell)."""
    if not b.startswith(MAGIC) or len(b) < 12 or b[6] not in (1, 2, 3):
        return len(b)
    if b[6] == 1:
        return min(len(b), 10 + struct.unpack("<H", b[8:10])[0])
    return min(len(b), 12 + struct.unpack("<I", b[8:12])[0])


def build(version, text, data, align=64):
    """Preamble + header text padded with spaces and a newline to `align`."""
    text = text.rstrip(b"\n").rstrip(b" ")
    lenfield = 2 if version[0] == 1 else 4
    hlen = len(text) + 1
    pad = (align - (len(MAGIC) + 2 + lenfield + hlen) % align) % align
    text = text + b" " * pad + b"\n"
    fmt = "<H" if lenfield == 2 else "<I"
    return MAGIC + bytes(version) + struct.pack(fmt, len(text)) + text + data


def good_arrays():
    rng = np.random.default_rng(12345)
    seeds = {}
    seeds["f8_1d"] = np.arange(5, dtype="<f8") / 3
    seeds["f8_be"] = (np.arange(4) - 1.5).astype(">f8")
    seeds["i4_be_2d"] = np.arange(6, dtype=">i4").reshape(2, 3)
    seeds["f4_fortran"] = np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3))
    seeds["i8_fortran_3d"] = np.asfortranarray(np.arange(24, dtype="<i8").reshape(2, 3, 4))
    seeds["u2_0d"] = np.array(7, dtype="<u2")
    seeds["f8_empty"] = np.zeros((0, 3), dtype="<f8")
    seeds["b1"] = np.array([True, False, True])
    seeds["i1_u1"] = np.array([-1, 0, 127], dtype="i1")
    seeds["f2"] = np.array([1.5, -0.0, np.inf, np.nan], dtype="<f2")
    seeds["c8"] = np.array([1 + 2j, -3.5j], dtype="<c8")
    seeds["c16_be"] = np.array([1 + 2j, np.nan], dtype=">c16")
    seeds["f16_longdouble"] = np.array([1.0, 1 / 3], dtype=np.longdouble)
    seeds["S3"] = np.array([b"ab", b"xyz", b""], dtype="S3")
    seeds["U4_be"] = np.array(["h\u00e9", "\u4e2dx"], dtype=">U4")
    seeds["V5"] = np.frombuffer(b"0123456789", dtype="V5")
    seeds["M8_ns"] = np.array(["2024-01-02T03:04:05", "NaT"], dtype="<M8[ns]")
    seeds["M8_25s"] = np.array([0, 1, 2], dtype="<M8[25s]")
    seeds["m8_generic"] = np.array([1, 2], dtype="m8")
    seeds["m8_D_be"] = np.array([3, -4], dtype=">m8[D]")
    seeds["struct"] = np.zeros(2, dtype=[("a", "<i4"), ("b", ">f8", (2,)), ("c", "S3")])
    seeds["struct_nested"] = np.zeros(
        2, dtype=[("p", [("x", "<f4"), ("y", "<f4")]), ("id", "<u8"), ("m", "<i2", (2, 2))]
    )
    seeds["struct_titles"] = np.zeros(2, dtype=[(("Title A", "a"), "<i4"), ("b", "|u1")])
    seeds["struct_aligned_pad"] = np.ones(3, dtype=np.dtype("i1,i4,i1", align=True))
    seeds["struct_offsets"] = np.zeros(
        2, dtype=np.dtype({"names": ["x", "y"], "formats": ["<u2", "<u2"], "offsets": [0, 6],
                           "itemsize": 10})
    )
    seeds["subarray_field_be"] = np.zeros(1, dtype=[("s", ">i8", (3,))])
    seeds["struct_empty_shape"] = np.zeros((2, 0), dtype=[("a", "<f8")])
    seeds["f8_rand_2d"] = rng.standard_normal((4, 4))
    return seeds


def malformed(base):
    """Damaged variants of one NumPy-written file."""
    version, text, data = split(base)
    out = {}
    out["bad_magic"] = b"\x93NUMPZ" + base[6:]
    out["bad_version_1_1"] = base[:6] + b"\x01\x01" + base[8:]
    out["bad_version_4_0"] = base[:6] + b"\x04\x00" + base[8:]
    out["truncated_preamble"] = base[:9]
    out["truncated_header"] = base[:40]
    out["truncated_data"] = base[:-1]
    out["trailing_bytes"] = base + b"\x00" * 8
    out["hlen_past_end"] = base[:8] + struct.pack("<H", 60000) + base[10:]
    out["missing_key"] = build(version, b"{'descr': '<f8', 'shape': (5,), }", data)
    out["extra_key"] = build(
        version, b"{'descr': '<f8', 'fortran_order': False, 'shape': (5,), 'x': 1, }", data
    )
    out["neg_shape"] = build(version, b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", data)
    out["shape_overflow"] = build(
        version,
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
        data,
    )
    out["shape_huge_zero_itemsize"] = build(
        version, b"{'descr': '|V0', 'fortran_order': False, 'shape': (1000000000000,), }", b""
    )
    out["shape_not_tuple"] = build(version, b"{'descr': '<f8', 'fortran_order': False, 'shape': [5], }", data)
    out["shape_float"] = build(version, b"{'descr': '<f8', 'fortran_order': False, 'shape': (5.0,), }", data)
    out["fortran_not_bool"] = build(version, b"{'descr': '<f8', 'fortran_order': 0, 'shape': (5,), }", data)
    out["bad_descr"] = build(version, b"{'descr': '<q9', 'fortran_order': False, 'shape': (5,), }", data)
    out["bad_descr_struct"] = build(
        version, b"{'descr': [('a', '<i4'), ('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", data
    )
    out["not_dict"] = build(version, b"['descr', 'fortran_order', 'shape']", data)
    out["syntax_unclosed"] = build(version, b"{'descr': '<f8', 'fortran_order': False, 'shape': (5,", data)
    out["syntax_call"] = build(version, b"{'descr': dtype('<f8'), 'fortran_order': False, 'shape': (5,), }", data)
    out["deep_nesting"] = build(version, b"{'descr': " + b"[" * 200 + b"]" * 200 + b", 'fortran_order': False, 'shape': (5,), }", data)
    out["header_too_large"] = build(
        (2, 0),
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (5,), " + b" " * 10100 + b"}",
        data,
    )
    out["v3_bad_utf8"] = build((3, 0), b"{'descr': [('\xff\xfe', '<f8')], 'fortran_order': False, 'shape': (5,), }", data)
    out["v1_nul_in_header"] = build(version, b"{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }\x00", data)
    out["object_no_pickle"] = npy_bytes(np.array([1, "a", None], dtype=object))
    out["empty_file"] = b""
    return out


def legacy(base):
    """Headers older writers produced, which readers must still accept."""
    version, text, data = split(base)
    out = {}
    # NumPy 1.2-1.13: padded to 16, not 64 (here without the growth spaces).
    out["legacy_align16"] = build(
        (1, 0), b"{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", data, align=16
    )
    # v2 files from 1.9-1.13 were aligned by the v1 formula, 2 bytes off 16.
    raw = b"{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"
    pad = 16 - ((8 + 2 + len(raw) + 1) % 16)
    t = raw + b" " * pad + b"\n"
    out["legacy_v2_off16"] = MAGIC + b"\x02\x00" + struct.pack("<I", len(t)) + t + data
    # NumPy 1.1 wrote pprint.pformat(d): multi-line, no trailing comma.
    out["legacy_pprint"] = build(
        (1, 0), b"{'descr': '<f8',\n 'fortran_order': False,\n 'shape': (5,)}", data, align=16
    )
    # Python 2 writers: 5L and u'' strings, double quotes, no padding at all.
    out["legacy_py2_long"] = build(
        (1, 0), b"{'descr': u'<f8', 'fortran_order': False, 'shape': (5L,), }", data, align=1
    )
    out["legacy_dquote_keys"] = build(
        (1, 0), b'{"shape": (5,), "fortran_order": False, "descr": "<f8"}', data, align=1
    )
    # np.save never writes S0 (np.zeros(3, 'S0') is S1), but np.dtype accepts it.
    out["legacy_S0"] = build(
        (1, 0), b"{'descr': '|S0', 'fortran_order': False, 'shape': (3,), }", b""
    )
    out["legacy_O8"] = build(
        (1, 0), b"{'descr': '|O8', 'fortran_order': False, 'shape': (0,), }", b"", align=16
    )
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    npy_dir = os.path.join(root, "npy")
    hdr_dir = os.path.join(root, "header")
    os.makedirs(npy_dir, exist_ok=True)
    os.makedirs(hdr_dir, exist_ok=True)

    files = {}
    for name, a in good_arrays().items():
        files[name] = npy_bytes(a)
    base = files["f8_1d"]
    files["v2_f8"] = npy_bytes(np.arange(5, dtype="<f8") / 3, version=(2, 0))
    files["v3_unicode_field"] = npy_bytes(np.zeros(2, dtype=[("\u00e9t\u00e9", "<i4")]), version=(3, 0))
    files.update(legacy(base))
    files.update(malformed(base))

    for name, b in sorted(files.items()):
        with open(os.path.join(npy_dir, name + ".npy"), "wb") as f:
            f.write(b)
        # The header corpus holds only the preamble and header text.
        with open(os.path.join(hdr_dir, name + ".npy"), "wb") as f:
            f.write(b[: header_end(b)])

    total = 0
    for d in (npy_dir, hdr_dir):
        for n in os.listdir(d):
            total += os.path.getsize(os.path.join(d, n))
    print("wrote %d seeds per corpus, %d bytes in all" % (len(files), total))


if __name__ == "__main__":
    main()
