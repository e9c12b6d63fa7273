//! Hosting Preflight modules with wasmtime.
//!
//! [`Runtime`] holds the engine; [`Runtime::load`] checks that a module is a Preflight module
//! (no imports, the ABI's exports with their types, this runtime's ABI version) and compiles it once;
//! A loaded [`Module`] is compiled machine code: keep it (it is cheap to clone and share across
//! threads) rather than loading the bytes again; [`Runtime::with_cache`] also keeps compiled code
//! on disk (wasmtime's compilation cache), so the next process loads it instead of compiling.
//! [`Module::evaluator`] makes an [`Evaluator`], an instance reused across evaluations. Each
//! evaluation runs against a deadline (wasmtime's epoch interruption: a background thread ticks,
//! compiled code checks the tick at loop heads and calls — far cheaper than metering fuel per
//! block) and with the store's memory capped, so a module that loops, grows without bound or
//! traps returns an [`Error`] — the host goes on.
//!
//! The memory protocol (docs/abi.md): `alloc(len) -> ptr`, write the facts there unless `ptr` is 0
//! (the document is too large), `evaluate(ptr, len, date) -> out_len`, read `out_len` bytes at
//! `output()`. Every answer is checked to be one line of JSON, a verdict or an error object,
//! before a host sees it.

mod answer;

use std::fmt;
use std::path::Path;
use std::time::Duration;
use wasmtime::{Config, Engine, Instance, Memory, Store, StoreLimits, StoreLimitsBuilder, TypedFunc};

/// The ABI version this runtime speaks.
pub const ABI_VERSION: i32 = 4;

/// `evaluate`'s date argument when the host passes no evaluation date.
pub const NO_DATE: i32 = i32::MIN;

/// Bounds for one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The longest one evaluation may run, its calls into the module together (wall clock, in
    /// steps of [`TICK`]).
    pub time: Duration,
    /// The most linear memory an instance may have, in bytes.
    pub memory_bytes: usize,
}

impl Default for Limits {
    /// Generous for any real host (an ACS evaluation takes a few microseconds and a few hundred
    /// KiB; the largest document the module accepts, a few milliseconds), small enough to stop a
    /// runaway module quickly.
    fn default() -> Self {
        Limits { time: Duration::from_secs(1), memory_bytes: 64 << 20 }
    }
}

/// How often the runtime's clock ticks: the resolution of [`Limits::time`].
pub const TICK: Duration = Duration::from_millis(5);

/// Why a module could not be loaded or did not answer.
#[derive(Debug)]
pub enum Error {
    /// Not valid WebAssembly, or not a Preflight module (imports, exports, ABI version).
    BadModule(String),
    /// A call into the module ran past [`Limits::time`].
    TimeLimit,
    /// The module asked for more memory than the limit.
    MemoryLimit,
    /// The module trapped.
    Trap(String),
    /// The answer was not UTF-8 or pointed outside memory.
    BadAnswer(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadModule(m) => write!(f, "not a usable Preflight module: {m}"),
            Error::TimeLimit => {
                write!(f, "the module ran past its time limit (raise Limits::time if the input is legitimately large)")
            }
            Error::MemoryLimit => write!(f, "the module reached its memory limit"),
            Error::Trap(m) => write!(f, "the module trapped: {m}"),
            Error::BadAnswer(m) => write!(f, "the module's answer is unreadable: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// The wasmtime engine, configured for epoch interruption, and the clock that ticks it. Share one
/// per process.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    /// `limits.time` in ticks, computed once (it is set before every call).
    deadline: u64,
}

impl Runtime {
    /// A runtime that compiles every module it loads.
    pub fn new(limits: Limits) -> Result<Runtime, Error> {
        Runtime::configured(limits, None)
    }

    /// A runtime that keeps compiled code in `directory` (wasmtime's compilation cache, keyed by
    /// the module bytes, the engine's settings and wasmtime's version): loading the same module
    /// again, in this process or the next, reads the code instead of compiling it.
    #[cfg(feature = "cache")]
    pub fn with_cache(limits: Limits, directory: &Path) -> Result<Runtime, Error> {
        Runtime::configured(limits, Some(directory))
    }

    fn configured(limits: Limits, cache: Option<&Path>) -> Result<Runtime, Error> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // The support runtime is many small functions: inlined, a typical evaluation takes a fifth
        // less time (docs/performance.md).
        config.compiler_inlining(wasmtime::Inlining::Yes);
        #[cfg(not(feature = "cache"))]
        let _ = cache;
        #[cfg(feature = "cache")]
        if let Some(directory) = cache {
            let mut settings = wasmtime::CacheConfig::new();
            settings.with_directory(directory);
            let cache = wasmtime::Cache::new(settings)
                .map_err(|e| Error::BadModule(format!("the compilation cache in {}: {e:#}", directory.display())))?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(|e| Error::BadModule(e.to_string()))?;
        start_clock(&engine)?;
        let ticks = limits.time.as_nanos().div_ceil(TICK.as_nanos()).max(1);
        // One tick more: the current tick may be about to end.
        let deadline = u64::try_from(ticks).unwrap_or(u64::MAX - 1) + 1;
        Ok(Runtime { engine, limits, deadline })
    }

    /// The deadline of one call, in ticks from now: at least the limit, never zero.
    fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Compiles and checks a module.
    pub fn load(&self, bytes: &[u8]) -> Result<Module, Error> {
        let module = wasmtime::Module::new(&self.engine, bytes).map_err(|e| Error::BadModule(format!("{e:#}")))?;
        check_shape(&module)?;
        Ok(Module { runtime: self.clone(), module })
    }
}

/// Ticks the engine's epoch every [`TICK`] until every handle on the engine is gone.
/// Without the clock no deadline would ever pass, so a runtime that cannot start one is refused.
fn start_clock(engine: &Engine) -> Result<(), Error> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("preflight-clock".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .map(drop)
        .map_err(|e| Error::BadModule(format!("cannot start the runtime's clock: {e}")))
}

fn check_shape(module: &wasmtime::Module) -> Result<(), Error> {
    if let Some(import) = module.imports().next() {
        return Err(Error::BadModule(format!(
            "it imports `{}::{}`; Preflight modules import nothing",
            import.module(),
            import.name()
        )));
    }
    for (name, want) in [
        ("alloc", "func(i32) -> i32"),
        ("evaluate", "func(i32, i32, i32) -> i32"),
        ("output", "func() -> i32"),
        ("abi_version", "func() -> i32"),
        ("memory", "memory"),
    ] {
        if module.get_export(name).is_none() {
            return Err(Error::BadModule(format!("it has no `{name}` export ({want})")));
        }
    }
    Ok(())
}

/// A checked, compiled module.
#[derive(Clone)]
pub struct Module {
    runtime: Runtime,
    module: wasmtime::Module,
}

impl Module {
    /// A fresh instance to evaluate with; make one per thread.
    pub fn evaluator(&self) -> Result<Evaluator, Error> {
        Evaluator::new(self.clone())
    }
}

struct Exports {
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    evaluate: TypedFunc<(i32, i32, i32), i32>,
    output: TypedFunc<(), i32>,
}

/// An instance of a module, reused across evaluations (rebuilt after a trap).
pub struct Evaluator {
    module: Module,
    store: Store<StoreLimits>,
    exports: Exports,
}

impl Evaluator {
    fn new(module: Module) -> Result<Evaluator, Error> {
        let limits = StoreLimitsBuilder::new().memory_size(module.runtime.limits.memory_bytes).instances(1).build();
        let mut store = Store::new(&module.runtime.engine, limits);
        store.limiter(|l| l);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(module.runtime.deadline());
        let instance =
            Instance::new(&mut store, &module.module, &[]).map_err(|e| Error::BadModule(format!("{e:#}")))?;
        // The version first: a module of another ABI version has other export types, and the
        // version is the reason to give.
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| Error::BadModule("`memory` is not a memory".into()))?;
        let abi: TypedFunc<(), i32> = typed(&mut store, &instance, "abi_version")?;
        let version = abi.call(&mut store, ()).map_err(|e| {
            let why = match classify(&store, memory, module.runtime.limits.memory_bytes, e) {
                Error::TimeLimit => "ran past the time limit".to_string(),
                Error::MemoryLimit => "reached the memory limit".to_string(),
                other => other.to_string(),
            };
            Error::BadModule(format!("its `abi_version` export {why}"))
        })?;
        if version != ABI_VERSION {
            return Err(Error::BadModule(format!(
                "it speaks ABI version {version}; this runtime speaks {ABI_VERSION} (compile the rules again with this preflight)"
            )));
        }
        let exports = exports(&mut store, &instance)?;
        Ok(Evaluator { module, store, exports })
    }

    /// Evaluates one facts document (JSON, as bytes: invalid UTF-8 is the module's to report) and
    /// returns the module's answer (one line of JSON: the verdict, or `{"error": {...}}` for input
    /// errors). `evaluation_date` (days since 1970-01-01) fills the rules' evaluation-date fact
    /// when the facts leave it out.
    pub fn evaluate(&mut self, facts: impl AsRef<[u8]>, evaluation_date: Option<i32>) -> Result<String, Error> {
        let result = self.try_evaluate(facts.as_ref(), evaluation_date.unwrap_or(NO_DATE));
        if result.is_err() {
            // A trapped instance may be inconsistent: start again from a fresh one.
            if let Ok(fresh) = Evaluator::new(self.module.clone()) {
                *self = fresh;
            }
        }
        result
    }

    fn try_evaluate(&mut self, input: &[u8], date: i32) -> Result<String, Error> {
        let limits = self.module.runtime.limits;
        // One deadline for the whole evaluation (alloc, evaluate, output).
        self.store.set_epoch_deadline(self.module.runtime.deadline());
        // Lengths are unsigned 32-bit in the ABI; anything longer is over any module's limit.
        let len = u32::try_from(input.len()).unwrap_or(u32::MAX).cast_signed();
        let e = &self.exports;
        let memory = e.memory;
        let fail = |store: &Store<StoreLimits>, err| classify(store, memory, limits.memory_bytes, err);
        let ptr = e.alloc.call(&mut self.store, len).map_err(|err| fail(&self.store, err))?;
        if ptr != 0 {
            let start = u32::try_from(ptr).map_err(|_| Error::BadAnswer("negative pointer".into()))?;
            e.memory
                .write(&mut self.store, start as usize, input)
                .map_err(|err| Error::BadAnswer(format!("`alloc` gave no room for the facts: {err}")))?;
        }
        let out_len = e.evaluate.call(&mut self.store, (ptr, len, date)).map_err(|err| fail(&self.store, err))?;
        let out_ptr = e.output.call(&mut self.store, ()).map_err(|err| fail(&self.store, err))?;
        let (out_ptr, out_len) = (
            usize::try_from(out_ptr).map_err(|_| Error::BadAnswer("negative pointer".into()))?,
            usize::try_from(out_len).map_err(|_| Error::BadAnswer("negative length".into()))?,
        );
        let data = e.memory.data(&self.store);
        let bytes = data
            .get(out_ptr..out_ptr.saturating_add(out_len))
            .ok_or_else(|| Error::BadAnswer("outside memory".into()))?;
        check_answer(bytes)
    }
}

/// An answer a host can pass on: UTF-8, one line, one JSON object that is a verdict (`status`)
/// or an error (`error`). A module that answers anything else is broken, and saying so beats
/// writing a line that splits in two or that no reader can parse.
fn check_answer(bytes: &[u8]) -> Result<String, Error> {
    answer::check(bytes).map(str::to_string).map_err(Error::BadAnswer)
}

fn typed<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
    store: &mut Store<StoreLimits>,
    instance: &Instance,
    name: &str,
) -> Result<TypedFunc<P, R>, Error> {
    instance.get_typed_func::<P, R>(&mut *store, name).map_err(|e| Error::BadModule(format!("export `{name}`: {e}")))
}

fn exports(store: &mut Store<StoreLimits>, instance: &Instance) -> Result<Exports, Error> {
    Ok(Exports {
        memory: instance
            .get_memory(&mut *store, "memory")
            .ok_or_else(|| Error::BadModule("`memory` is not a memory".into()))?,
        alloc: typed(store, instance, "alloc")?,
        evaluate: typed(store, instance, "evaluate")?,
        output: typed(store, instance, "output")?,
    })
}

fn classify(store: &Store<StoreLimits>, memory: Memory, limit: usize, error: wasmtime::Error) -> Error {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => Error::TimeLimit,
        // A refused memory.grow returns -1 and the module traps soon after (Preflight's support
        // runtime with `unreachable`): memory within a page of the limit says which it was.
        Some(_) if memory.data_size(store).saturating_add(65536) > limit => Error::MemoryLimit,
        Some(trap) => Error::Trap(trap.to_string()),
        None => Error::Trap(format!("{error:#}")),
    }
}
