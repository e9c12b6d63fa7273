//! `preflight`: check, test, evaluate and format Preflight rules files.
//!
//! Exit codes: 0 success; 1 the rules file has errors or a test failed; 2 the facts are an input
//! error (`eval`) or the arguments are wrong (clap's usage errors); 3 the command could not run (a
//! file could not be read or written, a module that is not usable, a port in use); 130 `batch`
//! was interrupted.

use preflight_cli::{command, common};

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
        /// The rules files (`.preflight`); several are also checked for facts they disagree on.
        #[arg(required = true)]
        file: Vec<PathBuf>,
        #[command(flatten)]
        output: common::DiagnosticOptions,
    },
    /// Run the tests written in a rules file on the interpreter and on the compiled module
    /// (exit 1 on any failure).
    Test {
        /// The rules file whose `test` blocks to run, or a directory: every `.preflight` file in it.
        file: PathBuf,
        #[command(flatten)]
        output: common::DiagnosticOptions,
    },
    /// Evaluate one host's facts and print the answer JSON (exit 2 when the facts are an input
    /// error).
    Eval {
        /// A rules file to answer; repeat for several. With neither this nor --module, every
        /// built-in advisory answers.
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// A compiled module (`preflight compile`) to answer with; repeat for several.
        #[arg(long, value_name = "M.wasm")]
        module: Vec<PathBuf>,
        /// The facts: a JSON file, or - for standard input.
        facts: String,
        /// Add a trace of which rules fired and why (interpreter only).
        #[arg(long)]
        explain: bool,
        /// The evaluation date (YYYY-MM-DD) when the facts give none; default today (UTC).
        #[arg(long, value_name = "DATE", value_parser = common::parse_date)]
        as_of: Option<i32>,
    },
    /// Evaluate a file of facts, one JSON object per line, on every core: one answer per line in
    /// input order, a summary on stderr.
    Batch {
        /// A rules file to answer; repeat for several (each line's answer then carries every
        /// advisory's, keyed by id). With neither this nor --module, every built-in advisory.
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// A compiled module (`preflight compile`) to answer with; repeat for several.
        #[arg(long, value_name = "M.wasm")]
        module: Vec<PathBuf>,
        /// The facts: JSON Lines (one object per line), or - for standard input.
        input: String,
        /// Write the answers to this file (replaced only when every line has its answer) instead
        /// of standard output.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// The summary's form on stderr: a table, or one JSON object.
        #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
        summary: SummaryFormat,
        /// The evaluation date (YYYY-MM-DD) for hosts whose facts give none; default today (UTC).
        #[arg(long, value_name = "DATE", value_parser = common::parse_date, conflicts_with = "raw")]
        as_of: Option<i32>,
        /// Pass no evaluation date: each line is judged exactly as given (the rules' own default).
        #[arg(long)]
        raw: bool,
        /// Worker threads; all cores by default.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Also write the fleet report (`preflight report`'s page) to this HTML file, when every
        /// line is answered.
        #[arg(long, value_name = "OUT.html")]
        report: Option<PathBuf>,
        /// The fact that names a host in the report (a dotted path); hosts without it are named by
        /// line.
        #[arg(long, value_name = "PATH", default_value = "host.name")]
        id_field: String,
        /// Group the report's hosts by this fact (a dotted path: a site, an OU, a device group):
        /// outcomes per group, and a group filter.
        #[arg(long, value_name = "PATH", requires = "report")]
        group_by: Option<String>,
        /// A report of an earlier run, for what changed since (see `preflight report`).
        #[arg(long, value_name = "EARLIER.html", requires = "report")]
        previous: Vec<PathBuf>,
    },
    /// Compile a rules file to a self-contained WebAssembly module.
    Compile {
        /// The rules file to compile.
        file: PathBuf,
        /// The .wasm file to write (replaced atomically).
        #[arg(short, long, value_name = "OUT.wasm")]
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
        /// The folder of the pages.
        #[arg(long, value_name = "DIR", default_value = "web-demo")]
        dir: PathBuf,
        /// Serve what is there without building first.
        #[arg(long)]
        no_build: bool,
    },
    /// Write the PowerShell collector for rules files (every built-in advisory by default): a
    /// script that prints a Windows host's facts, from the rules' `from` declarations.
    Collector {
        /// The rules files whose facts to collect.
        files: Vec<PathBuf>,
        /// The .ps1 file to write (replaced atomically); standard output when absent.
        #[arg(short, long, value_name = "OUT.ps1")]
        output: Option<PathBuf>,
        /// Emit the PowerShell code that rules files carry (`from powershell`), listed at the
        /// top of the script; without it such rules are refused. Read the code first: the
        /// script runs it on the customer's machine.
        #[arg(long)]
        allow_code: bool,
        /// Write an osquery pack instead: the scheduled queries `preflight facts --from osquery`
        /// reads with its default mapping, the registry values the rules read among them.
        #[arg(long, conflicts_with = "allow_code")]
        osquery: bool,
        #[command(flatten)]
        diagnostics: common::DiagnosticOptions,
    },
    /// Turn an inventory export into facts, one JSON document per host (JSON Lines) for `batch`.
    Facts {
        /// The export's format: csv (a row per host, a column per fact) or osquery (the JSON Lines
        /// results log of scheduled queries on os_version, patches, programs, secureboot,
        /// platform_info and certificates).
        #[arg(long, value_name = "FORMAT", default_value = "csv")]
        from: String,
        /// The export: a file, or - for standard input.
        input: String,
        /// A mapping file (TOML). For csv, the fact each column feeds when the column names are not
        /// fact paths: `"OS Build" = "os.version"`, `KBs = { fact = "hotfixes", separator = ";" }`,
        /// `Notes = false`. For osquery, it replaces the built-in table mapping: a section per
        /// table, `"os.version" = "{major}.{minor}.{build}.{revision}"`.
        #[arg(long, value_name = "MAP.toml")]
        map: Option<PathBuf>,
        /// The rules files whose facts to fill (their types decide what a cell becomes); every
        /// built-in advisory by default.
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// csv: the column separator (one character, or `tab`); read off the header row when
        /// absent (the comma, semicolon or tab it holds most of outside quotes).
        #[arg(long, value_name = "CHAR", value_parser = command::facts::parse_delimiter)]
        delimiter: Option<u8>,
        /// The JSON Lines file to write (replaced only when every row converted); standard output
        /// when absent.
        #[arg(short, long, value_name = "FACTS.jsonl")]
        output: Option<PathBuf>,
    },
    /// A fleet's answers as one self-contained HTML page: what to do first across advisories,
    /// outcomes, hosts by Windows version (and by any fact with --group-by), every step with the
    /// hosts it would make ready, input errors, what changed since earlier runs, and a host table
    /// to filter, open host by host and export.
    Report {
        /// The answers `batch` wrote (JSON Lines).
        answers: String,
        /// The facts `batch` answered, line for line (for each host's name and Windows build).
        #[arg(long, value_name = "FACTS.jsonl")]
        facts: String,
        /// The fact that names a host (a dotted path); hosts without it are named by line.
        #[arg(long, value_name = "PATH", default_value = "host.name")]
        id_field: String,
        /// The fact that holds the Windows build.
        #[arg(long, value_name = "PATH", default_value = "os.version")]
        build_field: String,
        /// The HTML file to write (replaced atomically); standard output when absent.
        #[arg(short, long, value_name = "OUT.html")]
        output: Option<PathBuf>,
        /// A report of an earlier run (its page): what changed since, host by host (matched by
        /// name). Give several, oldest first, for the outcomes per run.
        #[arg(long, value_name = "EARLIER.html")]
        previous: Vec<PathBuf>,
        /// Group hosts by this fact (a dotted path: a site, an OU, a device group): outcomes per
        /// group, and a group filter.
        #[arg(long, value_name = "PATH")]
        group_by: Option<String>,
        /// The rules file the answers came from, for the advisory's title and its Windows
        /// versions' names; repeat for several. With neither this nor --module, the built-in
        /// advisories.
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// A compiled module the answers came from (its metadata names the same); repeat for several.
        #[arg(long, value_name = "M.wasm")]
        module: Vec<PathBuf>,
        /// Reader threads; all cores by default.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Run the language server (LSP over standard input and output) for editors: diagnostics as
    /// you type, and formatting.
    Lsp,
    /// Print the metadata a compiled module carries (advisory, compiler, rules hash, facts schema).
    Inspect {
        /// The compiled module (.wasm).
        module: PathBuf,
    },
    /// Print a Markdown reference of a rules file (facts, products, updates, rules), or with
    /// --schema the JSON Schema of the facts it reads.
    Doc {
        /// The rules file to document.
        file: PathBuf,
        /// Print the facts' JSON Schema instead of the Markdown reference.
        #[arg(long)]
        schema: bool,
    },
    /// Print a rules file in canonical form (comments kept); --check only reports differences.
    Fmt {
        /// The rules file to format.
        file: PathBuf,
        /// Exit 1 if the file is not formatted, without changing it.
        #[arg(long, conflicts_with = "write")]
        check: bool,
        /// Write the result back to the file (atomically) instead of printing it.
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
            rules: &rules,
            modules: &module,
            facts: &facts,
            explain,
            as_of,
        }),
        Command::Batch {
            rules,
            module,
            input,
            output,
            summary,
            as_of,
            raw,
            threads,
            report,
            id_field,
            group_by,
            previous,
        } => command::batch::run(&command::batch::BatchArgs {
            rules: &rules,
            modules: &module,
            input: &input,
            output: output.as_deref(),
            summary_json: matches!(summary, SummaryFormat::Json),
            as_of,
            raw,
            threads,
            report: report.as_deref().map(|path| command::batch::ReportArgs {
                path,
                fields: command::report::Fields {
                    id: id_field.clone(),
                    build: command::report::BUILD_FIELD.to_string(),
                    group: group_by.clone(),
                },
                previous: &previous,
            }),
        }),
        Command::Compile { file, output, emit, diagnostics } => {
            command::compile::run(&file, output.as_deref(), matches!(emit, Some(Emit::Wat)), &diagnostics)
        }
        Command::Inspect { module } => command::inspect::run(&module),
        Command::Lsp => command::lsp::run(),
        Command::Report {
            answers,
            facts,
            id_field,
            build_field,
            output,
            previous,
            group_by,
            rules,
            module,
            threads,
        } => match command::engine::about(&rules, &module) {
            Ok(Some(about)) => command::report::run(&command::report::Options {
                answers: &answers,
                facts: &facts,
                fields: command::report::Fields { id: id_field, build: build_field, group: group_by },
                output: output.as_deref(),
                previous: &previous,
                about,
                threads: threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1),
            }),
            Ok(None) => {
                eprintln!("a rules file has errors; run `preflight check` on it");
                Ok(1)
            }
            Err(e) => Err(e),
        },
        Command::Facts { from, input, map, rules, delimiter, output } => {
            command::facts::run(&from, &input, map.as_deref(), &rules, delimiter, output.as_deref())
        }
        Command::Collector { files, output, allow_code, osquery, diagnostics } => {
            command::collector::run(&files, output.as_deref(), allow_code, osquery, &diagnostics)
        }
        Command::Serve { port, dir, no_build } => command::serve::run(&dir, port, !no_build),
        Command::Fmt { file, check, write } => command::fmt::run(&file, check, write),
        Command::Doc { file, schema } => command::doc::run(&file, schema),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            // Messages quote input (file names, cells, rules text): a line at a time, each made
            // safe for a terminal.
            let lines: Vec<String> = message.lines().map(common::printable).collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::from(3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn every_flag_and_argument_has_a_line_of_help() {
        let cli = Cli::command();
        let mut bare = Vec::new();
        for command in cli.get_subcommands() {
            for arg in command.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    bare.push(format!("{} {}", command.get_name(), arg.get_id()));
                }
            }
        }
        assert!(bare.is_empty(), "arguments without help: {bare:?}");
        cli.debug_assert();
    }
}
