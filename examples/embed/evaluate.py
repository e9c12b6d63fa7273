"""Evaluate host facts with a compiled Preflight module from Python (the `wasmtime` package).

    python3 evaluate.py acs.wasm host1.json [host2.json ...]

Prints one answer (JSON) per facts file. The whole protocol is in docs/abi.md.
"""
import sys
from wasmtime import Instance, Module, Store


def main() -> None:
    store = Store()
    module = Module.from_file(store.engine, sys.argv[1])
    exports = Instance(store, module, []).exports(store)
    memory, alloc, evaluate, output = (exports[n] for n in ("memory", "alloc", "evaluate", "output"))
    assert exports["abi_version"](store) == 1, "this script speaks ABI version 1"
    for path in sys.argv[2:]:
        facts = open(path, "rb").read()
        ptr = alloc(store, len(facts))           # where to put the facts
        memory.write(store, facts, ptr)
        length = evaluate(store, ptr, len(facts))  # the answer's length
        start = output(store)                      # and where it is
        print(memory.read(store, start, start + length).decode("utf-8"))


if __name__ == "__main__":
    main()
