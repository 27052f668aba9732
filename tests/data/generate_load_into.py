#!/usr/bin/python3
"""Golden files for load_into (tests/unit/load_into_tests.cpp).

Writes GOLDEN_DIR/load_into/NAME.npy with np.save and NAME.bin holding the
array's memory exactly as np.load returns it (a.tobytes in the file's order),
which is what load_into must leave in the destination.
"""

import os
import sys

import numpy as np
from numpy.lib import format as npformat


def main():
    out = os.path.join(sys.argv[1], "load_into")
    os.makedirs(out, exist_ok=True)
    arrays = {
        "f8_1d": np.arange(1000, dtype="<f8") / 7,
        "i4_be_2d": np.arange(12, dtype=">i4").reshape(3, 4),
        "f4_fortran": np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)),
        "u2_0d": np.array(513, dtype="<u2"),
        "f8_empty": np.zeros((0, 5), dtype="<f8"),
        "struct": np.array([(1, 2.5, b"ab"), (-3, 4.0, b"xyz")],
                           dtype=[("a", "<i4"), ("b", ">f8"), ("c", "S3")]),
        "U3": np.array(["a\u00e9", "xyz"], dtype="<U3"),
        # > 4096 header bytes: the header needs a second read.
        "long_header": np.arange(400, dtype="u1").view([("f%03d" % i, "u1") for i in range(400)]),
        # > 10000 header bytes: header_too_large unless max_header_size is lifted.
        "huge_header": np.zeros(2, dtype=[("field_%04d" % i, "u1") for i in range(900)]),
        "object": np.array([1, None], dtype=object),
    }
    for name, a in arrays.items():
        path = os.path.join(out, name + ".npy")
        np.save(path, a, allow_pickle=True)
        if a.dtype.hasobject:
            continue
        order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(np.load(path, max_header_size=10**6).tobytes(order=order))
    with open(os.path.join(out, "v2.npy"), "wb") as f:
        npformat.write_array(f, np.arange(6, dtype="<i8"), version=(2, 0))
    with open(os.path.join(out, "v2.bin"), "wb") as f:
        f.write(np.arange(6, dtype="<i8").tobytes())
    with open(os.path.join(out, "f8_1d.npy"), "rb") as f:
        full = f.read()
    with open(os.path.join(out, "truncated.npy"), "wb") as f:
        f.write(full[:-1])
    with open(os.path.join(out, "bad_magic.npy"), "wb") as f:
        f.write(b"\x93NUMPZ" + full[6:])


if __name__ == "__main__":
    main()
