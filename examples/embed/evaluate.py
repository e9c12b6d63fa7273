"""Evaluate host facts with a compiled Preflight module from Python (the `wasmtime` package).

    python3 evaluate.py [--as-of YYYY-MM-DD] acs.wasm host1.json [host2.json ...]

Prints one answer (JSON) per facts file, judged as of today (or --as-of) when the facts carry no
date of their own. The whole protocol is in docs/abi.md.
"""
import sys
from datetime import date, datetime, timezone
from wasmtime import Instance, Module, Store


def main() -> None:
    args = sys.argv[1:]
    today = datetime.now(timezone.utc).date()
    if args[:1] == ["--as-of"]:
        today, args = date.fromisoformat(args[1]), args[2:]
    days = (today - date(1970, 1, 1)).days           # the evaluation date, as the ABI takes it
    store = Store()
    exports = Instance(store, Module.from_file(store.engine, args[0]), []).exports(store)
    memory, alloc, evaluate, output = (exports[n] for n in ("memory", "alloc", "evaluate", "output"))
    assert exports["abi_version"](store) == 4, "this script speaks ABI version 4"
    for path in args[1:]:
        facts = open(path, "rb").read()
        ptr = alloc(store, len(facts))                # where to put the facts; 0: too large
        if ptr:
            memory.write(store, facts, ptr)
        length = evaluate(store, ptr, len(facts), days)  # the answer's length
        start = output(store)                         # and where it is
        print(memory.read(store, start, start + length).decode("utf-8"))


if __name__ == "__main__":
    main()
