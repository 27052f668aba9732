#!/usr/bin/python3
"""NumPy's side of the .npy benchmarks, and the ratio table (bench/run.sh).

    npy_numpy.py setup DIR [--bytes N] [--small N]   big.npy (N bytes of float64, default
                                                    1 GiB) and small/00000.npy ... (default
                                                    10,000 files of 128 float64 = 1 KiB data)
    npy_numpy.py time DIR [--reps N]                 times np.load, np.save, np.load(mmap_mode='r')
                                                    and the small files; JSON on stdout
    npy_numpy.py report NPIO_JSON NUMPY_JSON [--stat min|median]
                                                    the table of ratios (markdown)

Each case runs several repetitions; the report uses the best (min) by default,
the estimator least disturbed by other work on a shared machine. Every case runs on the same files as
npio_bench, page cache warm. OPENBLAS_* and OMP_* settings do not matter
here: np.load and np.save never call BLAS.
"""

import argparse
import json
import os
import re
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


def gbench_times(path, stat):
    """Real time per iteration (seconds) of each npio_bench case: the best
    ("min") or the median ("median") of its repetitions."""
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    runs, cpus = {}, {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name = re.sub(r"/(iterations:\d+|real_time|process_time|repeats:\d+)", "", b.get("run_name", b["name"]))
        runs.setdefault(name, []).append(b["real_time"] * scale[b["time_unit"]])
        cpus.setdefault(name, []).append(b["cpu_time"] * scale[b["time_unit"]])
    pick = min if stat == "min" else statistics.median
    ctx = data.get("context", {})
    ctx["cpu"] = {k: min(v) for k, v in cpus.items()}
    return {k: pick(v) for k, v in runs.items()}, ctx


def report(args):
    cpp, ctx = gbench_times(args.npio_json, args.stat)
    with open(args.numpy_json) as f:
        py = json.load(f)
    np_key = "min_seconds" if args.stat == "min" else "seconds"
    nfiles = py["small_files"]
    gib = py["big_file_bytes"] / 2**30

    def np_t(k):
        return py[k][np_key]

    def c(k):
        return cpp.get(k)

    small_npio = c("small_load/npio") / nfiles if c("small_load/npio") else None
    small_read = c("small_load/read") / nfiles if c("small_load/read") else None
    rows = [
        # case, npio seconds, numpy seconds, plain seconds, plain name, target, kind
        ("load, fresh memory", c("load_fresh/npio"), np_t("load_fresh/numpy"),
         c("load_fresh/read"), "read() into fresh huge pages", ">= 1.0x NumPy", 1.0),
        ("load into reused buffer (load_into)", c("load_reused/npio"), np_t("load_fresh/numpy"),
         c("load_reused/read"), "read() into reused buffer", ">= 1.3x NumPy", 1.3),
        ("save (atomic)", c("save/npio"), np_t("save/numpy"), c("save/write"),
         "open+write()", ">= 0.95x NumPy", 0.95),
        ("save: fallocate+write floor", c("save/write_fallocate"), np_t("save/numpy"),
         c("save/write"), "open+write()", "(reference)", None),
        ("small-file load, per file", small_npio, np_t("small_load/numpy"), small_read,
         "open+fstat+read()+close", ">= 20x NumPy", 20.0),
    ]

    def fmt_t(t):
        if t is None:
            return "n/a"
        if t >= 0.1:
            return "%.3f s" % t
        if t >= 1e-4:
            return "%.2f ms" % (t * 1e3)
        return "%.2f us" % (t * 1e6)

    def ratio(a, b):
        return "%.2fx" % (b / a) if a and b else "n/a"

    lines = []
    lines.append("big file: %.2f GiB float64; small files: %d x %d bytes of data; NumPy %s; "
                 "times are the %s of the repetitions"
                 % (gib, nfiles, SMALL_ELEMS * 8, py["numpy_version"],
                    "best" if args.stat == "min" else "median"))
    if ctx:
        lines.append("host: %s CPUs @ %s MHz, load avg %s" % (
            ctx.get("num_cpus"), ctx.get("mhz_per_cpu"),
            " ".join("%.2f" % x for x in ctx.get("load_avg", []))))
    lines.append("")
    lines.append("| case | npio | NumPy | npio rate / NumPy rate | plain floor | npio rate / plain | target | met |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name, t_npio, t_np, t_plain, plain_name, target, need in rows:
        met = "n/a"
        if need is not None and t_npio and t_np:
            met = "yes" if t_np / t_npio >= need else "NO (%.0f%% of target)" % (100 * t_np / t_npio / need)
        if need is None:
            met = ""
        lines.append("| %s | %s | %s | %s | %s (%s) | %s | %s | %s |" % (
            name, fmt_t(t_npio), fmt_t(t_np), ratio(t_npio, t_np), fmt_t(t_plain), plain_name,
            ratio(t_npio, t_plain), target, met))
    for key, label in (("mmap_open/npio_load", "mmap open: load(mmap_mode r), incl. unmap"),
                       ("mmap_open/npio_open_memmap", "mmap open: open_memmap(r), incl. unmap")):
        t = c(key)
        t_np = np_t("mmap_open/numpy")
        met = "yes" if t and t <= 10e-6 else ("NO (%.1fx the limit)" % (t / 10e-6) if t else "n/a")
        lines.append("| %s | %s | %s | %s | | | <= 10 us | %s |" % (
            label, fmt_t(t), fmt_t(t_np), ratio(t, t_np), met))
    # CPU time (user + system) does not count waiting for a CPU, so on a loaded
    # machine it shows what each side costs better than the wall clock does.
    cpu = ctx.get("cpu", {})
    for key, np_key2, label, per in (
            ("small_load/npio", "small_load/numpy", "small-file load, CPU time per file", nfiles),
            ("mmap_open/npio_load", "mmap_open/numpy", "mmap open, CPU time", 1)):
        if key in cpu and "cpu_seconds" in py.get(np_key2, {}):
            t_c = cpu[key] / per
            t_p = py[np_key2]["cpu_seconds"]
            lines.append("| %s | %s | %s | %s | | | | |" % (label, fmt_t(t_c), fmt_t(t_p),
                                                         ratio(t_c, t_p)))
    lines.append("")
    lines.append("Rates: %s GiB/s npio load, %s GiB/s NumPy load, %s GiB/s npio load_into, "
                 "%s GiB/s npio save, %s GiB/s NumPy save" % tuple(
                     "%.2f" % (gib / t) if t else "n/a" for t in (
                         c("load_fresh/npio"), np_t("load_fresh/numpy"), c("load_reused/npio"),
                         c("save/npio"), np_t("save/numpy"))))
    print("\n".join(lines))


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
    r = sub.add_parser("report")
    r.add_argument("npio_json")
    r.add_argument("numpy_json")
    r.add_argument("--stat", choices=("min", "median"), default="min",
                   help="best (default: the machine is shared) or median of the repetitions")
    args = ap.parse_args()
    {"setup": setup, "time": time_numpy, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
