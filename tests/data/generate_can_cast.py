#!/usr/bin/python3
"""np.can_cast's table, for npio::can_cast (tests/unit/user_values_tests.cpp).

Writes GOLDEN_DIR/can_cast.txt: one line "FROM TO no equiv safe same_kind unsafe"
per pair of dtypes (dtype.str, digits 0/1), from this NumPy.
"""

import os
import sys

import numpy as np

DTYPES = [
    "?", "i1", "i2", "<i4", ">i4", "<i8", "u1", "<u2", "<u4", ">u8",
    "<f2", "<f4", "<f8", ">f8", "<f16", "<c8", "<c16", ">c16", "<c32",
    "S1", "S3", "S4", "S5", "S6", "S11", "S20", "S21", "S32", "S48", "S64", "S96",
    "<U1", "<U3", ">U3", "<U5", "<U11", "<U21", "<U32", "<U64",
    "V4", "V8", "V16",
    "<M8", "<M8[Y]", "<M8[M]", "<M8[W]", "<M8[D]", "<M8[h]", "<M8[s]", "<M8[3s]", ">M8[ms]",
    "<M8[ns]", "<M8[as]",
    "<m8", "<m8[Y]", "<m8[M]", "<m8[D]", "<m8[s]", "<m8[25s]", "<m8[ns]", ">m8[us]",
    "O",
]
RULES = ["no", "equiv", "safe", "same_kind", "unsafe"]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    dts = [np.dtype(d) for d in DTYPES]
    with open(os.path.join(out, "can_cast.txt"), "w") as f:
        f.write("# numpy %s\n" % np.__version__)
        for a in dts:
            for b in dts:
                bits = "".join("1" if np.can_cast(a, b, r) else "0" for r in RULES)
                f.write("%s %s %s\n" % (a.str, b.str, bits))


if __name__ == "__main__":
    main()
