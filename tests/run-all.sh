#!/usr/bin/env bash
# Every check and test of the project, in one command. Installs what it needs when missing.
# `.ci/run` calls exactly this; so does the README.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

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

step "the compiler and the paste reader build for wasm32-unknown-unknown (the browser pages use them)"
cargo build -p preflight-compiler --target wasm32-unknown-unknown --no-default-features --quiet
cargo build -p preflight-paste --target wasm32-unknown-unknown --quiet

step "the ACS rules: check, format, in-file tests (interpreter and module)"
cargo build -p preflight-cli --quiet
./target/debug/preflight check rules/acs-2023.preflight
./target/debug/preflight fmt --check rules/acs-2023.preflight
./target/debug/preflight test rules/acs-2023.preflight

step "browser: Debian's chromium, wasm-bindgen-cli ${WASM_BINDGEN:=0.2.130}, npm packages, the pages' build"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN"; then
  cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN"
fi
(cd web-demo && npm ci --no-audit --no-fund --silent)
bash web-demo/build.sh
mkdir -p target/web
cargo run -q -p preflight-bench -- corpus 50000 > target/web/corpus.jsonl
./target/debug/preflight batch --raw --module web-demo/acs.wasm target/web/corpus.jsonl -o target/web/expected.jsonl --summary json

step "browser tests (both pages in headless chromium; screenshots in tests/artifacts/)"
(cd web-demo && node --test tests/)

step "unit, golden, property and CLI tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"

# One closing line for the whole run: the sum over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "\n%d passed, %d failed\n", p, f; exit (f > 0) }' "$log"
