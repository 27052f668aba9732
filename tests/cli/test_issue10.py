#!/usr/bin/python3
"""Wrong answers listed in issue #10, checked against NumPy: `npio json`
prints what np.load reads, and `npio from-json` writes back the bytes
np.save writes.

Usage: test_issue10.py PATH_TO_npio
"""
import json
import os
import tempfile
import warnings

import numpy as np

from checks import check, finish, npio

warnings.simplefilter("ignore", UserWarning)  # np.save: "Stored array in format 3.0"


def roundtrip(name, d, arr):
    """np.save arr, check `npio json` against NumPy's values, then check that
    `npio from-json` on that output gives np.save's bytes; returns the doc."""
    src, back, js = (os.path.join(d, name + s) for s in (".npy", ".back.npy", ".json"))
    np.save(src, arr)
    r = npio("json", src)
    check(name + " json exit", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return None
    with open(js, "wb") as f:
        f.write(r.stdout)
    r2 = npio("from-json", js, back)
    check(name + " from-json exit", r2.returncode == 0, r2.stderr)
    if r2.returncode == 0:
        with open(src, "rb") as a, open(back, "rb") as b:
            check(name + " byte-identical", a.read() == b.read())
    return json.loads(r.stdout)


def fill(a):
    """Gives every leaf field of a distinct small values."""
    if a.dtype.names:
        for n in a.dtype.names:
            fill(a[n])
    else:
        a[...] = (np.arange(a.size) % 100 + 1).reshape(a.shape)


with tempfile.TemporaryDirectory() as d:
    # 1. A '' field that is not void is a real field (test_format.py's dtype).
    dt = np.dtype({"names": ["a", "", "b"], "formats": ["i4"] * 3})
    a = np.zeros(2, dt)
    for i, row in enumerate([(1, 2, 3), (4, 5, 6)]):
        a[i] = row
    doc = roundtrip("empty_name", d, a)
    if doc:
        check("empty_name data", doc["data"] == [list(t) for t in a.tolist()], doc["data"])
        check("empty_name dtype", doc["dtype"] == [["a", "<i4"], ["", "<i4"], ["b", "<i4"]],
              doc["dtype"])
    # ... next to a real padding entry ('' of void type), which stays dropped
    dt = np.dtype({"names": ["", "b"], "formats": ["u1", "i2"], "offsets": [0, 2], "itemsize": 6})
    a = np.zeros(1, dt)
    a[0] = (7, -3)
    doc = roundtrip("empty_name_pad", d, a)
    if doc:
        check("empty_name_pad data", doc["data"] == [[7, -3]], doc["data"])
    # ... and inside an object array (the pickle path)
    o = np.empty(1, object)
    o[0] = np.array([(1, 2, 3)], np.dtype({"names": ["a", "", "b"], "formats": ["i4"] * 3}))
    src = os.path.join(d, "empty_name_obj.npy")
    np.save(src, o)
    r = npio("json", "--allow-pickle", src)
    check("empty_name obj exit", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        got = json.loads(r.stdout)["data"][0]["$ndarray"]["data"]
        check("empty_name obj data", got == [[1, 2, 3]], got)

    # 2. Lone surrogates in a U array: escaped as \uXXXX, read back exactly.
    a = np.array(["a\ud834b", "\udd1e", "x\udfff\ud800", "\ufdd0\ud83d", "ok"], "<U4")
    doc = roundtrip("surrogates", d, a)
    if doc:
        check("surrogates data", doc["data"] == a.tolist(), doc["data"])
        with open(os.path.join(d, "surrogates.json"), "rb") as f:
            text = f.read()
        check("surrogates escaped", b"\\ud834" in text and b"\\udd1e" in text, text)
    a = np.array(["\ud834"], ">U1")  # big-endian, and a struct holding one
    roundtrip("surrogates_be", d, a)
    s = np.zeros(1, [("t", "<U2"), ("n", "<i2")])
    s[0] = ("\udc00z", 5)
    doc = roundtrip("surrogates_struct", d, s)
    if doc:
        check("surrogates_struct data", doc["data"] == [["\udc00z", 5]], doc["data"])
    # A pair written by hand is one code point; U+FDD0 in text stays itself.
    js = os.path.join(d, "pair.json")
    with open(js, "w", encoding="utf-8") as f:
        f.write('{"dtype": "<U3", "shape": [2], "fortran_order": false,'
                ' "data": ["\\ud834\\udd1e\\udc01", "\ufdd0\\ufdd0\\ud800"]}')
    r = npio("from-json", js, os.path.join(d, "pair.npy"))
    check("pair exit", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        got = np.load(os.path.join(d, "pair.npy")).tolist()
        check("pair data", got == ["\U0001d11e\udc01", "\ufdd0\ufdd0\ud800"], got)

    # 3. from-json takes the dtype json writes for a subarray of a subarray of
    # a struct (test_format.py's descr_to_dtype cases).
    inner = np.dtype({"names": ["a", "b"], "formats": ["i1", "i1"], "offsets": [0, 4],
                      "itemsize": 8})
    for k, dt in enumerate([
            np.dtype([("x", ((inner, (3,)), (4,)))]),
            np.dtype([("x", ((inner, (3,)), (4,))), ("y", "<f2", (2,))]),
            np.dtype([("x", (("<i2", (2,)), (3,)))]),
            np.dtype([("x", ([("p", "<u2"), ("q", ((inner, (1,)), (2,)))], (2,)))]),
            np.dtype((inner, (2,))),
            np.dtype(([("a", "<i4"), ("b", "<i4")], (2, 2)))]):
        a = np.zeros(2, dt)
        fill(a)  # the fields only: padding bytes are not in the JSON
        doc = roundtrip(f"nested_subarray_{k}", d, a)
        if doc:
            check(f"nested_subarray_{k} descr", doc["dtype"] ==
                  json.loads(json.dumps(np.lib.format.header_data_from_array_1_0(a)["descr"])),
                  doc["dtype"])

    # 4. Field names that repr() escapes (U+2028, U+0085, ...) come out the same
    # in a typed array and inside an object array.
    for k, names in enumerate([["b\u2028", "a\x85"], ["\x00\t\\'\"", "\U0001f600\xe9"]]):
        dt = np.dtype([(names[0], "<i2"), (names[1], "|u1")])
        want = [[names[0], "<i2"], [names[1], "|u1"]]
        t = np.array([(1, 2)], dt)
        doc = roundtrip(f"names_{k}", d, t)
        if doc:
            check(f"names_{k} typed dtype", doc["dtype"] == want, doc["dtype"])
        o = np.empty(2, object)
        o[0], o[1] = t, t[0]
        src = os.path.join(d, f"names_{k}_obj.npy")
        np.save(src, o)
        r = npio("json", "--allow-pickle", src)
        check(f"names_{k} obj exit", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            got = json.loads(r.stdout)["data"]
            check(f"names_{k} obj ndarray dtype", got[0]["$ndarray"]["dtype"] == want, got[0])
            check(f"names_{k} obj scalar dtype", got[1]["$scalar"]["dtype"] == want, got[1])

finish()
