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
    /// Evaluate one host's facts (a JSON file, or - for stdin) and print the verdict JSON.
    Eval {
        /// The rules file; the built-in ACS advisory when absent.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Facts JSON file, or - for standard input.
        facts: String,
        /// Add a trace of which rules fired and why.
        #[arg(long)]
        explain: bool,
        /// Evaluate as of this date (YYYY-MM-DD) when the facts give no `as_of`; default today.
        #[arg(long)]
        as_of: Option<String>,
    },
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { file, output } => command::check::run(&file, &output),
        Command::Test { file, output } => command::test::run(&file, &output),
        Command::Eval { rules, facts, explain, as_of } => {
            command::eval::run(rules.as_deref(), &facts, explain, as_of.as_deref())
        }
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
