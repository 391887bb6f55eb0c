#!/usr/bin/env bash
# The core's tests on targets without SSE2, where the portable line-end
# search is the one compiled (DESIGN.md, "Portability"):
#   wasm32-wasip1              under wasmtime (PyPI's wasmtime, in a venv under target/)
#   aarch64-unknown-linux-gnu  under qemu-user (Debian's qemu-user and aarch64 gcc)
# On each: sse-codec's unit and integration tests with no features, with
# `alloc`, and with every feature together with sse-codec-tests (the
# conformance vectors, the oracle and the property tests). Doctests are
# left to the host.
#
# Installs what it needs itself and skips what is already there. Called by
# .ci/run; runs alone too: `bash .ci/cross.sh`. PROPTEST_CASES (default 64)
# sets the property-test cases under qemu; proptest reads no environment on
# wasm32, so there each suite runs the cases it names.
#
# Byte order: nothing in the core assembles a word from bytes (the portable
# mask sets bit i from byte i by index; no from_*_bytes, no unaligned loads,
# no SWAR), so no big-endian target is run here. memchr's and simdutf8's
# word-at-a-time fallbacks handle byte order themselves and are their own
# projects' to test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export CARGO_TERM_COLOR=never
# sse-codec's `the_expected_line_end_path_is_compiled` (trusted/simd.rs)
# reads this when it is compiled and fails if another search was compiled
# in: these targets must run the portable one.
export SSE_CODEC_EXPECT_LINE_PATH=portable
export PROPTEST_CASES="${PROPTEST_CASES:-64}"

read -ra targets <<<"${CROSS_TARGETS:-wasm32-wasip1 aarch64-unknown-linux-gnu}"
# The crates the tests spend their time in (the workspace's own, and the
# core's dependencies) built at opt-level 1, debug assertions and overflow
# checks still on: under qemu that runs the suites several times faster.
# Other dependencies stay at 0, which keeps the build short; line tables are
# all the debug info a backtrace needs.
profile=()
for package in sse-codec sse-codec-tests memchr simdutf8 bytes; do
  profile+=(--config "profile.test.package.$package.opt-level=1")
done
profile+=(
  --config 'profile.test.debug="line-tables-only"'
)
debs=(qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
cross_dir="${CARGO_TARGET_DIR:-$root/target}/cross"
venv="$cross_dir/wasmtime-venv"
wasmtime_version="50.0.1"

start=$SECONDS
times=()
current=""
# Each step prints its time when it ends; all of them are listed at the end.
step() {
  if [ -n "$current" ]; then
    local took=$((SECONDS - step_start))
    printf '<== %s: %ss\n' "$current" "$took"
    times+=("$(printf '%5ss  %s' "$took" "$current")")
  fi
  current="$*"
  step_start=$SECONDS
  [ -n "$current" ] && printf '\n==> %s\n' "$current"
  return 0
}

# Runs a cargo test command, and fails unless sse-codec's unit tests were
# among what it ran and the line-end path test and the mask test passed
# there (so the check cannot be filtered or skipped away unnoticed).
checked_test() {
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  for t in the_expected_line_end_path_is_compiled mask_marks_exactly_cr_and_lf; do
    if ! grep -q "^test trusted::simd::tests::$t \.\.\. ok$" "$log"; then
      echo "cross: trusted::simd::tests::$t did not pass in: $*"
      exit 1
    fi
  done
  rm -f "$log"
}

step "install: rustup targets"
installed=$(rustup target list --installed)
for target in "${targets[@]}"; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
done

step "install: Debian's qemu-user and aarch64 cross gcc"
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'install ok installed' || missing+=("$deb")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
qemu-aarch64 --version | head -1
aarch64-linux-gnu-gcc --version | head -1

step "install: wasmtime $wasmtime_version from PyPI"
if ! "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('wasmtime') != '$wasmtime_version')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "wasmtime==$wasmtime_version"
fi
mkdir -p "$cross_dir"
# cargo's runner for wasm32-wasip1: runs a test binary's `_start` with its
# arguments and environment, and the repository preopened at its own path
# (the tests open files under CARGO_MANIFEST_DIR, an absolute path).
cat >"$cross_dir/wasi-run.py" <<'EOF'
import os
import sys

from wasmtime import Engine, ExitTrap, Linker, Module, Store, Trap, WasiConfig

engine = Engine()
module = Module.from_file(engine, sys.argv[1])
linker = Linker(engine)
linker.define_wasi()
wasi = WasiConfig()
wasi.argv = sys.argv[1:]
wasi.inherit_env()
wasi.inherit_stdin()
wasi.inherit_stdout()
wasi.inherit_stderr()
root = os.environ["CROSS_WASI_ROOT"]
wasi.preopen_dir(root, root)
store = Store(engine)
store.set_wasi(wasi)
instance = linker.instantiate(store, module)
try:
    instance.exports(store)["_start"](store)
except ExitTrap as e:
    sys.exit(e.code)
except Trap as e:
    # A panic (wasm32-wasip1 aborts) or a fault: the wasm backtrace.
    print(e, file=sys.stderr)
    sys.exit(134)
EOF
export CROSS_WASI_ROOT="$root"
export CARGO_TARGET_WASM32_WASIP1_RUNNER="$venv/bin/python $cross_dir/wasi-run.py"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"

for target in "${targets[@]}"; do
  # WASI has no threads: the one test that spawns them stays on the others.
  # A panic there aborts the binary before libtest prints what it captured,
  # so nothing is captured.
  test_args=()
  if [ "$target" = wasm32-wasip1 ]; then
    test_args=(-- --nocapture --skip subscribers_see_no_gap_and_no_duplicate_at_the_seam)
  fi

  step "$target: build sse-codec's tests (no features, alloc) and sse-codec-tests"
  cargo test -p sse-codec --lib --tests --target "$target" "${profile[@]}" --no-default-features --no-run
  cargo test -p sse-codec --lib --tests --target "$target" "${profile[@]}" --no-default-features --features alloc --no-run
  cargo test -p sse-codec -p sse-codec-tests --lib --tests --target "$target" "${profile[@]}" --all-features --no-run

  step "$target: run sse-codec's tests, no features and alloc"
  checked_test cargo test -p sse-codec --lib --tests --target "$target" "${profile[@]}" --no-default-features "${test_args[@]}"
  checked_test cargo test -p sse-codec --lib --tests --target "$target" "${profile[@]}" --no-default-features --features alloc "${test_args[@]}"

  step "$target: run sse-codec (all features) and sse-codec-tests"
  checked_test cargo test -p sse-codec -p sse-codec-tests --lib --tests --target "$target" "${profile[@]}" --all-features "${test_args[@]}"
done

step ""
printf '\ncross: every step, %ss in all\n' "$((SECONDS - start))"
printf '%s\n' "${times[@]}"
