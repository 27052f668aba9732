#!/usr/bin/python3
"""The .npz benchmarks against NumPy in the same run, and the table of ratios.

    /usr/bin/python3 bench/npz_numpy.py BUILD_DIR [--reps N]

Makes the data (16 MiB of random float64, 16 MiB of int64 in [0, 1000), 64 MiB
of float64 for stored archives) in BUILD_DIR/bench-npz, times NumPy
(savez_compressed, savez, np.load(...)['x']), runs BUILD_DIR/bin/npio_bench
--benchmark_filter=^npz_ on the same files, then times NumPy reading the
archives npio wrote. Prints a markdown table; medians of N runs (default 5).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


TIMES = {}  # case -> {"wall": [...], "cpu": [...]}: every repetition, for --json


def median_time(fn, reps, name=None):
    ts, cs = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    if name:
        TIMES[name] = {"wall": ts, "cpu": cs}
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", help="also write NumPy's times (every repetition, wall and CPU) "
                    "and npio_bench's JSON file name here, for bench/table.py")
    args = ap.parse_args()
    d = os.path.join(args.build, "bench-npz")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1)
    arrays = {
        "f64": rng.random(2 << 20),
        "ints": rng.integers(0, 1000, 2 << 20, dtype=np.int64),
        "stored": np.arange(8 << 20, dtype=np.float64) * 0.5,
    }
    for k, a in arrays.items():
        np.save(os.path.join(d, "x_%s.npy" % k), a)

    numpy = {}
    for k in ("f64", "ints"):
        p = os.path.join(d, "numpy_%s.npz" % k)
        numpy["write_" + k] = median_time(lambda: np.savez_compressed(p, x=arrays[k]), args.reps,
                                          "write_" + k)
        numpy["size_" + k] = os.path.getsize(p)
        numpy["read_numpy_" + k] = median_time(lambda: np.load(p)["x"], args.reps,
                                               "read_numpy_" + k)
    ps = os.path.join(d, "numpy_stored.npz")
    numpy["write_stored"] = median_time(lambda: np.savez(ps, x=arrays["stored"]), args.reps,
                                        "write_stored")
    numpy["read_stored"] = median_time(lambda: np.load(ps)["x"], args.reps, "read_stored")

    out = os.path.join(d, "npio.json")
    env = dict(os.environ, NPIO_BENCH_NPZ_DIR=d)
    subprocess.run([os.path.join(args.build, "bin", "npio_bench"), "--benchmark_filter=^npz_",
                    "--benchmark_repetitions=%d" % args.reps,
                    "--benchmark_display_aggregates_only=true", "--benchmark_out=" + out,
                    "--benchmark_out_format=json"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    npio = {}
    sizes = {}
    for b in json.load(open(out))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].replace("/process_time", "").replace("/real_time", "")
        npio[name] = b["real_time"] / 1e3  # ms -> s
        if "archive_bytes" in b:
            sizes[name] = b["archive_bytes"]
    for k in ("f64", "ints"):
        p = os.path.join(d, "npio_%s.npz" % k)
        numpy["read_npio_" + k] = median_time(lambda: np.load(p)["x"], args.reps,
                                              "read_npio_" + k)
        assert np.array_equal(np.load(p)["x"], arrays[k])

    if args.json:
        sizes_np = {k: numpy["size_" + k] for k in ("f64", "ints")}
        with open(args.json, "w") as f:
            json.dump({"numpy": TIMES, "npio_json": out, "bytes": {k: int(a.nbytes) for k, a in
                                                                  arrays.items()},
                       "numpy_sizes": sizes_np, "npio_sizes": sizes}, f, indent=1)

    mib = lambda n, t: "%.0f MB/s" % (n / t / 1e6)
    rows = []
    for k in ("f64", "ints"):
        n = arrays[k].nbytes
        t_np, t_us = numpy["write_" + k], npio["npz_savez_compressed/" + k]
        rows.append(("savez_compressed " + k, mib(n, t_np), mib(n, t_us), t_np / t_us,
                     "size %.4fx NumPy's" % (sizes["npz_savez_compressed/" + k] / numpy["size_" + k])))
        for w in ("numpy", "npio"):
            t_np, t_us = numpy["read_%s_%s" % (w, k)], npio["npz_read_compressed/%s_%s" % (w, k)]
            rows.append(("read deflated %s (archive by %s)" % (k, w), mib(n, t_np), mib(n, t_us),
                         t_np / t_us, ""))
    n = arrays["stored"].nbytes
    rows.append(("savez stored 64 MiB", mib(n, numpy["write_stored"]),
                 mib(n, npio["npz_savez_stored"]), numpy["write_stored"] / npio["npz_savez_stored"],
                 "%.2fx plain write() (%s)" % (npio["npz_plain_write"] / npio["npz_savez_stored"],
                                              mib(n, npio["npz_plain_write"]))))
    rows.append(("load stored 64 MiB", mib(n, numpy["read_stored"]),
                 mib(n, npio["npz_load_stored"]), numpy["read_stored"] / npio["npz_load_stored"],
                 "%.2fx plain read() (%s)" % (npio["npz_plain_read"] / npio["npz_load_stored"],
                                             mib(n, npio["npz_plain_read"]))))
    print("| case | NumPy | npio | npio / NumPy | notes |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %.2fx | %s |" % r)


if __name__ == "__main__":
    sys.exit(main())
