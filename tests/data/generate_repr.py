#!/usr/bin/python3
"""NumPy's repr() of arrays, for array::repr (tests/unit/user_values_tests.cpp).

Writes GOLDEN_DIR/repr/NAME.npy and NAME.txt (repr(np.load(NAME.npy))) with
NumPy's default print options.
"""

import os
import sys

import numpy as np


def arrays():
    return {
        "f8": np.array([1.0, 2.0, 3.0]),
        "f8_frac": np.array([1.5, 2.25, -0.125]),
        "f8_third": np.array([0.1, 1 / 3, 2.0]),
        "f8_exp": np.array([1e-5, 1.5, 1e10]),
        "f8_big": np.array([1e8, 2e8]),
        "f8_nonfinite": np.array([np.nan, -np.inf, 1.5]),
        "f8_allnan": np.array([np.nan, np.inf]),
        "f8_0d": np.array(2.5),
        "f8_neg_zero": np.array([-0.0, 0.0]),
        "f8_empty": np.zeros(0),
        "f8_empty_2d": np.zeros((2, 0)),
        "f8_long": np.arange(30) / 7,
        "f4": np.array([0.1, 0.2, 3.5], dtype="<f4"),
        "f2": np.array([0.1, 1.0, 65504.0], dtype="<f2"),
        "f8_be": np.array([1.0, -2.5], dtype=">f8"),
        "i4_be": np.array([1, 2], dtype=">i4"),
        "U_be": np.array(["a"], dtype=">U2"),
        "f16": np.array([1.5, 0.1], dtype="<f16"),
        "i4_2d": np.array([[1, 2], [3, 4]], dtype="<i4"),
        "i8": np.array([-5, 10, 300]),
        "i8_wrap": np.arange(40) * 1000,
        "u1": np.array([0, 255], dtype="u1"),
        "u8_big": np.array([2**64 - 1, 0], dtype="<u8"),
        "b1": np.array([True, False, True]),
        "b1_all_true": np.array([True, True]),
        "b1_0d": np.array(True),
        "S": np.array([b"a", b"bc", b"\x00x"], dtype="S3"),
        "U": np.array(["a", "b\u00e9c", "it's"], dtype="<U4"),
        "i8_3d": np.arange(24).reshape(2, 3, 4),
        "f8_3d": (np.arange(12) / 4).reshape(3, 2, 2),
        "large_1d": np.arange(2000, dtype="<f8"),
        "large_2d": np.arange(3000, dtype="<i4").reshape(30, 100),
        "large_3d": np.arange(1200).reshape(10, 10, 12),
        "c16": np.array([1 + 2j, -1.5 - 0.5j]),
        "c8": np.array([1j, 2], dtype="<c8"),
        "m8": np.array([1, -2, "NaT"], dtype="<m8[s]"),
        "struct": np.array([(1, 2.5), (-3, 4.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
        "f8_random_2d": np.random.default_rng(5).normal(size=(4, 7)) * 100,
        "f4_small": np.array([1e-3, 2.5e-4, 7.0], dtype="<f4"),
        "f8_ints_neg": np.array([-1.0, 100.0, 2.0]),
        "U_long_wrap": np.array(["word%d" % i for i in range(20)]),
        "S_2d": np.array([[b"ab", b"c"], [b"", b"d'e"]]),
        "struct_strings": np.array([(1, "x", [1.5, 2.0])], dtype=[("n", "<u2"), ("s", "<U3"), ("v", "<f4", (2,))]),
        "object": np.array([1, "a", None, [1, 2]], dtype=object),
        "c16_exp": np.array([1e-10 + 1j, 3 + 4e12j]),
        "large_bool": np.arange(2001) % 3 == 0,
        "f8_1x1x1": np.ones((1, 1, 1)),
        "i8_0d": np.array(7),
        "U_0d": np.array("hi"),
        "M8_s": np.array(["2020-01-01T00:00:01", "NaT", "1969-12-31T23:59:59"], dtype="<M8[s]"),
        "M8_D": np.array(["2000-02-29", "1900-03-01"], dtype="<M8[D]"),
        "M8_ns": np.array(["2021-06-01T12:34:56.123456789"], dtype="<M8[ns]"),
        "M8_ms_be": np.array(["1970-01-01T00:00:00.001", "NaT"], dtype=">M8[ms]"),
        "M8_Y": np.array(["2020", "1970"], dtype="<M8[Y]"),
        "M8_M": np.array(["2020-02", "1969-12"], dtype="<M8[M]"),
        "M8_W": np.array([0, 1, -1], dtype="<M8[W]"),
        "M8_h": np.array([25, -1], dtype="<M8[h]"),
        "M8_m": np.array([61], dtype="<M8[m]"),
        "M8_3s": np.array([1, 2], dtype="<M8[3s]"),
        "M8_neg_years": np.array(["-0100-03-04", "-0005-01-01", "12345-01-01"], dtype="<M8[D]"),
        "M8_us": np.array([-1], dtype="<M8[us]"),
        "i2_fortran": np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3)),
    }


def main():
    out = os.path.join(sys.argv[1], "repr")
    os.makedirs(out, exist_ok=True)
    for name, a in arrays().items():
        np.save(os.path.join(out, name + ".npy"), a)
        with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(repr(a))


if __name__ == "__main__":
    main()
