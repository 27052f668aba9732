#!/usr/bin/python3
"""NumPy's side of the .npy benchmarks (bench/run.sh; bench/table.py prints the table).

    npy_numpy.py setup DIR [--bytes N] [--small N]   big.npy (N bytes of float64, default
                                                    1 GiB) and small/00000.npy ... (default
                                                    10,000 files of 128 float64 = 1 KiB data)
    npy_numpy.py time DIR [--reps N]                 times np.load, np.save, np.load(mmap_mode='r')
                                                    and the small files; JSON on stdout

Each case runs several repetitions and keeps the median and the best. Every case runs on the same files as
npio_bench, page cache warm. OPENBLAS_* and OMP_* settings do not matter
here: np.load and np.save never call BLAS.
"""

import argparse
import json
import os
import statistics
import sys
import time

SMALL_ELEMS = 128  # 1 KiB of float64 per small file


def setup(args):
    import numpy as np

    os.makedirs(os.path.join(args.dir, "small"), exist_ok=True)
    big = os.path.join(args.dir, "big.npy")
    n = args.bytes // 8
    if not (os.path.exists(big) and np.load(big, mmap_mode="r").shape == (n,)):
        a = np.arange(n, dtype="<f8")
        a *= 0.5
        np.save(big, a)
        del a
    small = os.path.join(args.dir, "small")
    have = len(os.listdir(small))
    if have != args.small:
        for f in os.listdir(small):
            os.unlink(os.path.join(small, f))
        rng = np.random.default_rng(1)
        for i in range(args.small):
            np.save(os.path.join(small, "%05d.npy" % i), rng.standard_normal(SMALL_ELEMS))
    print("bench data in %s: big.npy %d bytes, %d small files" % (args.dir, os.path.getsize(big),
                                                                   args.small), file=sys.stderr)


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


CPU = {}  # case -> median process CPU seconds of the last median_time call


def median_time(fn, reps, setup_fn=None, teardown=None):
    times, cpu = [], []
    for _ in range(reps):
        if setup_fn:
            setup_fn()
        c0 = time.process_time()
        t0 = time.perf_counter()
        r = fn()
        t1 = time.perf_counter()
        c1 = time.process_time()
        times.append(t1 - t0)
        cpu.append(c1 - c0)
        if teardown:
            teardown(r)
        del r
    CPU["last"] = statistics.median(cpu)
    return statistics.median(times), min(times)


def time_numpy(args):
    import numpy as np

    big = os.path.join(args.dir, "big.npy")
    small_dir = os.path.join(args.dir, "small")
    small = sorted(os.path.join(small_dir, f) for f in os.listdir(small_dir))
    out_dir = os.path.join(args.dir, "out")
    os.makedirs(out_dir, exist_ok=True)
    nbytes = os.path.getsize(big)
    res = {"numpy_version": np.__version__, "big_file_bytes": nbytes, "small_files": len(small)}

    warm(big)
    np.load(big)  # first touch of the allocator
    med, best = median_time(lambda: np.load(big), args.reps)
    res["load_fresh/numpy"] = {"seconds": med, "min_seconds": best, "cpu_seconds": CPU["last"]}

    a = np.load(big)
    out = os.path.join(out_dir, "save_numpy.npy")

    def rm():
        if os.path.exists(out):
            os.unlink(out)

    for _ in range(2):  # untimed: the first big writes of a process are slower here
        rm()
        np.save(out, a)
    med, best = median_time(lambda: np.save(out, a), args.reps, setup_fn=rm)
    rm()
    res["save/numpy"] = {"seconds": med, "min_seconds": best, "cpu_seconds": CPU["last"]}

    # np.save over an existing file that is on disk (fsync'ed untimed, as a
    # checkpoint written yesterday): open(O_TRUNC) frees the old blocks first.
    ow = os.path.join(out_dir, "overwrite_numpy.npy")
    np.save(ow, a)
    times, cpu = [], []
    for i in range(args.reps + 2):  # the first two untimed, as for save
        fd = os.open(ow, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        c0 = time.process_time()
        t0 = time.perf_counter()
        np.save(ow, a)
        t1 = time.perf_counter()
        c1 = time.process_time()
        if i >= 2:
            times.append(t1 - t0)
            cpu.append(c1 - c0)
    os.unlink(ow)
    res["overwrite/numpy"] = {"seconds": statistics.median(times), "min_seconds": min(times),
                              "cpu_seconds": statistics.median(cpu)}
    del a

    # np.load(mmap_mode='r'): open only; the maps are dropped outside the timing.
    batch = 200
    times, cpu = [], []
    for _ in range(max(args.reps, 5)):
        keep = []
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(batch):
            keep.append(np.load(big, mmap_mode="r"))
        t1 = time.perf_counter()
        c1 = time.process_time()
        times.append((t1 - t0) / batch)
        cpu.append((c1 - c0) / batch)
        del keep
    res["mmap_open/numpy"] = {"seconds": statistics.median(times), "min_seconds": min(times),
                              "cpu_seconds": min(cpu)}

    for p in small:
        warm(p)

    def load_all():
        for p in small:
            np.load(p)

    c0 = time.process_time()
    med, best = median_time(load_all, max(2, args.reps // 2))
    c1 = time.process_time()
    n = max(2, args.reps // 2) * len(small)
    res["small_load/numpy"] = {"seconds": med / len(small), "min_seconds": best / len(small),
                               "cpu_seconds": (c1 - c0) / n}
    json.dump(res, sys.stdout, indent=1)
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("dir")
    s.add_argument("--bytes", type=int, default=1 << 30)
    s.add_argument("--small", type=int, default=10000)
    t = sub.add_parser("time")
    t.add_argument("dir")
    t.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    {"setup": setup, "time": time_numpy}[args.cmd](args)


if __name__ == "__main__":
    main()
