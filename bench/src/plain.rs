//! The module under plain wasmtime: default engine, no deadline, no memory cap, no answer check.
//! The floor that `preflight-runtime`'s limits are measured against.

use wasmtime::{Config, Engine, Instance, Memory, Module, Store, TypedFunc};

pub struct Plain {
    store: Store<()>,
    /// Fuel given to each evaluation, when the engine meters it: the previous runtime, whose
    /// answer check is then made too.
    fuel: Option<u64>,
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
    configured(inline, epoch, false)
}

/// The engine `preflight-runtime` used before epoch deadlines: fuel metered in every block.
pub fn fuel_engine() -> Engine {
    configured(false, false, true)
}

fn configured(inline: bool, epoch: bool, fuel: bool) -> Engine {
    let mut config = Config::new();
    config.consume_fuel(fuel);
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
    /// An instance; `fuel` when the module's engine meters fuel (`fuel_engine`).
    pub fn new(module: &Module, fuel: bool) -> Plain {
        let mut store = Store::new(module.engine(), ());
        store.set_epoch_deadline(u64::MAX / 2);
        let fuel = fuel.then_some(200_000_000);
        let instance = Instance::new(&mut store, module, &[]).expect("instance");
        let memory = instance.get_memory(&mut store, "memory").expect("memory");
        let alloc = instance.get_typed_func(&mut store, "alloc").expect("alloc");
        let evaluate = instance.get_typed_func(&mut store, "evaluate").expect("evaluate");
        let output = instance.get_typed_func(&mut store, "output").expect("output");
        Plain { store, fuel, memory, alloc, evaluate, output }
    }

    /// The answer's length (0 when the module failed).
    pub fn evaluate(&mut self, facts: &str) -> usize {
        if let Some(fuel) = self.fuel
            && self.store.set_fuel(fuel).is_err()
        {
            return 0;
        }
        let len = facts.len() as i32;
        let Ok(ptr) = self.alloc.call(&mut self.store, len) else { return 0 };
        if self.memory.write(&mut self.store, ptr as usize, facts.as_bytes()).is_err() {
            return 0;
        }
        let Ok(n) = self.evaluate.call(&mut self.store, (ptr, len, i32::MIN)) else { return 0 };
        let Ok(at) = self.output.call(&mut self.store, ()) else { return 0 };
        let data = self.memory.data(&self.store);
        let Some(answer) = data.get(at as usize..at as usize + n as usize) else { return 0 };
        if self.fuel.is_some() {
            // The previous runtime's answer check: UTF-8, one line, parsed by serde_json, copied.
            return previous_check(answer).map_or(0, |a| a.len());
        }
        std::hint::black_box(answer).len()
    }
}

/// How `preflight-runtime` checked an answer before it had its own validator.
fn previous_check(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Shape {
        status: Option<String>,
        error: Option<serde::de::IgnoredAny>,
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains(['\n', '\r']) {
        return None;
    }
    let shape: Shape = serde_json::from_str(text).ok()?;
    (shape.status.is_some() || shape.error.is_some()).then(|| text.to_string())
}
