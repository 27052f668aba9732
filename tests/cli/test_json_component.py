#!/usr/bin/python3
"""The JSON component (npio::json) behind `npio json` / `npio from-json`, and
the issue #10 answers that concern JSON and dtypes, against NumPy:

- from-json writes THROUGH a symbolic link at OUT, as np.save does (the link
  stays, the file it names gets the new bytes), for .npy, .npz and pickles;
- a field named 'b\\u2028' or 'a\\x85' prints the same in a typed array and
  inside an object array (--allow-pickle);
- a '' field that is not void is a real field: json shows all three values
  of test_format.py's dtype, as NumPy reads them, and so does `npio info`;
- lone surrogates in a U array: \\udXXX escapes, written back byte-identical;
- from-json takes the dtype json writes for a subarray of a subarray of a struct.

Usage: test_json_component.py PATH_TO_npio
"""
import json
import os
import pickle
import tempfile
import warnings

import numpy as np

from checks import check, finish, npio

warnings.simplefilter("ignore", UserWarning)  # np.save: "Stored array in format 3.0"


def plain(v):
    """NumPy's tolist() of a structured array as JSON values: tuples as lists."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [plain(x) for x in v]
    return plain(v.item()) if isinstance(v, np.generic) else v


def json_of(path, *opts):
    r = npio("json", *opts, path)
    check(f"json {os.path.basename(path)} exit", r.returncode == 0, r.stderr)
    return json.loads(r.stdout) if r.returncode == 0 else None, r.stdout


def roundtrip(d, name, arr):
    """np.save, npio json, npio from-json: the bytes must be np.save's."""
    src, back, js = (os.path.join(d, name + s) for s in (".npy", ".back.npy", ".json"))
    np.save(src, arr)
    doc, text = json_of(src)
    if doc is None:
        return None, b""
    with open(js, "wb") as f:
        f.write(text)
    r = npio("from-json", js, back)
    check(f"{name} from-json exit", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        with open(src, "rb") as a, open(back, "rb") as b:
            check(f"{name} byte-identical", a.read() == b.read())
    return doc, text


with tempfile.TemporaryDirectory() as d:
    p = lambda *a: os.path.join(d, *a)

    # ---- from-json through a symbolic link -----------------------------------------
    os.mkdir(p("real"))
    docs = {
        "npy": {"dtype": "<i4", "shape": [3], "fortran_order": False, "data": [1, 2, 3]},
        "npz": {"members": {"a": {"dtype": "<u1", "shape": [2], "fortran_order": False,
                                  "data": [7, 8]}}},
        "pkl": {"pickle": {"$tuple": [1, "x", None]}},
    }
    for kind, doc in docs.items():
        target = p("real", "target." + kind)
        with open(target, "wb") as f:
            f.write(b"old contents")
        link = p("link_" + kind)  # no .npz suffix for the archive: renamed into place
        os.symlink(os.path.join("real", "target." + kind), link)
        with open(p(kind + ".json"), "w") as f:
            json.dump(doc, f)
        r = npio("from-json", p(kind + ".json"), link)
        check(f"symlink {kind} exit", r.returncode == 0, r.stderr)
        check(f"symlink {kind} kept", os.path.islink(link), os.listdir(d))
        if kind == "npy":
            check("symlink npy data", np.load(target).tolist() == [1, 2, 3])
        elif kind == "npz":
            with np.load(target) as z:
                check("symlink npz data", z["a"].tolist() == [7, 8])
        else:
            with open(target, "rb") as f:
                check("symlink pkl data", pickle.load(f) == (1, "x", None))
        check(f"symlink {kind} no temporary left",
              sorted(os.listdir(p("real"))) == sorted(f"target.{k}" for k in docs
                                                      if os.path.exists(p("real", f"target.{k}"))),
              os.listdir(p("real")))
    # a dangling link is written through too, as np.save does (open(2) creates its target)
    os.symlink(os.path.join("real", "fresh.npy"), p("dangling"))
    r = npio("from-json", p("npy.json"), p("dangling"))
    check("dangling exit", r.returncode == 0, r.stderr)
    check("dangling target written", os.path.isfile(p("real", "fresh.npy")) and
          os.path.islink(p("dangling")))

    # ---- field names repr() escapes: typed array and object array agree ------------
    for k, names in enumerate([["b\u2028", "a\x85"], ["\u2029\x1f", "c\x7f\xa0"]]):
        dt = np.dtype([(names[0], "<i2"), (names[1], "|u1")])
        want = [[names[0], "<i2"], [names[1], "|u1"]]
        t = np.array([(1, 2)], dt)
        doc, _ = roundtrip(d, f"names{k}", t)
        if doc:
            check(f"names{k} typed dtype", doc["dtype"] == want, doc["dtype"])
        o = np.empty(2, object)
        o[0], o[1] = t, t[0]
        np.save(p(f"names{k}_obj.npy"), o)
        doc, _ = json_of(p(f"names{k}_obj.npy"), "--allow-pickle")
        if doc:
            check(f"names{k} ndarray dtype", doc["data"][0]["$ndarray"]["dtype"] == want, doc)
            check(f"names{k} scalar dtype", doc["data"][1]["$scalar"]["dtype"] == want, doc)
            check(f"names{k} values", doc["data"][0]["$ndarray"]["data"] == [[1, 2]] and
                  doc["data"][1]["$scalar"]["value"] == [1, 2], doc)

    # ---- a '' field that is not void (test_format.py) --------------------------------
    dt = np.dtype({"names": ["a", "", "b"], "formats": ["i4"] * 3})
    a = np.zeros((2, 2), dt)
    for i, row in enumerate([(1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12)]):
        a.flat[i] = row
    doc, _ = roundtrip(d, "empty_name", a)
    if doc:
        check("empty_name data", doc["data"] == [[list(x) for x in r] for r in a.tolist()],
              doc["data"])
        check("empty_name dtype", doc["dtype"] == [["a", "<i4"], ["", "<i4"], ["b", "<i4"]],
              doc["dtype"])
    r = npio("info", p("empty_name.npy"), text=True)
    check("empty_name info", r.returncode == 0 and
          "structured (3 fields, 12 bytes)" in r.stdout and
          f"descr:        {a.dtype.descr}" in r.stdout, r.stdout + r.stderr)
    # as a pickled ndarray and as a scalar, inside an object array
    o = np.empty(2, object)
    o[0], o[1] = a[0], a[1, 1]
    np.save(p("empty_name_obj.npy"), o)
    doc, _ = json_of(p("empty_name_obj.npy"), "--allow-pickle")
    if doc:
        check("empty_name obj ndarray", doc["data"][0]["$ndarray"]["data"] ==
              [[1, 2, 3], [4, 5, 6]], doc["data"][0])
        check("empty_name obj scalar", doc["data"][1]["$scalar"]["value"] == [10, 11, 12],
              doc["data"][1])

    # ---- lone surrogates in U arrays ------------------------------------------------
    for order in "<>":
        a = np.array(["\ud834", "a\udd1e\ud800z", "\U0001d11e\udfff", ""], order + "U4")
        doc, text = roundtrip(d, "surrogates" + ("le" if order == "<" else "be"), a)
        if doc:
            check("surrogates escaped", b'"\\ud834"' in text and b"\\udd1e\\ud800" in text,
                  text)
            check("surrogates values", doc["data"] == a.tolist(), doc["data"])

    # ---- subarray of a subarray of a struct (descr_to_dtype cases) ----------------------
    inner = {"names": ["a", "b"], "formats": ["i1", "i1"], "offsets": [0, 4], "itemsize": 8}
    dt = np.dtype([("x", ((inner, (3,)), (4,)))])
    a = np.zeros(2, dt)
    a["x"]["a"] = np.arange(24).reshape(2, 4, 3)
    a["x"]["b"] = -np.arange(24).reshape(2, 4, 3)
    doc, _ = roundtrip(d, "sub_sub_struct", a)
    if doc:
        want = json.loads(json.dumps(np.lib.format.header_data_from_array_1_0(a)["descr"]))
        check("sub_sub_struct descr", doc["dtype"] == want, (doc["dtype"], want))
        check("sub_sub_struct data", doc["data"] == plain(a.tolist()), doc["data"][0][0][0])
        # and the dtype on its own, written by hand as json writes it
        js = p("by_hand.json")
        with open(js, "w") as f:
            json.dump({"dtype": doc["dtype"], "shape": [0], "data": []}, f)
        r = npio("from-json", js, p("by_hand.npy"))
        check("sub_sub_struct by hand", r.returncode == 0 and
              np.load(p("by_hand.npy")).dtype == dt, r.stderr)

finish()
