#!/usr/bin/env bash
# Installs what npio needs to build and test on Debian 12, and nothing that is already there.
# Uses sudo when not root. Pass --build-only to skip the test oracles (NumPy, zip tools).
set -euo pipefail
build=(g++ cmake ninja-build pkg-config make zlib1g-dev libdeflate-dev libisal-dev libbz2-dev liblzma-dev
       libcli11-dev nlohmann-json3-dev libfmt-dev)
test=(libgtest-dev libgmock-dev libbenchmark-dev python3-numpy zip unzip p7zip-full clang
      libclang-rt-14-dev clang-format)
want=("${build[@]}")
[[ "${1:-}" == --build-only ]] || want+=("${test[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=()
[[ $(id -u) == 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
