#!/usr/bin/env bash
# Every check and test of the project, in one command. Installs what it needs when missing.
# `.ci/run` calls exactly this; so does the README. It ends with one line counting every suite
# (Rust tests, the rules files' in-file tests, the browser tests, the fuzz smoke runs), printed
# even when a step fails, with the step that failed.
set -eEuo pipefail
cd "$(dirname "$0")/.."

current="start"
passed=0
failed=0
log=$(mktemp)

step() {
  current="$*"
  printf '\n==> %s\n' "$*"
}

# Adds a suite's counts to the totals.
count() {
  passed=$((passed + $1))
  failed=$((failed + $2))
}

finish() {
  local code=$?
  rm -f "$log"
  if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  if [ "$code" -eq 0 ]; then
    printf '\n%d passed, %d failed (Rust tests, in-file tests, browser and editor tests, fuzz smoke runs)\n' "$passed" "$failed"
  else
    printf '\n%d passed, %d failed; stopped at: %s\n' "$passed" "$failed" "$current"
  fi
}
trap finish EXIT

step "toolchain: wasm32 target"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

step "toolchain: Python's wasmtime and Node (the embedding examples run in the tests)"
if ! python3 -c "import wasmtime" 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check wasmtime
fi
command -v node >/dev/null || { echo "node is required for the embedding test" >&2; exit 1; }

step "formatting (rustfmt)"
cargo fmt --all --check

step "lints (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "architecture: the compiler never depends on wasmtime"
if cargo tree -p preflight-compiler --edges normal,build --prefix none | grep -q '^wasmtime'; then
  echo "preflight-compiler depends on wasmtime" >&2
  exit 1
fi

step "the compiler, the language intelligence and the paste reader build for wasm32-unknown-unknown (the browser pages use them)"
cargo build -p preflight-compiler --target wasm32-unknown-unknown --no-default-features --quiet
cargo build -p preflight-ide --target wasm32-unknown-unknown --quiet
cargo build -p preflight-paste --target wasm32-unknown-unknown --quiet

step "the rules files: check, format, in-file tests (interpreter and module)"
cargo build -p preflight-cli --quiet
for rules in rules/*.preflight; do
  ./target/debug/preflight check "$rules"
  ./target/debug/preflight fmt --check "$rules"
  status=0
  ./target/debug/preflight test "$rules" | tee "$log" || status=$?
  count "$(awk '/ passed, / { p = $1 } END { print p + 0 }' "$log")" "$(awk '/ passed, / { f = $3 } END { print f + 0 }' "$log")"
  [ "$status" -eq 0 ]
done

step "browser: Debian's chromium, wasm-bindgen-cli ${WASM_BINDGEN:=0.2.130}, npm packages, the pages' build"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN"; then
  cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN"
fi
(cd web-demo && npm ci --no-audit --no-fund --silent --ignore-scripts)
bash web-demo/build.sh
mkdir -p target/web
cargo run -q -p preflight-bench -- corpus 50000 > target/web/corpus.jsonl
./target/debug/preflight batch --raw --module web-demo/modules/acs-2023.wasm target/web/corpus.jsonl -o target/web/expected.jsonl --summary json

step "browser tests (both pages in headless chromium; screenshots in tests/artifacts/)"
status=0
(cd web-demo && node --test tests/) 2>&1 | tee "$log" || status=$?
count "$(awk '/^# pass / { print $3 }' "$log")" "$(awk '/^# fail / { print $3 }' "$log")"
[ "$status" -eq 0 ]

step "editor extension: npm packages, the .vsix (vsce), its grammar against the parser, its contents"
status=0
(cd editors/vscode && npm ci --no-audit --no-fund --silent && npm run --silent package >/dev/null \
  && node --test test/*.test.mjs) 2>&1 | tee "$log" || status=$?
count "$(awk '/^# pass / { print $3 }' "$log")" "$(awk '/^# fail / { print $3 }' "$log")"
[ "$status" -eq 0 ]
[ -s target/preflight.vsix ] && echo "the extension, ready to install: target/preflight.vsix"

step "unit, golden, property and CLI tests"
status=0
cargo test --workspace 2>&1 | tee "$log" || status=$?
count "$(awk '/^test result:/ { p += $4 } END { print p + 0 }' "$log")" "$(awk '/^test result:/ { f += $6 } END { print f + 0 }' "$log")"
[ "$status" -eq 0 ]

step "fuzz smoke runs (20 s per target; fuzz/README.md runs them for hours)"
for target in rules facts import report paste; do
  fuzz/run "$target" 20 2>&1 | tee "$log" | grep -E '^(#[0-9]+ +DONE|stat::|==[0-9]+== ERROR|SUMMARY)' || true
  if grep -qE '==[0-9]+== ERROR|^SUMMARY|panicked' "$log"; then count 0 1; exit 1; fi
  count 1 0
done

[ "$failed" -eq 0 ]
