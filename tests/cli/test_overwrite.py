#!/usr/bin/python3
"""npio from-json over existing files (issue #12): the output is replaced
atomically, a symbolic link at the output is written through (as np.save
writes through one), and no temporary file is left beside the target.
Temporary files a killed writer left (`.NAME.npio-tmp.HEX`, unlocked) are
removed by the next write to the directory.

Usage: test_overwrite.py PATH_TO_npio
"""
import json
import os
import tempfile

import numpy as np

from checks import check, finish, npio


def doc(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


with tempfile.TemporaryDirectory() as d:
    p = lambda *a: os.path.join(d, *a)
    big = np.arange(1 << 18, dtype="<f8")  # 2 MiB: freed by the release thread
    os.mkdir(p("real"))

    # .npy document over an existing file, through a symbolic link
    np.save(p("real", "a.npy"), big)
    os.symlink(os.path.join("real", "a.npy"), p("a.npy"))
    doc(p("a.json"), {"dtype": "<i4", "shape": [3], "fortran_order": False, "data": [1, 2, 3]})
    r = npio("from-json", p("a.json"), p("a.npy"))
    check("npy exit", r.returncode == 0, r.stderr)
    check("npy link kept", os.path.islink(p("a.npy")))
    check("npy target written", np.load(p("real", "a.npy")).tolist() == [1, 2, 3])

    # .npz document over an existing archive (named .npz, and not)
    for name in ("z.npz", "z.bin"):
        with open(p(name), "wb") as f:
            np.savez(f, x=big)
        doc(p("z.json"), {"members": {"y": {"dtype": "<i8", "shape": [2],
                                            "fortran_order": False, "data": [4, 5]}}})
        r = npio("from-json", p("z.json"), p(name))
        check(name + " exit", r.returncode == 0, r.stderr)
        with np.load(p(name)) as z:
            check(name + " replaced", list(z.keys()) == ["y"] and z["y"].tolist() == [4, 5])

    # pickle document over an existing file
    with open(p("o.pkl"), "wb") as f:
        f.write(b"\0" * (2 << 20))
    doc(p("o.json"), {"pickle": [1, 2]})
    r = npio("from-json", p("o.json"), p("o.pkl"))
    check("pickle exit", r.returncode == 0, r.stderr)
    check("pickle replaced", os.path.getsize(p("o.pkl")) < 1000)

    # A stale temporary file (its writer is gone: nobody holds its lock) is
    # removed by the next write to the directory.
    stale = p("real", ".a.npy.npio-tmp.00000000deadbeef")
    with open(stale, "wb") as f:
        f.write(b"partial")
    r = npio("from-json", p("a.json"), p("a.npy"))
    check("stale exit", r.returncode == 0, r.stderr)
    check("stale removed", not os.path.exists(stale), os.listdir(p("real")))

    left = sorted(os.listdir(d)) + sorted(os.listdir(p("real")))
    check("no temporary files", left == ["a.json", "a.npy", "o.json", "o.pkl", "real", "z.bin",
                                         "z.json", "z.npz", "a.npy"], left)

finish()
