#!/usr/bin/env bash
# Runs the .npy benchmarks of npio (bench/bench_npy.cpp) and of NumPy
# (bench/npy_numpy.py) on the same files, overwrite included; then the .npz ones
# (bench/npz_numpy.py) and the object arrays (bench/bench_pickle.cpp against
# bench/pickle_cpython.py); and prints one table of every case (bench/table.py).
# See docs/performance.md.
#   bash bench/run.sh BUILD_DIR [extra npio_bench flags, e.g. --benchmark_filter=small]
# NPIO_BENCH_NPZ=0 skips the .npz part, NPIO_BENCH_PICKLE=0 the object arrays
# (NPIO_BENCH_OBJECTS elements, default 1,000,000).
# Environment: NPIO_BENCH_DIR (data, default BUILD_DIR/bench-data; needs ~3 GiB
# free), NPIO_BENCH_BYTES (big file, default 1 GiB), NPIO_BENCH_SMALL (small
# files, default 10000), NPIO_BENCH_REPS (repetitions, default 5).
# Progress goes to stderr; the table goes to stdout and to DATA/report.md.
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR [npio_bench flags]}
shift
here=$(cd "$(dirname "$0")" && pwd)
python=${NPIO_PYTHON:-/usr/bin/python3}
data=${NPIO_BENCH_DIR:-$build/bench-data}
bytes=${NPIO_BENCH_BYTES:-1073741824}
small=${NPIO_BENCH_SMALL:-10000}
reps=${NPIO_BENCH_REPS:-5}
bench=$build/bin/npio_bench
[[ -x $bench ]] || { echo "bench/run.sh: $bench not built" >&2; exit 1; }
mkdir -p "$data"
data=$(cd "$data" && pwd)
trap 'rm -rf "$data/out"' EXIT

"$python" "$here/npy_numpy.py" setup "$data" --bytes "$bytes" --small "$small"
echo "== npio ($bench)" >&2
NPIO_BENCH_DIR=$data "$bench" --benchmark_filter='^(load_|save/|overwrite/|mmap_open/|small_load/)' \
  --benchmark_repetitions="$reps" \
  --benchmark_display_aggregates_only=true --benchmark_out="$data/npio.json" \
  --benchmark_out_format=json "$@" >&2
echo "== NumPy" >&2
"$python" "$here/npy_numpy.py" time "$data" --reps "$reps" >"$data/numpy.json"

rm -f "$data/npz.json" "$data/pickle.json"
if [[ ${NPIO_BENCH_NPZ:-1} != 0 ]]; then
  echo "== .npz (bench/npz_numpy.py)" >&2
  "$python" "$here/npz_numpy.py" "$build" --reps "$reps" --json "$data/npz.json" >&2
fi
if [[ ${NPIO_BENCH_PICKLE:-1} != 0 ]]; then
  echo "== object arrays (bench/bench_pickle.cpp, bench/pickle_cpython.py)" >&2
  NPIO_BENCH_OBJECTS=${NPIO_BENCH_OBJECTS:-1000000} \
    NPIO_BENCH_PICKLE_SCRIPT=$here/pickle_cpython.py "$bench" \
    --benchmark_filter='^BM_ObjectArray' --benchmark_out="$data/pickle.json" \
    --benchmark_out_format=json >&2
fi

# The one table (docs/performance.md): stdout and DATA/report.md.
"$python" "$here/table.py" "$data" | tee "$data/report.md"

# Appends vs write() and rows of a sparse 10 GiB .npy vs pread, with max RSS
# (bench/rows/bench_rows.cpp; the files are removed afterwards).
# NPIO_BENCH_ROWS=0 skips it; NPIO_BENCH_ROWS_GIB sets the file size.
if [[ ${NPIO_BENCH_ROWS:-1} != 0 && -x $build/bin/npio_bench_rows ]]; then
  echo "== rows (bench/rows/bench_rows.cpp)" >&2
  echo
  "$build/bin/npio_bench_rows" append "$data/rows"
  "$build/bin/npio_bench_rows" slice "$data/rows" "${NPIO_BENCH_ROWS_GIB:-10}"
  rmdir "$data/rows" 2>/dev/null || true
fi
