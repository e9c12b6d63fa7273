// Evaluate host facts with a compiled Preflight module from Node, with no glue code.
//
//     node evaluate.mjs [--as-of YYYY-MM-DD] acs.wasm host1.json [host2.json ...]
//
// Prints one answer (JSON) per facts file, judged as of today (or --as-of) when the facts carry
// no date of their own. The whole protocol is in docs/abi.md.
import { readFileSync } from "node:fs";

let args = process.argv.slice(2);
let asOf = Date.now();
if (args[0] === "--as-of") [asOf, args] = [Date.parse(args[1]), args.slice(2)];
const days = Math.floor(asOf / 86_400_000);                 // the evaluation date, as the ABI takes it
const [wasmPath, ...factsPaths] = args;
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
const { memory, alloc, evaluate, output, abi_version } = instance.exports;
if (abi_version() !== 4) throw new Error("this script speaks ABI version 4");

for (const path of factsPaths) {
  const facts = readFileSync(path);                         // bytes, UTF-8
  const ptr = alloc(facts.length);                          // where to put them; 0: too large
  if (ptr !== 0) new Uint8Array(memory.buffer, ptr, facts.length).set(facts);
  const length = evaluate(ptr, facts.length, days);         // the answer's length
  // memory.buffer may have grown: take a fresh view after the call.
  const answer = new Uint8Array(memory.buffer, output(), length);
  console.log(new TextDecoder().decode(answer));
}
