#!/usr/bin/env bash
# The browser WebAssembly example (examples/wasm-browser) in headless
# Chromium against the real demo server: the page fetches /events and
# decodes the body chunk by chunk in wasm; the same events, fetched again by
# curl (replayed with Last-Event-ID) and decoded natively by the core's
# sse-json driver, must come out byte for byte the same.
# Installs what it needs itself and skips what is there: the first run
# compiles wasm-bindgen-cli (2.5 minutes of CPU, a debug build); later runs
# take well under a minute once the demo server is built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
crate=$root/examples/wasm-browser

start=$SECONDS
last=$SECONDS
# Each step's heading says how long the previous step took.
step() {
  printf '\n==> wasm-browser: %s  (previous step %ss, %ss in all)\n' "$*" "$((SECONDS - last))" "$((SECONDS - start))"
  last=$SECONDS
}

export CARGO_TERM_COLOR=never
target=wasm32-unknown-unknown
# The stream both sides read: five events cover the demo's four kinds
# (single line, multi-line with an empty line, CR/LF/CRLF, JSON with UTF-8).
events_query='close_after=5&interval_ms=20'

step "toolchain: rustup target $target, chromium, curl"
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
for component in clippy rustfmt; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done
if ! command -v chromium >/dev/null || ! command -v curl >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium curl >/dev/null
fi
chromium --version

# The CLI must be the version of the wasm-bindgen crate in the lock file.
bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, "", $0); print; exit }' \
  "$crate/Cargo.lock")
[ -n "$bindgen_version" ] || { echo "no wasm-bindgen in $crate/Cargo.lock"; exit 1; }
step "wasm-bindgen-cli $bindgen_version"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  # --debug: half the compile time of a release build (150 s of CPU, not
  # 330 s); it then takes 0.5 s instead of 0.1 s on this module, same output.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked --debug
fi
wasm-bindgen --version

step "cargo fmt --check, clippy -D warnings (wasm32)"
cargo fmt --manifest-path "$crate/Cargo.toml" --check
cargo clippy -q --locked --manifest-path "$crate/Cargo.toml" --target "$target" --release -- -D warnings

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

step "build the wasm module and its JS glue"
cargo build -q --locked --manifest-path "$crate/Cargo.toml" --target "$target" --release
site=$work/site
mkdir -p "$site"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" \
  "$crate/target/$target/release/sse_codec_wasm_browser.wasm"
cp "$crate/index.html" "$site/"
ls -l "$site/pkg"

step "build the demo server and the sse-json driver"
cargo build -q -p sse-codec-tokio --example server
cargo build -q -p sse-codec --example sse-json

step "start the demo server and the page's server (same origin for page and stream)"
# wait_url LOG: the first http://127.0.0.1:PORT/ that LOG shows, within 30 s.
wait_url() {
  local url=""
  for _ in $(seq 1 150); do
    url=$(grep -so 'http://127\.0\.0\.1:[0-9]*/' "$1" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.2
  done
  [ -n "$url" ] || { cat "$1"; echo "no URL in $1" >&2; return 1; }
  echo "$url"
}
cargo run -q -p sse-codec-tokio --example server -- --port 0 >"$work/demo.log" 2>&1 &
pids+=($!)
demo=$(wait_url "$work/demo.log")
python3 "$crate/serve.py" --upstream "$demo" --root "$site" >"$work/serve.log" 2>&1 &
pids+=($!)
page=$(wait_url "$work/serve.log")
echo "demo server $demo, page $page"
# The demo's ids are 1, 2, 3, ... server-wide, and only a live stream starts
# its producer: one event first, so that the page's first event is never
# id 1 and the id before it is in the log for curl to resume from.
curl -sf --max-time 10 "${demo}events?close_after=1&interval_ms=20" >/dev/null

# page_url SRC [LAST_EVENT_ID]: the page's URL with its query encoded.
page_url() {
  python3 -c 'import sys, urllib.parse
query = {"src": sys.argv[2]}
if len(sys.argv) > 3:
    query["last_event_id"] = sys.argv[3]
print(sys.argv[1] + "?" + urllib.parse.urlencode(query))' "$page" "$@"
}
# open_page OUT URL: headless Chromium opens URL; the text of #result goes to
# OUT, that of #status to stdout. read_page.py drives Chromium over the
# DevTools protocol (a pipe, no packages) until #status says done: or error:.
open_page() {
  local status
  if ! status=$(timeout 120 python3 "$crate/read_page.py" --timeout 60 "$2" "$1"); then
    echo "$status" >&2
    echo "the page did not finish" >&2
    return 1
  fi
  echo "$status"
}

step "headless Chromium loads the page; the page decodes a live /events in wasm"
status=$(open_page "$work/wasm.jsonl" "$(page_url "/events?$events_query")")
echo "page status: $status"
echo "page result:"
cat "$work/wasm.jsonl"

step "the same events, read by curl and decoded natively (sse-json)"
first=$(grep -m1 -o '"id":"[0-9]*"}$' "$work/wasm.jsonl" | grep -o '[0-9][0-9]*' || true)
[ -n "$first" ] || { echo "the page decoded no event with a numeric id"; exit 1; }
# Resuming from the id before the page's first event replays exactly the
# events the page saw, after the same retry frame.
curl -sf --max-time 10 -H "Last-Event-ID: $((first - 1))" \
  "${demo}events?${events_query}" >"$work/stream.sse"
cargo run -q -p sse-codec --example sse-json <"$work/stream.sse" >"$work/native.jsonl"
cat "$work/native.jsonl"

step "compare"
if ! diff -u "$work/native.jsonl" "$work/wasm.jsonl"; then
  echo "FAIL: the events decoded in wasm differ from the native decoder's (- native, + wasm)"
  exit 1
fi
[ "$(grep -c '^{"type":' "$work/wasm.jsonl")" -eq 5 ] || { echo "FAIL: want 5 events"; exit 1; }
grep -qx '{"retry":3000}' "$work/wasm.jsonl" || { echo "FAIL: no retry"; exit 1; }
grep -q 'second line starts with a space\\n\\nfourth line' "$work/wasm.jsonl" ||
  { echo "FAIL: no multi-line event"; exit 1; }
chunks=$(sed -n 's/^done: [0-9]* events from \([0-9]*\) chunks.*/\1/p' <<<"$status")
[ "${chunks:-0}" -ge 2 ] || { echo "FAIL: the body came in ${chunks:-0} chunk(s), want several"; exit 1; }
echo "wasm in Chromium and the native decoder agree on events $first..$((first + 4)) ($status)"

step "the page resumes: last_event_id=$((first - 1)) is sent as Last-Event-ID"
status=$(open_page "$work/resumed.jsonl" "$(page_url "/events?$events_query" "$((first - 1))")")
echo "page status: $status"
if ! diff -u "$work/native.jsonl" "$work/resumed.jsonl"; then
  echo "FAIL: the resumed page decoded other events than the native decoder (- native, + wasm)"
  exit 1
fi
echo "the resumed page decoded the same events again"

step "done"
