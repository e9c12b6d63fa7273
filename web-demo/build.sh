#!/usr/bin/env bash
# Builds what the pages load: modules/ (every built-in advisory compiled, loaded with the plain
# WebAssembly API, with its rules for the playground), Get-PreflightFacts.ps1 (the collector,
# generated from the rules), pkg/paste (the paste reader alone, for the self-check page) and
# pkg/playground (the compiler, for the playground), both through wasm-bindgen, and pkg/editor (the
# playground's editor, bundled from editor/). Needs the wasm32 target and
# wasm-bindgen-cli at the wasm-bindgen crate's exact version (tests/run-all.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/wasm32-unknown-unknown/release/preflight_web.wasm
# Every built-in advisory: its module and rules under modules/, and their names in modules/index.json.
rm -rf web-demo/modules && mkdir -p web-demo/modules
names=()
for rules in rules/*.preflight; do
  name=$(basename "$rules" .preflight)
  cargo run -q -p preflight-cli -- compile "$rules" -o "web-demo/modules/$name.wasm"
  cp "$rules" "web-demo/modules/$name.preflight"
  names+=("\"$name\"")
done
(IFS=,; echo "[${names[*]}]") > web-demo/modules/index.json
# The collector the page offers, generated from every built-in advisory's `from` declarations.
cargo run -q -p preflight-cli -- collector -o web-demo/Get-PreflightFacts.ps1
cargo build -q -p preflight-web --target wasm32-unknown-unknown --release --no-default-features
wasm-bindgen --target web --no-typescript --out-dir web-demo/pkg/paste --out-name paste "$out"
cargo build -q -p preflight-web --target wasm32-unknown-unknown --release
wasm-bindgen --target web --no-typescript --out-dir web-demo/pkg/playground --out-name playground "$out"
# The playground's editor (CodeMirror 6 from npm) bundled with esbuild; `npm ci` first when the
# packages are missing.
[ -x web-demo/node_modules/.bin/esbuild ] || (cd web-demo && npm ci --no-audit --no-fund --silent --ignore-scripts)
web-demo/node_modules/.bin/esbuild web-demo/editor/editor.js --bundle --format=esm --minify --log-level=warning \
  --outfile=web-demo/pkg/editor/editor.js
