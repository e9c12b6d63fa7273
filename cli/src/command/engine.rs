//! The engines behind `eval` and `batch`: for each advisory, the reference interpreter
//! (`--rules`, or the built-in rules) or a compiled module (`--module`). Several advisories are
//! answered side by side, each keyed by its advisory id.

use crate::common::{self, Color, DiagnosticOptions, Format};
use preflight_compiler::Program;
use preflight_runtime::{Evaluator, Limits, Module, Runtime};
use std::path::PathBuf;

#[derive(Clone)]
pub enum Engine {
    Interpreter(std::sync::Arc<Program>),
    /// A module, with what its metadata says of its advisory.
    Module(Module, Box<super::report::About>),
}

/// One engine per thread: the interpreter is shared, a module gets an instance each.
pub enum Worker {
    Interpreter(std::sync::Arc<Program>),
    Module(Box<Evaluator>),
}

/// The advisories a command answers, in order, each with its id.
#[derive(Clone)]
pub struct Engines(pub Vec<(String, Engine)>);

impl Engines {
    /// Every `--rules FILE` and `--module M` in order; neither: every built-in advisory.
    /// `None` when a rules file has errors (its diagnostics are printed).
    pub fn open(rules: &[PathBuf], modules: &[PathBuf]) -> Result<Option<Engines>, String> {
        let Some(sources) = sources(rules, modules)? else { return Ok(None) };
        let runtime = if modules.is_empty() { None } else { Some(runtime()?) };
        let mut engines: Vec<(String, Engine)> = Vec::new();
        for source in sources {
            match source {
                Source::Rules(program) => {
                    engines.push((program.advisory.id.clone(), Engine::Interpreter(std::sync::Arc::new(*program))))
                }
                Source::Module(path, bytes, about) => {
                    let runtime = runtime.as_ref().ok_or("no runtime")?;
                    let module = runtime.load(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                    engines.push((about.id.clone(), Engine::Module(module, about)));
                }
            }
        }
        for (i, (id, _)) in engines.iter().enumerate() {
            if engines.iter().skip(i + 1).any(|(other, _)| other == id) {
                return Err(format!("advisory `{id}` is given twice: each advisory's answer is keyed by its id"));
            }
        }
        Ok(Some(Engines(engines)))
    }

    /// What the rules say of each advisory (its title, its Windows versions' names).
    pub fn about(&self) -> Vec<super::report::About> {
        self.0
            .iter()
            .map(|(_, e)| match e {
                Engine::Interpreter(p) => super::report::About::of_program(p),
                Engine::Module(_, about) => (**about).clone(),
            })
            .collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.0.iter().map(|(id, _)| id.clone()).collect()
    }

    pub fn workers(&self) -> Result<Workers, String> {
        let workers = self.0.iter().map(|(id, e)| e.worker().map(|w| (id.clone(), w))).collect::<Result<_, _>>()?;
        Ok(Workers(workers))
    }
}

/// What a module's metadata says of its advisory; a module without metadata is named by its path.
fn about_module(path: &std::path::Path, bytes: &[u8]) -> super::report::About {
    preflight_compiler::wasm::read_metadata(bytes)
        .ok()
        .and_then(|m| super::report::About::of_metadata(&m))
        .unwrap_or_else(|| super::report::About {
            id: path.display().to_string(),
            title: String::new(),
            oses: Vec::new(),
        })
}

/// An advisory as given: a checked rules file, or a module's bytes (checked to be WebAssembly)
/// with what its metadata says.
enum Source {
    Rules(Box<Program>),
    Module(PathBuf, Vec<u8>, Box<super::report::About>),
}

/// Every `--rules FILE` and `--module M` in order; neither: every built-in advisory. `None`
/// when a rules file has errors (the diagnostics of each are printed).
fn sources(rules: &[PathBuf], modules: &[PathBuf]) -> Result<Option<Vec<Source>>, String> {
    let mut out = Vec::new();
    if rules.is_empty() && modules.is_empty() {
        out.extend(preflight_compiler::builtin_programs()?.into_iter().map(|p| Source::Rules(Box::new(p))));
    }
    let options = DiagnosticOptions { format: Format::Text, color: Color::Auto };
    let mut failed = false;
    for path in rules {
        match common::load(path, &options)? {
            Some(program) => out.push(Source::Rules(Box::new(program))),
            None => failed = true,
        }
    }
    for path in modules {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        common::check_wasm(path, &bytes)?;
        let about = Box::new(about_module(path, &bytes));
        out.push(Source::Module(path.clone(), bytes, about));
    }
    Ok((!failed).then_some(out))
}

/// What the rules say of each advisory, without loading an engine (`report`).
pub fn about(rules: &[PathBuf], modules: &[PathBuf]) -> Result<Option<Vec<super::report::About>>, String> {
    Ok(sources(rules, modules)?.map(|sources| {
        sources
            .into_iter()
            .map(|source| match source {
                Source::Rules(program) => super::report::About::of_program(&program),
                Source::Module(_, _, about) => *about,
            })
            .collect()
    }))
}

/// The runtime modules run in: compiled code is kept in the cache directory (`cache_dir`), so a
/// module compiled once starts in a few milliseconds in the next process.
fn runtime() -> Result<Runtime, String> {
    if let Some(directory) = cache_dir() {
        // A cache that cannot be set up (an unwritable directory) only costs the compilation.
        if let Ok(runtime) = Runtime::with_cache(Limits::default(), &directory) {
            return Ok(runtime);
        }
    }
    Runtime::new(Limits::default()).map_err(|e| e.to_string())
}

/// `$PREFLIGHT_CACHE_DIR` (`off`: no cache), else `$XDG_CACHE_HOME/preflight`, else
/// `$HOME/.cache/preflight`. Entries are keyed by the module's bytes, the engine's settings and
/// wasmtime's version, so a changed module or a new preflight never reads stale code.
pub fn cache_dir() -> Option<PathBuf> {
    let absolute = |p: PathBuf| p.is_absolute().then_some(p);
    match std::env::var_os("PREFLIGHT_CACHE_DIR") {
        Some(dir) if dir == "off" => None,
        Some(dir) if !dir.is_empty() => absolute(PathBuf::from(dir)),
        _ => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .and_then(|d| absolute(PathBuf::from(d)))
            .map(|d| d.join("preflight"))
            .or_else(|| absolute(PathBuf::from(std::env::var_os("HOME")?)).map(|h| h.join(".cache").join("preflight"))),
    }
}

impl Engine {
    pub fn worker(&self) -> Result<Worker, String> {
        Ok(match self {
            Engine::Interpreter(p) => Worker::Interpreter(p.clone()),
            Engine::Module(m, _) => Worker::Module(Box::new(m.evaluator().map_err(|e| e.to_string())?)),
        })
    }
}

/// One worker per advisory.
pub struct Workers(pub Vec<(String, Worker)>);

impl Workers {
    /// Each advisory's answer to one facts document, in order.
    pub fn answers(&mut self, facts: &[u8], date: Option<i32>) -> Vec<Result<String, String>> {
        self.0.iter_mut().map(|(_, w)| w.answer(facts, date)).collect()
    }
}

/// One advisory's answer as it is; several as one JSON object keyed by advisory id, in order.
pub fn combine<'a>(ids: &[String], answers: &[&'a str]) -> std::borrow::Cow<'a, str> {
    if let [one] = answers {
        return (*one).into();
    }
    let mut out = String::from("{");
    for (i, (id, answer)) in ids.iter().zip(answers).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(id.clone()).to_string());
        out.push(':');
        out.push_str(answer);
    }
    out.push('}');
    out.into()
}

impl Worker {
    /// The answer JSON for one facts document, evaluated as of `date` (days since 1970-01-01)
    /// when the facts give no date of their own. The host's date travels beside the bytes, never
    /// inside them. A module failure becomes an `engine` error object, so that one bad host never
    /// stops a batch; `Err` carries the same object for callers that count failures.
    pub fn answer(&mut self, facts: &[u8], date: Option<i32>) -> Result<String, String> {
        match self {
            Worker::Interpreter(p) => Ok(preflight_compiler::answer_with(p, facts, date)),
            Worker::Module(m) => m.evaluate(facts, date).map_err(|e| {
                serde_json::json!({ "error": { "code": "engine", "field": "", "message": e.to_string() } }).to_string()
            }),
        }
    }
}
