//! `preflight`: check, test, evaluate and format Preflight rules files.
//!
//! Exit codes: 0 success; 1 the rules file has errors or a test failed; 2 the facts are an input
//! error (`eval`); 3 the command could not run (a file could not be read, bad arguments).

mod command;
mod common;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "preflight", version, about = "Turn a compatibility advisory into an exact answer per host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a rules file and print its diagnostics (exit 1 on errors; warnings are allowed).
    Check {
        file: PathBuf,
        #[command(flatten)]
        output: common::DiagnosticOptions,
    },
    /// Run the tests written in a rules file (exit 1 on any failure).
    Test {
        file: PathBuf,
        #[command(flatten)]
        output: common::DiagnosticOptions,
    },
    /// Evaluate one host's facts (a JSON file, or - for stdin) and print the answer JSON
    /// (exit 2 when the facts are an input error).
    Eval {
        /// The rules file; the built-in ACS advisory when neither this nor --module is given.
        #[arg(long, conflicts_with = "module")]
        rules: Option<PathBuf>,
        /// A compiled module (`preflight compile`) to evaluate with instead of the interpreter.
        #[arg(long)]
        module: Option<PathBuf>,
        /// Facts JSON file, or - for standard input.
        facts: String,
        /// Add a trace of which rules fired and why (interpreter only).
        #[arg(long)]
        explain: bool,
        /// Evaluate as of this date (YYYY-MM-DD) when the facts give no `as_of`; default today.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Evaluate a file of facts, one JSON object per line, on every core; one answer per line in
    /// input order; a summary on stderr.
    Batch {
        #[arg(long, conflicts_with = "module")]
        rules: Option<PathBuf>,
        #[arg(long)]
        module: Option<PathBuf>,
        /// JSON lines of facts, or - for standard input.
        input: String,
        /// Write the answers here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The summary's form: a table, or one JSON object.
        #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
        summary: SummaryFormat,
        #[arg(long, conflicts_with = "raw")]
        as_of: Option<String>,
        /// Evaluate each line exactly as given: no `as_of` is filled in.
        #[arg(long)]
        raw: bool,
        /// Worker threads; all cores by default.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Compile a rules file to a self-contained WebAssembly module.
    Compile {
        file: PathBuf,
        /// The .wasm file to write.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// `wat` prints (or writes) the module as WebAssembly text for review.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        #[command(flatten)]
        diagnostics: common::DiagnosticOptions,
    },
    /// Build the browser pages and serve them on 127.0.0.1 (the self-check page and the playground).
    Serve {
        /// Port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// The folder to serve.
        #[arg(long, default_value = "web-demo")]
        dir: PathBuf,
        /// Serve what is there without building first.
        #[arg(long)]
        no_build: bool,
    },
    /// Print the metadata a compiled module carries (advisory, compiler, rules hash, facts schema).
    Inspect { module: PathBuf },
    /// Print a Markdown reference of a rules file (facts, products, updates, rules), or with
    /// --schema the JSON Schema of the facts it reads.
    Doc {
        file: PathBuf,
        #[arg(long)]
        schema: bool,
    },
    /// Print a rules file in canonical form (comments kept); --check only reports differences.
    Fmt {
        file: PathBuf,
        /// Exit 1 if the file is not formatted, without changing it.
        #[arg(long)]
        check: bool,
        /// Write the result back to the file instead of printing it.
        #[arg(long, short)]
        write: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SummaryFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Emit {
    Wat,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { file, output } => command::check::run(&file, &output),
        Command::Test { file, output } => command::test::run(&file, &output),
        Command::Eval { rules, module, facts, explain, as_of } => command::eval::run(&command::eval::EvalArgs {
            rules: rules.as_deref(),
            module: module.as_deref(),
            facts: &facts,
            explain,
            as_of: as_of.as_deref(),
        }),
        Command::Batch { rules, module, input, output, summary, as_of, raw, threads } => {
            command::batch::run(&command::batch::BatchArgs {
                rules: rules.as_deref(),
                module: module.as_deref(),
                input: &input,
                output: output.as_deref(),
                summary_json: matches!(summary, SummaryFormat::Json),
                as_of: as_of.as_deref(),
                raw,
                threads,
            })
        }
        Command::Compile { file, output, emit, diagnostics } => {
            command::compile::run(&file, output.as_deref(), matches!(emit, Some(Emit::Wat)), &diagnostics)
        }
        Command::Inspect { module } => command::inspect::run(&module),
        Command::Serve { port, dir, no_build } => command::serve::run(&dir, port, !no_build),
        Command::Fmt { file, check, write } => command::fmt::run(&file, check, write),
        Command::Doc { file, schema } => command::doc::run(&file, schema),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
    }
}
