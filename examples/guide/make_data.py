#!/usr/bin/python3
"""The files of docs/guide.md's five tasks, written by NumPy into DIR.

  model.npz     a colleague's np.savez: Fortran-order float32 weights, a <U label
                array and a pickled metadata dict
  config.npy    np.save of a dict (a 0-d object array)
  samples.npy   a (4000, 3) float32 file to memory-map (the guide's is 2 GiB)
  particles.npz np.savez_compressed of a structured array
  big.npy       a (5000, 4) int64 file to read rows 1000..2000 of
  untrusted/    files a user might upload: good, CSV-named-.npy, pickle,
                truncated, a header that declares 2**60 elements
"""

import os
import pickle
import sys

import numpy as np


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "untrusted"), exist_ok=True)
    weights = np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4) / 2)
    labels = np.array(["cat", "dog", "gnu", "\u00e9lan"], dtype="<U5")
    meta = {"lr": 0.01, "epochs": 20, "layers": [64, 32], "name": "run-7"}
    np.savez(os.path.join(out, "model.npz"), weights=weights, labels=labels, meta=meta)
    np.save(os.path.join(out, "config.npy"), {"batch": 128, "optimizer": "adam"})

    i = np.arange(4000, dtype="<f4")
    np.save(os.path.join(out, "samples.npy"), np.stack([i, 2 * i, np.ones_like(i)], axis=1))

    particles = np.zeros(5, dtype=[("id", "<i4"), ("pos", "<f4", (3,)), ("name", "<U8")])
    particles["id"] = np.arange(5) * 10
    particles["pos"] = np.arange(15, dtype="<f4").reshape(5, 3)
    particles["name"] = ["p0", "p1", "p2", "\u03b1-p3", "p4"]
    np.savez_compressed(os.path.join(out, "particles.npz"), particles=particles)

    np.save(os.path.join(out, "big.npy"), np.arange(5000 * 4, dtype="<i8").reshape(5000, 4))

    u = os.path.join(out, "untrusted")
    np.save(os.path.join(u, "good.npy"), np.arange(6, dtype="<i2"))
    with open(os.path.join(u, "table.npy"), "w") as f:
        f.write("id,x,y\n1,2.5,3\n")
    with open(os.path.join(u, "model.npy"), "wb") as f:
        pickle.dump({"weights": [1, 2, 3]}, f, protocol=4)
    raw = open(os.path.join(u, "good.npy"), "rb").read()
    with open(os.path.join(u, "cut.npy"), "wb") as f:
        f.write(raw[:-4])
    head = "{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824, 1073741824), }"
    head = head + " " * (117 - len(head)) + "\n"
    with open(os.path.join(u, "huge.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head.encode() + b"\0" * 64)


if __name__ == "__main__":
    main()
