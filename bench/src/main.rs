//! `cargo run --release -p preflight-bench [HOSTS] [BATCH_HOSTS]`
//!
//! One fixed corpus of generated ACS hosts (seeded), JSON string in → JSON string out, measured
//! in one run: the compiled module under `preflight-runtime` and under plain wasmtime, the
//! reference interpreter, and two native baselines written by hand in Rust — the like-for-like
//! one (`faithful`: the same answer bytes and input errors as the module) and a lean one (`lean`:
//! status, rules and KBs only). Then a batch over all cores, the module's sections, check and
//! compile times, and start-up with and without the compilation cache. Each figure is the best
//! of three passes; ratios are against the like-for-like baseline measured in the same run.
//! Last, the language server's latencies on the ACS file (`editor`; alone with the argument
//! `editor`).

mod editor;
mod faithful;
mod fleet;
mod lean;
mod plain;

use preflight_tests::hosts::{Rng, host};
use std::io::Write;
use std::time::{Duration, Instant};

fn best_of_three(corpus: &[String], mut f: impl FnMut(&str) -> usize) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let mut bytes = 0;
            for doc in corpus {
                bytes += f(doc);
            }
            std::hint::black_box(bytes);
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    // `corpus N`: print the differential corpus (N seeded documents, one per line) and stop.
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("corpus") {
        let n = raw.get(1).and_then(|n| n.parse().ok()).unwrap_or(50_000);
        let mut rng = Rng::new(0x5EED_2023);
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for _ in 0..n {
            // A closed pipe ends the listing; it is no error.
            if writeln!(out, "{}", preflight_tests::hosts::document_line(&mut rng)).is_err() {
                return;
            }
        }
        return;
    }
    // `report [HOSTS]`: only the fleet report at scale (needs target/release/preflight).
    if raw.first().map(String::as_str) == Some("report") {
        fleet::run(raw.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000));
        return;
    }
    // `check`: only the checker's cost curve on files 1× to 10× the ACS rules.
    if raw.first().map(String::as_str) == Some("check") {
        check_curve();
        return;
    }
    // `editor`: only the language server's figures (and checking in process, their floor).
    if raw.first().map(String::as_str) == Some("editor") {
        // The ACS file, then the 250-rule file (ten overlapping copies of its rules).
        let large = preflight_tests::scale::acs_copies(10, false);
        for (label, source) in [("the ACS file", preflight_compiler::ACS_RULES), ("the 250-rule file", large.as_str())]
        {
            let check_time = (0..20)
                .map(|_| {
                    let start = Instant::now();
                    drop(std::hint::black_box(preflight_compiler::check_source(source)));
                    start.elapsed()
                })
                .min()
                .unwrap_or_default();
            println!("{label}: check {:.1} ms (best of 20)", ms(check_time));
            editor::measure(label, source, check_time);
        }
        return;
    }
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(200_000);
    let batch_n = args.get(1).copied().unwrap_or(1_000_000);
    let mut rng = Rng::new(0xBE_0C4);
    let corpus: Vec<String> = (0..n).map(|_| host(&mut rng).to_string()).collect();
    let bytes: usize = corpus.iter().map(String::len).sum();
    println!("corpus: {n} hosts, {:.1} MB of JSON, mean {} bytes", bytes as f64 / 1e6, bytes / n.max(1));

    let source = preflight_compiler::ACS_RULES;
    let start = Instant::now();
    let program = preflight_compiler::check_source(source).program.expect("the ACS rules check clean");
    let check_time = start.elapsed();
    let best = |f: &dyn Fn()| {
        (0..20)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let parse_time = best(&|| drop(std::hint::black_box(preflight_compiler::syntax::parse(source))));
    let check_time = best(&|| drop(std::hint::black_box(preflight_compiler::check_source(source)))).min(check_time);
    let file = preflight_compiler::syntax::parse(source).expect("parses");
    let analysis_time = best(&|| drop(std::hint::black_box(preflight_compiler::check::check(&file, source))));
    let start = Instant::now();
    let module_bytes = preflight_compiler::wasm::compile(&program, source).expect("compiles");
    let compile_time = start.elapsed();
    let runtime = preflight_runtime::Runtime::new(preflight_runtime::Limits::default()).expect("engine");
    let start = Instant::now();
    let module = runtime.load(&module_bytes).expect("loads");
    let load_time = start.elapsed();
    let mut evaluator = module.evaluator().expect("instance");

    // `PREFLIGHT_BENCH_PROFILE=runtime|plain|check`: one engine (or the checker), repeated,
    // nothing else (for `perf record`).
    match std::env::var("PREFLIGHT_BENCH_PROFILE").as_deref() {
        Ok("plain") => {
            let engine = plain::engine(true, std::env::var_os("PREFLIGHT_BENCH_EPOCH").is_some());
            let module = wasmtime::Module::new(&engine, &module_bytes).expect("plain load");
            let mut plain = plain::Plain::new(&module, false);
            (0..4).for_each(|_| {
                best_of_three(&corpus, |d| plain.evaluate(d));
            });
            return;
        }
        Ok("check") => {
            for _ in 0..200 {
                std::hint::black_box(preflight_compiler::check_source(source));
            }
            return;
        }
        Ok("runtime") => {
            (0..4).for_each(|_| {
                best_of_three(&corpus, |d| evaluator.evaluate(d, None).map(|a| a.len()).unwrap_or(0));
            });
            return;
        }
        _ => {}
    }
    let faithful = faithful::Faithful::new(&program);
    let base = best_of_three(&corpus, |d| faithful.answer(d).len());
    let lean = best_of_three(&corpus, |d| lean::answer(d).len());
    let interp = best_of_three(&corpus, |d| preflight_compiler::answer(&program, d).len());
    let wasm = best_of_three(&corpus, |d| evaluator.evaluate(d, None).map(|a| a.len()).unwrap_or(0));
    let plain_time = |inline, epoch| {
        let module = wasmtime::Module::new(&plain::engine(inline, epoch), &module_bytes).expect("plain load");
        let mut plain = plain::Plain::new(&module, false);
        best_of_three(&corpus, |d| plain.evaluate(d))
    };
    // The module as it was before this round of work (`data/acs-2023-before.wasm`), hosted as
    // `preflight-runtime` hosted it then (fuel, and serde_json checking each answer) and under
    // today's `preflight-runtime`: the same-run reference for "how much faster".
    let before_bytes = include_bytes!("../data/acs-2023-before.wasm");
    let before_fuel = {
        let module = wasmtime::Module::new(&plain::fuel_engine(), before_bytes).expect("previous module");
        let mut plain = plain::Plain::new(&module, true);
        best_of_three(&corpus, |d| plain.evaluate(d))
    };
    // Today's runtime refuses a module of an older ABI (the previous one speaks 2): no row then.
    let before_runtime = match runtime.load(before_bytes).and_then(|m| m.evaluator()) {
        Ok(mut e) => Some(best_of_three(&corpus, |d| e.evaluate(d, None).map(|a| a.len()).unwrap_or(0))),
        Err(why) => {
            println!("previous module under preflight-runtime: not measured ({why})");
            None
        }
    };
    let plain_default = plain_time(false, false);
    let plain_inlined = plain_time(true, false);
    let plain_deadline = plain_time(true, true);
    println!("\none thread, {n} hosts, best of 3");
    println!("{:<36}{:>14}{:>12}{:>14}", "engine", "evals/s", "µs/eval", "vs baseline");
    for (name, d) in [
        ("native, like for like (baseline)", base),
        ("native, lean (status, rules, KBs)", lean),
        ("module: preflight-runtime", wasm),
        ("module: plain wasmtime", plain_default),
        ("module: wasmtime, inlining", plain_inlined),
        ("module: + deadline checks", plain_deadline),
        ("reference interpreter", interp),
        ("previous module and runtime (fuel)", before_fuel),
    ]
    .into_iter()
    .chain(before_runtime.map(|d| ("previous module, preflight-runtime", d)))
    {
        println!(
            "{name:<36}{:>14.0}{:>12.2}{:>13.2}x",
            per_second(n, d),
            d.as_secs_f64() * 1e6 / n as f64,
            per_second(n, d) / per_second(n, base)
        );
    }

    println!(
        "the module under preflight-runtime is {:.2}x as fast as the previous module under fuel, {:.2}x as fast as the like-for-like baseline",
        before_fuel.as_secs_f64() / wasm.as_secs_f64(),
        base.as_secs_f64() / wasm.as_secs_f64()
    );

    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let big: Vec<String> = (0..batch_n).map(|i| corpus[i % n.max(1)].clone()).collect();
    let parallel = |make: &(dyn Fn() -> Box<dyn FnMut(&str) -> usize + Send> + Sync)| {
        let start = Instant::now();
        std::thread::scope(|s| {
            for chunk in big.chunks(big.len().div_ceil(threads)) {
                let mut f = make();
                s.spawn(move || chunk.iter().map(|d| f(d)).sum::<usize>());
            }
        });
        start.elapsed()
    };
    let wasm_batch = parallel(&|| {
        let mut e = module.evaluator().expect("instance");
        Box::new(move |d: &str| e.evaluate(d, None).map(|a| a.len()).unwrap_or(0))
    });
    let base_batch = parallel(&|| {
        let faithful = faithful::Faithful::new(&program);
        Box::new(move |d: &str| faithful.answer(d).len())
    });
    println!("\nbatch, {batch_n} hosts, {threads} threads");
    println!("{:<36}{:>14.0} evals/s", "module (wasmtime)", per_second(batch_n, wasm_batch));
    println!("{:<36}{:>14.0} evals/s", "native, like for like", per_second(batch_n, base_batch));

    // Start-up: compiling with Cranelift, against loading the code wasmtime's cache kept on disk
    // (what a repeated `preflight eval --module` does), each in a fresh engine.
    let cache = std::env::temp_dir().join(format!("preflight-bench-cache-{}", std::process::id()));
    let load_with_cache = || {
        let runtime =
            preflight_runtime::Runtime::with_cache(preflight_runtime::Limits::default(), &cache).expect("cache");
        let start = Instant::now();
        runtime.load(&module_bytes).expect("loads");
        start.elapsed()
    };
    let first_load = load_with_cache();
    let cached_load = (0..5).map(|_| load_with_cache()).min().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&cache);

    println!("\nmodule: {} bytes", module_bytes.len());
    for (section, size) in sections(&module_bytes) {
        println!("  {section:<28}{size:>8} bytes");
    }
    println!(
        "check {:.1} ms (parse {:.1} ms, checks {:.1} ms), compile to wasm {:.1} ms; load: compile {:.1} ms, from the cache {:.2} ms (first run, cache {:.1} ms)",
        ms(check_time),
        ms(parse_time),
        ms(analysis_time),
        ms(compile_time),
        ms(load_time),
        ms(cached_load),
        ms(first_load)
    );
    editor::measure("the ACS file", source, check_time);
}

/// Each section of the module and its size in bytes (custom sections by name).
fn sections(bytes: &[u8]) -> Vec<(String, usize)> {
    use wasmparser::Payload;
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes).flatten() {
        let (name, range) = match &payload {
            Payload::TypeSection(r) => ("type".to_string(), r.range()),
            Payload::FunctionSection(r) => ("function".to_string(), r.range()),
            Payload::MemorySection(r) => ("memory".to_string(), r.range()),
            Payload::GlobalSection(r) => ("global".to_string(), r.range()),
            Payload::ExportSection(r) => ("export".to_string(), r.range()),
            Payload::CodeSectionStart { range, .. } => ("code".to_string(), range.clone()),
            Payload::DataSection(r) => ("data".to_string(), r.range()),
            Payload::CustomSection(c) => (format!("custom `{}`", c.name()), c.range()),
            _ => continue,
        };
        out.push((name, range.end - range.start));
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The checker on generated files of 1× to 10× the ACS rules (`preflight_tests::scale`): renamed
/// copies that overlap everywhere (the analyses' worst case) and copies that each apply on a day
/// of their own. Best of five; ratios against the 1× file measured in the same run.
fn check_curve() {
    // `PREFLIGHT_BENCH_PROFILE=analyses`: the analyses of the largest file, repeated (for `perf`).
    if let Ok(spec) = std::env::var("PREFLIGHT_BENCH_WRITE") {
        // `PREFLIGHT_BENCH_WRITE=10d`: print the generated file (10 copies, disjoint) and stop.
        let copies = spec.trim_end_matches('d').parse().unwrap_or(10);
        print!("{}", preflight_tests::scale::acs_copies(copies, spec.ends_with('d')));
        return;
    }
    if std::env::var("PREFLIGHT_BENCH_PROFILE").as_deref() == Ok("check-large") {
        let source = preflight_tests::scale::acs_copies(10, false);
        for _ in 0..20 {
            drop(std::hint::black_box(preflight_compiler::check_source(&source)));
        }
        return;
    }
    if std::env::var("PREFLIGHT_BENCH_PROFILE").as_deref() == Ok("analyses") {
        let source = preflight_tests::scale::acs_copies(10, true);
        let program = preflight_compiler::check_source(&source).program.expect("checks");
        for _ in 0..20 {
            drop(std::hint::black_box(preflight_compiler::check::analysis::analyse(&program)));
        }
        return;
    }
    println!("check: cost by file size (best of 5; ratio against 1x ACS in this run)");
    println!(
        "{:>7} {:>6} {:>7} {:>10} {:>9} {:>9} {:>12}",
        "copies", "rules", "lines", "kind", "check ms", "ratio", "analyses ms"
    );
    let mut baseline = None;
    for copies in [1, 2, 4, 6, 8, 10] {
        for disjoint in [false, true] {
            if copies == 1 && disjoint {
                continue;
            }
            let source = preflight_tests::scale::acs_copies(copies, disjoint);
            let checked = preflight_compiler::check_source(&source);
            assert!(checked.program.is_some(), "the generated file checks");
            let rules = checked.program.as_ref().map_or(0, |p| p.rules.len());
            let time = (0..5)
                .map(|_| {
                    let start = Instant::now();
                    drop(std::hint::black_box(preflight_compiler::check_source(&source)));
                    start.elapsed()
                })
                .min()
                .unwrap_or_default();
            let analyses = checked.program.as_ref().map_or(Duration::ZERO, |program| {
                (0..5)
                    .map(|_| {
                        let start = Instant::now();
                        drop(std::hint::black_box(preflight_compiler::check::analysis::analyse(program)));
                        start.elapsed()
                    })
                    .min()
                    .unwrap_or_default()
            });
            let base = *baseline.get_or_insert(time);
            let kind = if disjoint { "disjoint" } else { "overlap" };
            println!(
                "{copies:>7} {rules:>6} {:>7} {kind:>10} {:>9.1} {:>8.1}x {:>12.1}",
                source.lines().count(),
                ms(time),
                time.as_secs_f64() / base.as_secs_f64().max(1e-9),
                ms(analyses)
            );
        }
    }
}
