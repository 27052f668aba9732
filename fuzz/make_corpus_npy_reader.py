#!/usr/bin/python3
"""Writes the seed corpus of fuzz_npy_reader, fuzz/corpus/npy_reader/.

Run with Debian's NumPy (/usr/bin/python3) after fuzz/make_corpus.py and commit
the output:

    /usr/bin/python3 fuzz/make_corpus_npy_reader.py [OUT_DIR]

A seed is one byte, then a .npy file (byte even) or an .npz archive (byte
odd); the byte's bits 1-7, v, ask for chunks of 1 + v rows when v < 64, else
of 2^(v - 64) rows (see fuzz/fuzz_npy_reader.cpp). Seeds are the .npy corpus (fuzz/corpus/npy/) with
chunks of 1 and 3 rows, the .npz corpus (fuzz/corpus/npz/) with chunks of 2,
and NumPy-written archives with several rows per member, stored and deflated,
C and Fortran order, so chunks end inside and at the end of a member.
"""

import io
import os
import sys

import numpy as np


def npz_bytes(compressed, **arrays):
    f = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return f.getvalue()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "npy_reader")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    npy_dir = os.path.join(here, "corpus", "npy")
    for name in sorted(os.listdir(npy_dir)):
        with open(os.path.join(npy_dir, name), "rb") as f:
            b = f.read()
        seeds["npy_n1_" + name] = bytes([0]) + b  # one row per chunk
        seeds["npy_n3_" + name] = bytes([2 << 1]) + b  # three rows
        seeds["npy_n2p40_" + name] = bytes([(64 + 40) << 1]) + b  # 2^40 rows
    npz_dir = os.path.join(here, "corpus", "npz")
    for name in sorted(os.listdir(npz_dir)):
        with open(os.path.join(npz_dir, name), "rb") as f:
            seeds["npz_n2_" + name] = bytes([(1 << 1) | 1]) + f.read()
    rows = {
        "f8": np.arange(40, dtype="<f8").reshape(10, 4) / 7,
        "i2_be": np.arange(30, dtype=">i2").reshape(10, 3),
        "f4_fortran": np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)),
        "rec": np.zeros(5, dtype=[("a", "<i4"), ("b", "S3")]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 2), dtype="<u1"),
    }
    for compressed in (False, True):
        kind = "deflated" if compressed else "stored"
        seeds["npz_n3_%s.npz" % kind] = bytes([(2 << 1) | 1]) + npz_bytes(compressed, **rows)
        seeds["npz_n1_%s_lines.npz" % kind] = bytes([1]) + npz_bytes(
            compressed, lines=np.arange(200, dtype="<i4").reshape(100, 2)
        )
    for name, b in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)
    total = sum(len(b) for b in seeds.values())
    print("wrote %d seeds, %d bytes in all" % (len(seeds), total))


if __name__ == "__main__":
    main()
