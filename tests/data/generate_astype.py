#!/usr/bin/python3
"""NumPy's astype for the casts npio writes itself (tests/unit/astype_tests.cpp).

Writes GOLDEN_DIR/astype/: for case N, N_src.npy (random values, seeded) and
N_dst.npy (src.astype(TO) from this NumPy), and astype.txt with one line
"N FROM TO" per case, or "N FROM TO error" where NumPy refuses the cast.
Cases: every numeric type (both byte orders for the wider ones) to S and U of
NumPy's own width, of narrower widths (cut text) and big-endian U; and every
pair of datetime64 units and of timedelta64 units, with multiples, and
datetime64 <-> timedelta64.
"""

import os
import sys

import numpy as np

NUMERIC = ["?", "i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "u1", "<u2", "<u4", ">u4",
           "<u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<f16", "<c8", ">c8", "<c16", ">c16",
           "<c32"]
TEXT = ["U", "S", "<U3", "S2", ">U8", "<U12", "S7", "<U24"]
UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
         "3s", "10s", "7D", "2M", "25ms"]


def special_floats(dt):
    info = np.finfo(dt)
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1.5, 0.1, 1 / 3, np.nan, -np.nan, np.inf, -np.inf,
            1e-4, 9.999e-5, 1e16, 9.999e15, 1e15, 123456789.0, float(info.max), float(info.tiny),
            float(info.smallest_subnormal), -float(info.max), 1e-5, 65504.0, 1e20, 1e-20,
            0.30000000000000004]
    with np.errstate(over="ignore"):
        return np.array(vals, dtype=np.float64).astype(dt)


def random_values(rng, dt, n=200):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=dt.newbyteorder("="), endpoint=True)
        v[:4] = [0, info.min, info.max, 1 if info.min == 0 else -1]
        return v.astype(dt)
    if dt.kind == "f":
        base = dt.newbyteorder("=")
        if base.itemsize <= 8:
            # random bit patterns: every exponent, subnormals, NaN payloads
            bits = rng.integers(0, 2 ** (8 * base.itemsize), n, dtype="u%d" % base.itemsize)
            v = bits.view(base)
        else:
            v = (rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)).astype(base)
        with np.errstate(over="ignore"):
            # short decimals too (the common case: 0.1, 2.5, 1e-5)
            v[: n // 4] = np.round(rng.standard_normal(n // 4) * 100, 2).astype(base)
        return np.concatenate([special_floats(base), v]).astype(dt)
    # complex: pairs of the float cases
    part = np.dtype("f%d" % (dt.itemsize // 2))
    re = random_values(rng, part, n)
    im = random_values(rng, part, n)
    rng.shuffle(im)
    v = np.empty(len(re), dtype=dt.newbyteorder("="))
    v.real, v.imag = re, im
    v[:3] = [0j, complex(0.0, -0.5), complex(-0.0, 0.0)]
    return v.astype(dt)


def random_times(rng, n=300):
    vals = np.concatenate([
        rng.integers(-1000, 1000, n // 3),
        rng.integers(-10 ** 7, 10 ** 7, n // 3),
        rng.integers(-10 ** 12, 10 ** 12, n // 6),
        rng.integers(-2 ** 63 + 1, 2 ** 63 - 1, n // 6, dtype=np.int64),
        [0, 1, -1, 11, -11, 12, -12, 13, -13, 59, -59, 60, -61, 86399, -86401,
         -2 ** 63, 2 ** 63 - 1, -2 ** 63 + 1],
    ])
    return vals.astype(np.int64)


def main():
    out = os.path.join(sys.argv[1], "astype")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261207)
    lines = ["# numpy %s" % np.__version__]
    cases = []
    for f in NUMERIC:
        src = random_values(rng, f)
        for t in TEXT:
            cases.append((src, t))
    for kind in "Mm":
        for a in UNITS:
            src_dt = np.dtype("%s8[%s]" % (kind, a))
            # calendar casts (datetime64 to or from Y, M) keep to years NumPy's
            # day arithmetic does not overflow
            vals = random_times(rng)
            if kind == "M":
                vals = vals[np.abs(vals) < 10 ** 12] if a in ("Y", "M") else vals
            src = vals.view(src_dt)
            src = np.concatenate([src, np.array(["NaT"], dtype=src_dt)])
            for b in UNITS:
                if a != b:
                    cases.append((src, "%s8[%s]" % (kind, b)))
            cases.append((src.astype(src_dt.newbyteorder(">")), "<%s8[ms]" % kind))
            cases.append((src, ">%s8[us]" % kind))
            # datetime64 <-> timedelta64: NumPy 1.24 copies the count, whatever the units
            cases.append((src, "%s8[ms]" % ("m" if kind == "M" else "M")))
    for n, (src, to) in enumerate(cases):
        np.save(os.path.join(out, "%d_src.npy" % n), src)
        try:
            with np.errstate(all="ignore"):
                dst = src.astype(to)
        except (OverflowError, ValueError, TypeError):
            lines.append("%d %s %s error" % (n, src.dtype.str, np.dtype(to).str))
            continue
        np.save(os.path.join(out, "%d_dst.npy" % n), dst)
        lines.append("%d %s %s" % (n, src.dtype.str, dst.dtype.str))
    with open(os.path.join(out, "astype.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
