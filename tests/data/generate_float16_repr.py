#!/usr/bin/python3
"""NumPy's repr() of every float16 below 2048 in magnitude, as a 0-d array,
for array::repr's float16 digits (tests/unit/json_tests.cpp, Float16Repr).
Above 2048 (spacing 2 and more) NumPy's 0-d repr prints the integer digits
exactly ('4112.', where format_float_positional gives '4110.'), a layout rule
array::repr does not follow yet; infinities and NaNs are left out too.

Writes GOLDEN_DIR/float16_repr/bits.npy (the uint16 patterns) and reprs.txt
(repr(np.array(h)) of each, one a line).
"""

import os
import sys

import numpy as np


def main():
    out = os.path.join(sys.argv[1], "float16_repr")
    os.makedirs(out, exist_ok=True)
    bits = np.arange(65536, dtype="<u2")
    halves = bits.view("<f2")
    bits = bits[np.abs(halves) < 2048]
    np.save(os.path.join(out, "bits.npy"), bits)
    with open(os.path.join(out, "reprs.txt"), "w", encoding="utf-8") as f:
        for h in bits.view("<f2"):
            f.write(repr(np.array(h)) + "\n")


if __name__ == "__main__":
    main()
