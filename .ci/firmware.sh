#!/usr/bin/env bash
# The no-heap firmware example (examples/firmware) on QEMU's mps2-an386
# (Cortex-M4): builds the baseline (no codec), decoder-only and
# decoder + encoder firmware, runs each under QEMU, checks what it printed
# over semihosting, and prints the flash/RAM table.
# Installs what it needs itself and skips what is there. About 35 s on 2
# cores from a cold target directory, plus the apt packages on a new machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

start=$SECONDS
last=$SECONDS
# Each step's heading says how long the previous step took.
step() {
  printf '\n==> firmware: %s  (previous step %ss, %ss in all)\n' "$*" "$((SECONDS - last))" "$((SECONDS - start))"
  last=$SECONDS
}

export CARGO_TERM_COLOR=never
target=thumbv7em-none-eabihf

step "toolchain: rustup target $target, qemu-system-arm, binutils-arm-none-eabi"
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
for component in clippy rustfmt; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done
if ! command -v qemu-system-arm >/dev/null || ! command -v arm-none-eabi-size >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-system-arm binutils-arm-none-eabi >/dev/null
fi
qemu-system-arm --version | head -1
arm-none-eabi-size --version | head -1

# .cargo/config.toml there sets the target and the QEMU runner.
cd "$root/examples/firmware"

step "cargo fmt --check, clippy -D warnings (each feature set)"
cargo fmt --check
variants=(baseline decoder encoder)
declare -A flags=(
  [baseline]="--no-default-features"
  [decoder]="--no-default-features --features decode"
  [encoder]=""
)
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086 # flags are words
  cargo clippy -q --locked --release ${flags[$v]} -- -D warnings
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A stack
for v in "${variants[@]}"; do
  step "build and run under QEMU: $v"
  # shellcheck disable=SC2086
  cargo build -q --locked --release ${flags[$v]}
  cp "target/$target/release/sse-codec-firmware" "$out/$v.elf"
  # semihosting carries the exit status: debug::exit, or 1 from a panic.
  if ! timeout 60 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -kernel "$out/$v.elf" >"$out/$v.txt" 2>&1; then
    cat "$out/$v.txt"
    echo "firmware $v: QEMU exited non-zero (a panic, or no debug::exit within 60 s)"
    exit 1
  fi
  cat "$out/$v.txt"
  stack[$v]=$(sed -n 's/^stack: \([0-9]*\) of [0-9]* bytes used$/\1/p' "$out/$v.txt")
  [ -n "${stack[$v]}" ] || { echo "firmware $v: no stack report"; exit 1; }
done

step "check the output"
expect() { # expect VARIANT LINE...: each LINE is printed, whole, by VARIANT
  local v=$1 line
  shift
  for line in "$@"; do
    grep -Fxq -- "$line" "$out/$v.txt" || { echo "firmware $v: missing line: $line"; exit 1; }
  done
}
refuse() { # refuse VARIANT PATTERN: no line of VARIANT's output matches PATTERN
  if grep -Eq -- "$2" "$out/$1.txt"; then
    echo "firmware $1: unexpected output matching $2"
    exit 1
  fi
}
events=(
  '  retry: 2500 ms'
  '  comment: "sensor hub v1"'
  '  event: type="reading" id="41" data="{\"t\":21.5,\"unit\":\"C\"}"'
  '  event: type="log" id="42" data="booted in 12 ms\n\ntwo sensors found"'
  '  event: type="message" id="42" data="no event type, the id is kept"'
  'end of stream: 3 events, last event ID "42"'
)
expect baseline 'read 5 (1 bytes): "\n"' 'baseline: no codec in this build'
refuse baseline '^  (event|retry|comment):'
expect decoder "${events[@]}"
refuse decoder '^reply|^  error:'
expect encoder "${events[@]}" 'reply (47 bytes):' 'event: ack' 'id: 42' 'data: received' \
  'data: thanks' 'reply decodes back to itself'
refuse encoder '^  error:'
echo "all three firmware variants printed what they should"

step "sizes (arm-none-eabi-size; flash = text + data, RAM = data + bss)"
printf '%-18s %8s %8s %8s %8s %12s\n' variant text data bss flash "RAM (+stack)"
declare -A flash ram
for v in "${variants[@]}"; do
  read -r text data bss _ < <(arm-none-eabi-size "$out/$v.elf" | tail -1)
  flash[$v]=$((text + data))
  ram[$v]=$((data + bss))
  printf '%-18s %8s %8s %8s %8s %12s\n' "$v" "$text" "$data" "$bss" "${flash[$v]}" \
    "${ram[$v]} (+${stack[$v]})"
done
printf 'decoder adds %s bytes of flash and %s of static RAM (its two buffers) over the baseline;\n' \
  "$((flash[decoder] - flash[baseline]))" "$((ram[decoder] - ram[baseline]))"
printf 'the encoder adds %s bytes of flash and %s of static RAM (the reply buffer) more.\n' \
  "$((flash[encoder] - flash[decoder]))" "$((ram[encoder] - ram[decoder]))"

step "done"
