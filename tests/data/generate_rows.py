#!/usr/bin/python3
"""Golden files for appends, partial reads, streaming and load's dispatch
(tests/unit/rows_tests.cpp, tests/unit/bad_magic_tests.cpp).

Writes GOLDEN_DIR/rows/:
  NAME.npy      arrays np.save wrote (NumPy >= 1.24 pads headers for growth)
  old_no_room.npy  a header laid out as NumPy < 1.24 wrote it, full to the
                byte, so one more digit in the shape needs a new header
  members.npz / members_deflated.npz  the same arrays through np.savez and
                np.savez_compressed
  append_NAME_block.npy, append_NAME_row.npy  rows to append to NAME.npy
                (a block along the growth axis, then one row without it), and
  append_NAME_expected.npy  np.save of the concatenation: an in-place append
                to NAME.npy must give these bytes exactly
  pickle_*.pkl  pickle.dump of Python values at protocols 0 to 5
"""

import os
import pickle
import sys

import numpy as np


def arrays():
    return {
        "c_f8": np.arange(4 * 3, dtype="<f8").reshape(4, 3) / 4,
        "c_i2_1d": np.arange(9, dtype="<i2"),
        "be_i8": np.arange(10, dtype=">i8").reshape(5, 2) * -3,
        "f_i4": np.asfortranarray(np.arange(3 * 4 * 5, dtype="<i4").reshape(3, 4, 5)),
        "u3": np.array(["a\u00e9", "xyz", ""], dtype="<U3"),
        "rec": np.array([(1, 2.5), (-3, 4.0)], dtype=[("id", "<i4"), ("x", ">f8")]),
        "empty": np.zeros((0, 4), dtype="<f4"),
        "scalar": np.array(7, dtype="<u2"),
        "big_c": (np.arange(3000 * 7, dtype="<u4") * 2654435761 % 1000003).reshape(3000, 7),
        "big_f": np.asfortranarray((np.arange(7 * 3000, dtype="<f4") / 3).reshape(3000, 7)),
    }


def old_no_room(path):
    # A v1.0 header whose text fills its 64-byte-aligned size exactly, as
    # NumPy < 1.24 could write it: no spaces left for a longer shape.
    a = np.arange(9, dtype="<i2")
    for n in range(1, 200):
        descr = [("f" * n, "<i2")]
        text = "{'descr': %r, 'fortran_order': False, 'shape': (9,), }" % (descr,)
        if (10 + len(text) + 1) % 64 == 0:
            break
    data = a.view(descr).tobytes()
    head = text.encode("latin1") + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + data)
    b = np.load(path)
    assert b.dtype == np.dtype(descr) and b.shape == (9,), b


def main():
    out = os.path.join(sys.argv[1], "rows")
    os.makedirs(out, exist_ok=True)
    arrs = arrays()
    for name, a in arrs.items():
        np.save(os.path.join(out, name + ".npy"), a)
    old_no_room(os.path.join(out, "old_no_room.npy"))
    appends = dict(arrs)
    del appends["scalar"]
    appends["old_no_room"] = np.load(os.path.join(out, "old_no_room.npy"))
    for name, a in appends.items():
        fortran = a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous
        axis = a.ndim - 1 if fortran else 0
        if a.shape[axis] < 2:
            block = np.ones(a.shape[:axis] + (2,) + a.shape[axis + 1:], a.dtype)
        else:
            block = np.take(a, [1, 0], axis=axis)
        row = np.take(block, 0, axis=axis)
        full = np.concatenate([a, block, np.expand_dims(row, axis)], axis=axis).astype(a.dtype)
        if fortran:
            block, row, full = (np.asfortranarray(x) for x in (block, row, full))
        np.save(os.path.join(out, "append_%s_block.npy" % name), block)
        np.save(os.path.join(out, "append_%s_row.npy" % name), row)
        np.save(os.path.join(out, "append_%s_expected.npy" % name), full)
    members = {k: v for k, v in arrs.items() if k != "scalar"}
    members["scalar"] = arrs["scalar"]
    np.savez(os.path.join(out, "members.npz"), **members)
    np.savez_compressed(os.path.join(out, "members_deflated.npz"), **members)
    value = {"epoch": 3, "name": "run-1", "lr": [0.1, 0.01], "ok": True}
    for proto in range(6):
        with open(os.path.join(out, "pickle_p%d.pkl" % proto), "wb") as f:
            pickle.dump(value, f, protocol=proto)
    for name, v in (("int", 5), ("str", "abc"), ("list", [1, 2]), ("none", None),
                    ("float", 1.5), ("tuple", (1, "a"))):
        for proto in (0, 1):
            with open(os.path.join(out, "pickle_%s_p%d.pkl" % (name, proto)), "wb") as f:
                pickle.dump(v, f, protocol=proto)


if __name__ == "__main__":
    main()
