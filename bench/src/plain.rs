//! The module under plain wasmtime: default engine, no deadline, no memory cap, no answer check.
//! The floor that `preflight-runtime`'s limits are measured against.

use wasmtime::{Config, Engine, Instance, Memory, Module, Store, TypedFunc};

pub struct Plain {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    evaluate: TypedFunc<(i32, i32, i32), i32>,
    output: TypedFunc<(), i32>,
}

/// An engine: wasmtime's defaults, or with `inline` the code generation `preflight-runtime` asks
/// for, and with `epoch` its deadline checks too (a deadline that never passes).
/// `PREFLIGHT_BENCH_PERFMAP=1` writes /tmp/perf-PID.map so that `perf report` names the module's
/// functions.
pub fn engine(inline: bool, epoch: bool) -> Engine {
    let mut config = Config::new();
    if inline {
        config.compiler_inlining(wasmtime::Inlining::Yes);
    }
    config.epoch_interruption(epoch);
    if std::env::var_os("PREFLIGHT_BENCH_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config).expect("engine")
}

impl Plain {
    pub fn new(module: &Module) -> Plain {
        let mut store = Store::new(module.engine(), ());
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = Instance::new(&mut store, module, &[]).expect("instance");
        let memory = instance.get_memory(&mut store, "memory").expect("memory");
        let alloc = instance.get_typed_func(&mut store, "alloc").expect("alloc");
        let evaluate = instance.get_typed_func(&mut store, "evaluate").expect("evaluate");
        let output = instance.get_typed_func(&mut store, "output").expect("output");
        Plain { store, memory, alloc, evaluate, output }
    }

    /// The answer's length (0 when the module failed).
    pub fn evaluate(&mut self, facts: &str) -> usize {
        let len = facts.len() as i32;
        let Ok(ptr) = self.alloc.call(&mut self.store, len) else { return 0 };
        if self.memory.write(&mut self.store, ptr as usize, facts.as_bytes()).is_err() {
            return 0;
        }
        let Ok(n) = self.evaluate.call(&mut self.store, (ptr, len, i32::MIN)) else { return 0 };
        let Ok(at) = self.output.call(&mut self.store, ()) else { return 0 };
        let data = self.memory.data(&self.store);
        data.get(at as usize..at as usize + n as usize).map_or(0, |answer| std::hint::black_box(answer).len())
    }
}
