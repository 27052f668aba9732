#!/usr/bin/env bash
# Runs every libFuzzer target of a NPIO_FUZZ build for a set time each.
#   bash fuzz/run.sh BUILD_DIR [SECONDS]
# Each target fuzz_<name> starts from a scratch copy of fuzz/corpus/<name>/ (the
# committed seeds are never modified). Fails on the first crash, leak, timeout
# or out-of-memory; the reproducer is left in BUILD_DIR/fuzz-artifacts/.
# New coverage the run found stays in BUILD_DIR/fuzz-corpus/<name>/; copy the
# interesting inputs into fuzz/corpus/<name>/ by hand (keep it small).
set -euo pipefail

build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)

shopt -s nullglob
targets=()
for dir in "$build/bin" "$build/fuzz" "$build"; do
  for exe in "$dir"/fuzz_*; do
    [[ -x $exe && -f $exe ]] && targets+=("$exe")
  done
  ((${#targets[@]})) && break
done
if ((${#targets[@]} == 0)); then
  echo "fuzz/run.sh: no fuzz_* executables in $build/bin (configure with -DNPIO_FUZZ=ON)" >&2
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
failed=0
for exe in "${targets[@]}"; do
  name=$(basename "$exe")
  seeds="$here/corpus/${name#fuzz_}"
  work="$build/fuzz-corpus/${name#fuzz_}"
  rm -rf "$work" && mkdir -p "$work"
  [[ -d $seeds ]] && cp -r "$seeds/." "$work/"
  log="$build/fuzz-$name.log"
  echo "== $name: ${seconds}s on $(ls "$work" | wc -l) seeds (log: $log)"
  # -max_len: seeds are tiny, but let mutations grow past the largest one
  # (header_too_large is ~10 KB) so length checks are exercised too.
  if "$exe" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
       -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
       >"$log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/   /' || true
  else
    echo "!! $name failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    ls "$artifacts"/"$name"-* 2>/dev/null | sed 's/^/   reproducer: /' >&2 || true
    failed=1
  fi
done
exit $failed
