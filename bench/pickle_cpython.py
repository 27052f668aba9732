"""CPython's side of bench_pickle.cpp: an object array of N dicts
{'id': i, 'name': 'x' + str(i), 'v': float(i)} saved with np.save and loaded
with np.load(allow_pickle=True) -- NumPy's object path is CPython's C pickle.

Usage: python3 pickle_cpython.py OUT_DIR N
Writes OUT_DIR/objects.npy and prints {"save_s": best, "load_s": best, "save_wall_s",
"load_wall_s"} (JSON):
the best of 3 runs in process CPU time (the machine may be shared; CPU time is
what both sides are charged, whatever else runs).
"""
import gc
import json
import os
import sys
import time

import numpy as np

out, n = sys.argv[1], int(sys.argv[2])
arr = np.empty(n, dtype=object)
for i in range(n):
    arr[i] = {"id": i, "name": "x" + str(i), "v": float(i)}
path = os.path.join(out, "objects.npy")
other = os.path.join(out, "objects_cpython.npy")

gc.disable()  # as pickle itself does not run the cycle collector; fairer to CPython
save, load, save_wall, load_wall = [], [], [], []
for _ in range(3):
    t, w = time.process_time(), time.perf_counter()
    np.save(other, arr)
    save.append(time.process_time() - t)
    save_wall.append(time.perf_counter() - w)
    t, w = time.process_time(), time.perf_counter()
    back = np.load(other, allow_pickle=True)
    load.append(time.process_time() - t)
    load_wall.append(time.perf_counter() - w)
    del back
np.save(path, arr)
os.remove(other)
print(json.dumps({"save_s": min(save), "load_s": min(load), "save_wall_s": min(save_wall),
                  "load_wall_s": min(load_wall)}))
