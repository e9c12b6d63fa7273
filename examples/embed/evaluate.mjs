// Evaluate host facts with a compiled Preflight module from Node, with no glue code.
//
//     node evaluate.mjs acs.wasm host1.json [host2.json ...]
//
// Prints one answer (JSON) per facts file. The whole protocol is in docs/abi.md.
import { readFileSync } from "node:fs";

const [wasmPath, ...factsPaths] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
const { memory, alloc, evaluate, output, abi_version } = instance.exports;
if (abi_version() !== 1) throw new Error("this script speaks ABI version 1");

for (const path of factsPaths) {
  const facts = readFileSync(path);                         // bytes, UTF-8
  const ptr = alloc(facts.length);                          // where to put them
  new Uint8Array(memory.buffer, ptr, facts.length).set(facts);
  const length = evaluate(ptr, facts.length);               // the answer's length
  // memory.buffer may have grown: take a fresh view after the call.
  const answer = new Uint8Array(memory.buffer, output(), length);
  console.log(new TextDecoder().decode(answer));
}
