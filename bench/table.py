#!/usr/bin/python3
"""The one table `make bench` prints: every case against NumPy (or CPython),
wall clock and CPU time, the system-call floor where there is one, the target
and whether this run met it.

    table.py DATA_DIR

reads DATA_DIR/npio.json and numpy.json (.npy cases, bench/npy_numpy.py),
npz.json (bench/npz_numpy.py --json) and pickle.json (npio_bench's object-array
cases); a missing part is left out. Wall: median of the repetitions and, in
brackets, the best. CPU: user + system time of the whole process (npio:
Google Benchmark's process CPU time; NumPy: time.process_time), median. On a
shared machine the CPU ratio is the steadier figure; "met" says which figure
met the target.
"""
import json
import os
import re
import statistics
import sys

SMALL_ELEMS = 128

# Ways of writing a new 1 GiB file that npio_bench times (name, what).
NEW_FILE_WAYS = (("save/npio", "npio::save"),
                 ("save/write_fallocate", "fallocate+write()"),
                 ("save/pwrite_2threads", "fallocate+pwrite() on 2 threads"),
                 ("save/mmap_2threads", "fallocate+memcpy into a shared map on 2 threads"))


def gbench(path):
    """name -> {"wall": [s...], "cpu": [s...], counters...} from a Google Benchmark JSON file."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        name = re.sub(r"/(iterations:\d+|real_time|process_time|manual_time|repeats:\d+)", "",
                      b.get("run_name", b["name"]))
        e = out.setdefault(name, {"wall": [], "cpu": []})
        e["wall"].append(b["real_time"] * scale[b["time_unit"]])
        e["cpu"].append(b["cpu_time"] * scale[b["time_unit"]])
        for k, v in b.items():
            if isinstance(v, (int, float)) and k not in ("real_time", "cpu_time", "iterations",
                                                         "repetitions", "repetition_index",
                                                         "threads", "family_index",
                                                         "per_family_instance_index"):
                e.setdefault(k, []).append(v)
    return out


def med(v):
    return statistics.median(v) if v else None


def fmt_t(t):
    if t is None:
        return "n/a"
    if t >= 0.1:
        return "%.3f s" % t
    if t >= 1e-4:
        return "%.2f ms" % (t * 1e3)
    return "%.2f us" % (t * 1e6)


def ratio(ours, theirs):
    return theirs / ours if ours and theirs else None


def fmt_r(r):
    return "%.2fx" % r if r is not None else "n/a"


class Row:
    def __init__(self, case, npio_wall, np_wall, npio_cpu, np_cpu, target="", need=None,
                 judge="both", floor=None, limit=None, bound=None):
        self.case = case
        self.npio_wall = [t for t in (npio_wall or []) if t is not None]
        # NumPy's side: every repetition, or (median, best) when only those were kept
        self.np_given = np_wall if isinstance(np_wall, tuple) else None
        self.np_wall = [] if self.np_given else [t for t in (np_wall or []) if t is not None]
        self.npio_cpu, self.np_cpu = npio_cpu, np_cpu
        self.target, self.need, self.judge, self.floor, self.limit = (target, need, judge, floor,
                                                                      limit)
        self.bound = bound  # the most any implementation could reach here, when known

    def cells(self):
        mw, bw = med(self.npio_wall), min(self.npio_wall) if self.npio_wall else None
        nmw, nbw = self.np_given or (med(self.np_wall), min(self.np_wall) if self.np_wall
                                     else None)
        r_med, r_best = ratio(mw, nmw), ratio(bw, nbw)
        r_cpu = ratio(self.npio_cpu, self.np_cpu)
        met = ""
        if self.limit is not None:  # an absolute bound on npio's time
            ok_w = mw is not None and mw <= self.limit
            ok_c = self.npio_cpu is not None and self.npio_cpu <= self.limit
            met = "yes" if ok_w else ("CPU only" if ok_c else "NO (%.1fx the limit)" % (
                mw / self.limit) if mw else "n/a")
        elif self.need is not None:
            ok_w = r_med is not None and r_med >= self.need
            ok_b = r_best is not None and r_best >= self.need
            ok_c = r_cpu is not None and r_cpu >= self.need
            if self.judge == "wall":
                met = "yes" if ok_w else ("best only" if ok_b else "NO (%.0f%%)" % (
                    100 * (r_med or 0) / self.need))
                if not ok_w and self.bound is not None and self.bound < self.need:
                    met = met[:-1] + "; beyond this run's bound of %s)" % fmt_r(self.bound) \
                        if met.endswith(")") else met + " (beyond this run's bound of %s)" % (
                            fmt_r(self.bound))
            elif self.judge == "cpu":
                met = "yes" if ok_c else "NO (%.0f%%)" % (100 * (r_cpu or 0) / self.need)
            else:
                met = ("yes" if ok_w and ok_c else "CPU only" if ok_c else "wall only" if ok_w
                       else "best only" if ok_b else "NO (%.0f%% CPU, %.0f%% wall)" % (
                           100 * (r_cpu or 0) / self.need, 100 * (r_med or 0) / self.need))
        wall = lambda m, b: "%s (%s)" % (fmt_t(m), fmt_t(b)) if m is not None else "n/a"
        return [self.case, wall(mw, bw), wall(nmw, nbw),
                "%s (%s)" % (fmt_r(r_med), fmt_r(r_best)), fmt_t(self.npio_cpu),
                fmt_t(self.np_cpu), fmt_r(r_cpu), self.floor or "", self.target, met]


def npy_rows(d):
    cpp = gbench(os.path.join(d, "npio.json"))
    path = os.path.join(d, "numpy.json")
    if not cpp or not os.path.exists(path):
        return [], {}
    with open(path) as f:
        py = json.load(f)
    nfiles = py["small_files"]
    gib = py["big_file_bytes"] / 2**30

    def w(k, per=1):
        return [t / per for t in cpp[k]["wall"]] if k in cpp else None

    def c(k, per=1):
        return med(cpp[k]["cpu"]) / per if k in cpp else None

    def npw(k):
        return (py[k]["seconds"], py[k]["min_seconds"]) if k in py else None

    def npc(k):
        return py.get(k, {}).get("cpu_seconds")

    def floor(k, what, per=1):
        if k not in cpp:
            return None
        return "%s wall, %s CPU (%s)" % (fmt_t(med(cpp[k]["wall"]) / per),
                                          fmt_t(med(cpp[k]["cpu"]) / per), what)

    g = "%.0f GiB" % gib if gib >= 1 else "%.0f MiB" % (gib * 1024)
    ow_cpu = med(cpp["overwrite/npio"].get("cpu_with_release", [])) if "overwrite/npio" in cpp \
        else None
    ow_floor = floor("overwrite/write", "open(O_TRUNC)+write()")
    if ow_floor and "overwrite/npio" in cpp and cpp["overwrite/npio"].get("release_wall"):
        ow_floor += "; freeing the old file took %s on npio's release thread" % fmt_t(
            med(cpp["overwrite/npio"]["release_wall"]))
    # The most an atomic overwrite can get here: it writes a new file, so it
    # takes at least the fastest new-file write this run measured (one
    # write() stream, npio's own save, or two threads writing at once).
    new_file = {k: med(cpp[k]["wall"]) for k, what in NEW_FILE_WAYS if k in cpp}
    ow_bound = None
    if new_file and "overwrite/numpy" in py:
        fastest = min(new_file, key=new_file.get)
        ow_bound = py["overwrite/numpy"]["seconds"] / new_file[fastest]
        ow_floor = (ow_floor + "; " if ow_floor else "") + (
            "a new file: %s; so at most %s NumPy's overwrite (%s)" % (
                ", ".join("%s %s" % (what, fmt_t(new_file[k])) for k, what in NEW_FILE_WAYS
                          if k in new_file), fmt_r(ow_bound),
                dict(NEW_FILE_WAYS)[fastest]))
    rows = [
        Row(".npy load %s, fresh memory" % g, w("load_fresh/npio"), npw("load_fresh/numpy"),
            c("load_fresh/npio"), npc("load_fresh/numpy"), ">= 1.0x", 1.0,
            floor=floor("load_fresh/read", "read() into fresh huge pages")),
        Row(".npy load_into %s, reused buffer" % g, w("load_reused/npio"),
            npw("load_fresh/numpy"), c("load_reused/npio"), npc("load_fresh/numpy"), ">= 1.3x",
            1.3, floor=floor("load_reused/read", "read() into the same buffer")),
        Row(".npy save %s, new file" % g, w("save/npio"), npw("save/numpy"), c("save/npio"),
            npc("save/numpy"), ">= 0.95x", 0.95,
            floor=floor("save/write_fallocate", "open+fallocate+write()")),
        Row(".npy save %s over a written-back file" % g, w("overwrite/npio"),
            npw("overwrite/numpy"), ow_cpu, npc("overwrite/numpy"), ">= 3x (wall)", 3.0,
            judge="wall", floor=ow_floor, bound=ow_bound),
        Row(".npy load 1 KiB file, per file", w("small_load/npio", nfiles),
            npw("small_load/numpy"),
            c("small_load/npio", nfiles), npc("small_load/numpy"), ">= 20x", 20.0,
            floor=floor("small_load/read", "open+fstat+read()+close", nfiles)),
        Row(".npy load(mmap_mode r) + drop", w("mmap_open/npio_load"), npw("mmap_open/numpy"),
            c("mmap_open/npio_load"), npc("mmap_open/numpy"), "<= 10 us", limit=10e-6,
            floor=floor("mmap_open/syscalls", "open+fstat+pread+mmap+munmap+close")),
        Row(".npy open_memmap(r) + drop", w("mmap_open/npio_open_memmap"),
            npw("mmap_open/numpy"), c("mmap_open/npio_open_memmap"), npc("mmap_open/numpy"),
            "<= 10 us", limit=10e-6),
    ]
    ctx = {"numpy": py.get("numpy_version")}
    return rows, ctx


def npz_rows(d):
    path = os.path.join(d, "npz.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        z = json.load(f)
    cpp = gbench(z["npio_json"])
    T = z["numpy"]
    mib = lambda k: "%d MiB" % (z["bytes"][k] >> 20)

    def row(case, ours, theirs, target="", need=None, floor_key=None, floor_what=""):
        e = cpp.get(ours)
        fl = None
        if floor_key and floor_key in cpp:
            fl = "%s wall, %s CPU (%s)" % (fmt_t(med(cpp[floor_key]["wall"])),
                                            fmt_t(med(cpp[floor_key]["cpu"])), floor_what)
        return Row(case, e["wall"] if e else None, T[theirs]["wall"] if theirs in T else None,
                   med(e["cpu"]) if e else None, med(T[theirs]["cpu"]) if theirs in T else None,
                   target, need, floor=fl)

    rows = []
    for k, what in (("f64", "random f8"), ("ints", "ints mod 1000")):
        size = ""
        if "npz_savez_compressed/" + k in z.get("npio_sizes", {}):
            size = ", size %.4fx NumPy's" % (z["npio_sizes"]["npz_savez_compressed/" + k] /
                                             z["numpy_sizes"][k])
        rows.append(row(".npz savez_compressed %s %s%s" % (mib(k), what, size),
                        "npz_savez_compressed/" + k, "write_" + k, ">= 4x", 4.0))
        for w, need in (("numpy", 1.5), ("npio", 3.0)):
            r = row(".npz read deflated %s %s, %s archive" % (
                mib(k), what, "NumPy's" if w == "numpy" else "npio's"),
                "npz_read_compressed/%s_%s" % (w, k), "read_%s_%s" % (w, k), ">= %gx" % need, need)
            fl = [(lib, cpp.get("npz_inflate_floor/%s_%s_%s" % (lib, w, k)))
                  for lib in ("libdeflate", "zlib")]
            if all(e for _, e in fl):
                r.floor = "inflate+CRC in memory, 1 thread: libdeflate %s, zlib %s CPU" % (
                    fmt_t(med(fl[0][1]["cpu"])), fmt_t(med(fl[1][1]["cpu"])))
            rows.append(r)
    rows.append(row(".npz savez stored %s" % mib("stored"), "npz_savez_stored", "write_stored",
                    floor_key="npz_plain_write", floor_what="plain write()"))
    rows.append(row(".npz load stored %s" % mib("stored"), "npz_load_stored", "read_stored",
                    floor_key="npz_plain_read", floor_what="plain read()"))
    return rows


def pickle_rows(d):
    cpp = gbench(os.path.join(d, "pickle.json"))
    rows = []
    for name, case in (("BM_ObjectArrayLoad", "object array load, 1M dicts"),
                       ("BM_ObjectArraySave", "object array save, 1M dicts")):
        e = cpp.get(name)
        if not e or "wall_s" not in e:
            continue
        rows.append(Row(case + " (best of 3)", e["wall_s"], e["cpython_wall_s"],
                        min(e["best_cpu_s"]), min(e["cpython_s"]), ">= 2x CPython (CPU)", 2.0,
                        judge="cpu"))
    return rows


def main():
    d = sys.argv[1]
    rows, ctx = npy_rows(d)
    rows += npz_rows(d) + pickle_rows(d)
    load = os.getloadavg()
    print("npio against NumPy %s in one run; load average %.2f %.2f %.2f on %d CPUs"
          % (ctx.get("numpy", "?"), load[0], load[1], load[2], os.cpu_count()))
    print()
    head = ["case", "npio wall, median (best)", "NumPy wall, median (best)",
            "speed-up wall, median (best)", "npio CPU", "NumPy CPU", "speed-up CPU",
            "system-call floor", "target", "met"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(" --- " for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r.cells()) + " |")


if __name__ == "__main__":
    main()
