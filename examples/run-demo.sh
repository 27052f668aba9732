#!/usr/bin/env bash
# The demo behind `make run`: the C++ example saves three arrays, the npio CLI
# shows them, and NumPy (when python3-numpy is installed) loads them.
#
#   bash examples/run-demo.sh BUILD_DIR
set -euo pipefail

build=${1:-build}
out="$build/demo"
npio="$build/bin/npio"
python=/usr/bin/python3

rm -rf "$out"
mkdir -p "$out"

echo "== C++: examples/demo.cpp saves three arrays"
"$build/bin/npio_demo" "$out"

for f in "$out"/matrix.npy "$out"/table.npy "$out"/times.npy; do
  echo
  echo "== npio info $f"
  "$npio" info "$f"
  echo
  echo "== npio json $f"
  "$npio" json "$f"
done

echo
if "$python" -c 'import numpy' 2>/dev/null; then
  echo "== NumPy loads them"
  "$python" - "$out" <<'EOF'
import sys
import numpy as np

out = sys.argv[1]
for name in ("matrix", "table", "times"):
    a = np.load(f"{out}/{name}.npy")
    print(f"{name}.npy: shape {a.shape}, dtype {a.dtype.descr if a.dtype.names else a.dtype}")
    print(np.array2string(a, separator=", "))
EOF
else
  echo "== python3-numpy is not installed: skipping the NumPy check (apt-get install python3-numpy)"
fi
