//! `preflight lsp`: a Language Server Protocol server over stdio for rules files, on `lsp-server`
//! and `lsp-types`. It reuses the checker and the formatter as they are.
//!
//! Today it gives diagnostics (on open and on every change, checked on a thread of their own so
//! that requests never wait for a check; changes that arrive during a check are checked once, on
//! the last text, and a stale result is dropped) with their code, help and related locations,
//! formatting, and
//! for a declared name under the cursor (update, OS version, product, certificate, component,
//! setting, action, series, named value, rule, fact) its definition, its references, a hover with
//! its declaration and `///` docs, and rename — names resolved by kind by `preflight_ide`, which
//! finds them in declarations, conditions, message placeholders and tests' `given` blocks —; an
//! outline (document symbols), workspace symbols over the open files, folding ranges, and code
//! lenses over each test with its result (the tests run on the interpreter; the lens runs them
//! again and says the result, `workspace/executeCommand preflight.runTests`);
//! quick fixes (a diagnostic's "did you mean", applied), completion by place (ranked: after
//! `require`, the updates for the rule's OS first, with their titles), and semantic tokens: the
//! parser's own classes of every token (`preflight_compiler::highlight`), so that editors colour
//! `os` in `os win11 {` and in `os { version: build }` as the parser reads them. Every answer
//! comes from `preflight_ide` (which the playground uses too); this module maps it to the
//! protocol.
//! Each open document is checked on its own. Positions are UTF-8 offsets when the editor offers
//! them, UTF-16 otherwise (the protocol's default).

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, PublishDiagnostics};
use lsp_types::request::{
    CodeActionRequest, CodeLensRequest, Completion, DocumentSymbolRequest, ExecuteCommand, FoldingRangeRequest,
    Formatting, GotoDefinition, HoverRequest, PrepareRenameRequest, References, Rename, SemanticTokensFullRequest,
    WorkspaceSymbolRequest,
};
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, InitializeParams, Location, NumberOrString, Position,
    PositionEncodingKind, PublishDiagnosticsParams, Range, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextEdit, Uri,
};
use std::collections::HashMap;

mod transport;

pub fn run() -> Result<u8, String> {
    let (connection, writer) = transport::stdio();
    let (id, params) = connection.initialize_start().map_err(|e| format!("the editor did not initialize: {e}"))?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let utf8 = params
        .capabilities
        .general
        .and_then(|g| g.position_encodings)
        .is_some_and(|offered| offered.contains(&PositionEncodingKind::UTF8));
    let capabilities = ServerCapabilities {
        position_encoding: Some(if utf8 { PositionEncodingKind::UTF8 } else { PositionEncodingKind::UTF16 }),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        document_formatting_provider: Some(lsp_types::OneOf::Left(true)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp_types::OneOf::Left(true)),
        references_provider: Some(lsp_types::OneOf::Left(true)),
        rename_provider: Some(lsp_types::OneOf::Right(lsp_types::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp_types::WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(lsp_types::OneOf::Left(true)),
        workspace_symbol_provider: Some(lsp_types::OneOf::Left(true)),
        code_lens_provider: Some(lsp_types::CodeLensOptions { resolve_provider: Some(false) }),
        execute_command_provider: Some(lsp_types::ExecuteCommandOptions {
            commands: vec![RUN_TESTS.to_string()],
            work_done_progress_options: lsp_types::WorkDoneProgressOptions::default(),
        }),
        folding_range_provider: Some(lsp_types::FoldingRangeProviderCapability::Simple(true)),
        completion_provider: Some(lsp_types::CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..lsp_types::CompletionOptions::default()
        }),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Options(lsp_types::CodeActionOptions {
            code_action_kinds: Some(vec![lsp_types::CodeActionKind::QUICKFIX]),
            ..lsp_types::CodeActionOptions::default()
        })),
        semantic_tokens_provider: Some(lsp_types::SemanticTokensServerCapabilities::SemanticTokensOptions(
            lsp_types::SemanticTokensOptions {
                legend: lsp_types::SemanticTokensLegend {
                    token_types: TOKEN_TYPES.to_vec(),
                    token_modifiers: TOKEN_MODIFIERS.to_vec(),
                },
                full: Some(lsp_types::SemanticTokensFullOptions::Bool(true)),
                ..lsp_types::SemanticTokensOptions::default()
            },
        )),
        ..ServerCapabilities::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "preflight", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result).map_err(|e| format!("the editor did not initialize: {e}"))?;
    let (jobs, checker) = checker(utf8);
    let mut server = Server {
        connection: &connection,
        documents: HashMap::new(),
        names: HashMap::new(),
        fixes: HashMap::new(),
        utf8,
        generations: HashMap::new(),
        jobs,
        checked: checker,
    };
    server.serve()?;
    drop(server);
    drop(connection);
    writer.join().map_err(|_| "the connection's writer failed".to_string())?;
    Ok(0)
}

struct Server<'c> {
    connection: &'c Connection,
    documents: HashMap<Uri, String>,
    /// Each document's declared names as of the last version of it that parsed.
    names: HashMap<Uri, Vec<preflight_ide::Declaration>>,
    /// Each document's diagnostics that carry a fix, as of its last check.
    fixes: HashMap<Uri, Vec<QuickFix>>,
    utf8: bool,
    /// Each document's version as the server counts changes: a check of an older one is stale.
    generations: HashMap<Uri, u64>,
    /// Checks to run, and their results, on the checking thread.
    jobs: crossbeam_channel::Sender<Job>,
    checked: crossbeam_channel::Receiver<Checked>,
}

/// A document to check, as of one generation.
struct Job {
    uri: Uri,
    text: String,
    generation: u64,
}

/// A finished check.
struct Checked {
    uri: Uri,
    generation: u64,
    diagnostics: Vec<lsp_types::Diagnostic>,
    fixes: Vec<QuickFix>,
    declared: Option<Declared>,
}

/// The checking thread: the whole-file check (names, types, the rule analyses) runs here, off
/// the path of keystrokes and requests. It takes the newest job of each document waiting, so a
/// burst of changes is checked once; a result that a later change has made stale is dropped by
/// the server. Every analysis is bounded (docs/diagnostics.md, P0211), so a check always ends.
fn checker(utf8: bool) -> (crossbeam_channel::Sender<Job>, crossbeam_channel::Receiver<Checked>) {
    let (jobs, incoming) = crossbeam_channel::unbounded::<Job>();
    let (done, checked) = crossbeam_channel::unbounded::<Checked>();
    std::thread::spawn(move || {
        while let Ok(job) = incoming.recv() {
            let mut waiting = vec![job];
            waiting.extend(incoming.try_iter());
            // The newest job per document, in the order their documents first appear.
            let mut newest: Vec<Job> = Vec::new();
            for job in waiting {
                match newest.iter_mut().find(|j| j.uri == job.uri) {
                    Some(slot) => *slot = job,
                    None => newest.push(job),
                }
            }
            for Job { uri, text, generation } in newest {
                let (diagnostics, fixes, declared) = diagnostics(&uri, &text, utf8);
                if done.send(Checked { uri, generation, diagnostics, fixes, declared }).is_err() {
                    return;
                }
            }
        }
    });
    (jobs, checked)
}

impl Server<'_> {
    fn serve(&mut self) -> Result<(), String> {
        loop {
            crossbeam_channel::select! {
                recv(self.connection.receiver) -> message => {
                    let Ok(message) = message else { return Ok(()) };
                    if self.message(message)? {
                        return Ok(());
                    }
                }
                recv(self.checked) -> checked => {
                    let Ok(checked) = checked else { return Ok(()) };
                    self.finished(checked)?;
                }
            }
        }
    }

    /// Handles one message from the editor; true on shutdown.
    fn message(&mut self, message: Message) -> Result<bool, String> {
        match message {
            Message::Request(request) => {
                if self.connection.handle_shutdown(&request).map_err(|e| e.to_string())? {
                    return Ok(true);
                }
                self.request(request)?;
            }
            Message::Notification(n) => {
                if let Some(uri) = self.notification(n) {
                    let generation = self.generations.entry(uri.clone()).or_insert(0);
                    *generation += 1;
                    match self.documents.get(&uri) {
                        Some(text) => {
                            let job = Job { uri, text: text.clone(), generation: *generation };
                            self.jobs.send(job).map_err(|e| e.to_string())?;
                        }
                        // Closed: no diagnostics, at once.
                        None => self.publish(uri, Vec::new())?,
                    }
                }
            }
            Message::Response(_) => {}
        }
        Ok(false)
    }

    /// Publishes a check's diagnostics unless a later change made it stale. When its text
    /// parsed, its declared names are kept for completion: the text being typed rarely parses,
    /// and completion then offers the names of the last version that did.
    fn finished(&mut self, checked: Checked) -> Result<(), String> {
        if self.generations.get(&checked.uri) != Some(&checked.generation) || !self.documents.contains_key(&checked.uri)
        {
            return Ok(());
        }
        self.fixes.insert(checked.uri.clone(), checked.fixes);
        if let Some(declared) = checked.declared {
            self.names.insert(checked.uri.clone(), declared);
        }
        self.publish(checked.uri, checked.diagnostics)
    }

    /// Applies a document notification; returns the document whose diagnostics to publish.
    fn notification(&mut self, n: Notification) -> Option<Uri> {
        use lsp_types::notification::Notification as _;
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(n.params).ok()?;
                self.documents.insert(p.text_document.uri.clone(), p.text_document.text);
                Some(p.text_document.uri)
            }
            DidChangeTextDocument::METHOD => {
                let p: lsp_types::DidChangeTextDocumentParams = serde_json::from_value(n.params).ok()?;
                // Full synchronisation: the last change is the whole text.
                let text = p.content_changes.into_iter().last()?.text;
                self.documents.insert(p.text_document.uri.clone(), text);
                Some(p.text_document.uri)
            }
            DidCloseTextDocument::METHOD => {
                let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(n.params).ok()?;
                self.documents.remove(&p.text_document.uri);
                self.names.remove(&p.text_document.uri);
                self.fixes.remove(&p.text_document.uri);
                Some(p.text_document.uri)
            }
            _ => None,
        }
    }

    fn request(&mut self, request: Request) -> Result<(), String> {
        use lsp_types::request::Request as _;
        let response = match request.method.as_str() {
            Formatting::METHOD => {
                let edits = serde_json::from_value::<lsp_types::DocumentFormattingParams>(request.params)
                    .ok()
                    .and_then(|p| self.documents.get(&p.text_document.uri))
                    .and_then(|text| format(text, self.utf8));
                Response::new_ok(request.id, edits)
            }
            HoverRequest::METHOD => {
                let hover = serde_json::from_value::<lsp_types::HoverParams>(request.params).ok().and_then(|p| {
                    let Named { text, symbol, .. } = self.named(&p.text_document_position_params)?;
                    let value = preflight_ide::hover(&symbol, text)?;
                    Some(lsp_types::Hover {
                        contents: lsp_types::HoverContents::Markup(lsp_types::MarkupContent {
                            kind: lsp_types::MarkupKind::Markdown,
                            value,
                        }),
                        range: None,
                    })
                });
                Response::new_ok(request.id, hover)
            }
            GotoDefinition::METHOD => {
                let location =
                    serde_json::from_value::<lsp_types::GotoDefinitionParams>(request.params).ok().and_then(|p| {
                        let Named { lines, symbol, .. } = self.named(&p.text_document_position_params)?;
                        // A name another file declares: there.
                        let (uri, range) = match &symbol.origin {
                            Some(origin) => {
                                let uri = format!("file://{}", origin.0).parse::<Uri>().ok()?;
                                (uri, Lines::new(&origin.1, self.utf8).range_of(symbol.name_span.0, symbol.name_span.1))
                            }
                            None => (
                                p.text_document_position_params.text_document.uri,
                                lines.range_of(symbol.name_span.0, symbol.name_span.1),
                            ),
                        };
                        Some(lsp_types::GotoDefinitionResponse::Scalar(Location { uri, range }))
                    });
                Response::new_ok(request.id, location)
            }
            References::METHOD => {
                let found = serde_json::from_value::<lsp_types::ReferenceParams>(request.params).ok().and_then(|p| {
                    let uri = &p.text_document_position.text_document.uri;
                    let text = self.documents.get(uri)?;
                    let lines = Lines::new(text, self.utf8);
                    let analysis = analysis(uri, text)?;
                    let index = analysis.index(text);
                    let o = index.at(lines.offset(p.text_document_position.position))?;
                    let mut found: Vec<Location> = index
                        .references(o.kind, &o.name)
                        .into_iter()
                        .filter(|r| p.context.include_declaration || !r.declaration)
                        .map(|r| Location { uri: uri.clone(), range: lines.range_of(r.span.0, r.span.1) })
                        .collect();
                    // A name another file declares: its declaration there too.
                    if p.context.include_declaration
                        && index.declaration(o.kind, &o.name).is_none()
                        && let Some(symbol) = analysis.declaration_of(text, o)
                        && let Some(origin) = &symbol.origin
                        && let Ok(there) = format!("file://{}", origin.0).parse::<Uri>()
                    {
                        let range = Lines::new(&origin.1, self.utf8).range_of(symbol.name_span.0, symbol.name_span.1);
                        found.insert(0, Location { uri: there, range });
                    }
                    Some(found)
                });
                Response::new_ok(request.id, found)
            }
            PrepareRenameRequest::METHOD => 'prepare: {
                let Ok(p) = serde_json::from_value::<lsp_types::TextDocumentPositionParams>(request.params) else {
                    break 'prepare Response::new_err(request.id, -32602, "unreadable parameters".to_string());
                };
                let Some(text) = self.documents.get(&p.text_document.uri) else {
                    break 'prepare Response::new_ok(request.id, None::<()>);
                };
                let lines = Lines::new(text, self.utf8);
                let Some(index) = index_of(&p.text_document.uri, text) else {
                    let why = "the file does not parse: fix its syntax errors first".to_string();
                    break 'prepare Response::new_err(request.id, -32602, why);
                };
                match index.prepare_rename(lines.offset(p.position)) {
                    Ok(((a, b), name)) => Response::new_ok(
                        request.id,
                        lsp_types::PrepareRenameResponse::RangeWithPlaceholder {
                            range: lines.range_of(a, b),
                            placeholder: name,
                        },
                    ),
                    // The editor shows why and does not open the rename box.
                    Err(why) => Response::new_err(request.id, -32602, why),
                }
            }
            Rename::METHOD => 'rename: {
                let Ok(p) = serde_json::from_value::<lsp_types::RenameParams>(request.params) else {
                    let why = "the rename request's parameters are not readable".to_string();
                    break 'rename Response::new_err(request.id, -32602, why);
                };
                let uri = p.text_document_position.text_document.uri;
                let Some(text) = self.documents.get(&uri) else {
                    break 'rename Response::new_ok(request.id, None::<()>);
                };
                let lines = Lines::new(text, self.utf8);
                let Some(index) = index_of(&uri, text) else {
                    let why = "the file does not parse: fix its syntax errors first".to_string();
                    break 'rename Response::new_err(request.id, -32602, why);
                };
                match index.rename(lines.offset(p.text_document_position.position), &p.new_name) {
                    Ok(edits) => {
                        let edits: Vec<TextEdit> = edits
                            .into_iter()
                            .map(|e| TextEdit { range: lines.range_of(e.span.0, e.span.1), new_text: e.text })
                            .collect();
                        // lsp-types' own map type; a `Uri` is never mutated once it is a key.
                        #[allow(clippy::mutable_key_type)]
                        let mut changes = HashMap::new();
                        changes.insert(uri, edits);
                        let edit =
                            lsp_types::WorkspaceEdit { changes: Some(changes), ..lsp_types::WorkspaceEdit::default() };
                        Response::new_ok(request.id, edit)
                    }
                    // The editor shows this and applies nothing.
                    Err(why) => Response::new_err(request.id, -32602, why),
                }
            }
            CodeLensRequest::METHOD => {
                let lenses = serde_json::from_value::<lsp_types::CodeLensParams>(request.params).ok().and_then(|p| {
                    let text = self.documents.get(&p.text_document.uri)?;
                    Some(test_lenses(&p.text_document.uri, text))
                });
                Response::new_ok(request.id, lenses)
            }
            ExecuteCommand::METHOD => {
                // `preflight.runTests URI`: the file's tests, told as a message and returned.
                let summary = serde_json::from_value::<lsp_types::ExecuteCommandParams>(request.params)
                    .ok()
                    .filter(|p| p.command == RUN_TESTS)
                    .and_then(|p| p.arguments.first().and_then(|a| a.as_str()).and_then(|u| u.parse::<Uri>().ok()))
                    .and_then(|uri| {
                        let text = self.documents.get(&uri)?;
                        let outcomes = run_tests(&uri, text)?;
                        Some(test_summary(&outcomes))
                    });
                if let Some(summary) = &summary {
                    use lsp_types::notification::Notification as _;
                    let failed = summary.contains("failed:");
                    let params = lsp_types::ShowMessageParams {
                        typ: if failed { lsp_types::MessageType::WARNING } else { lsp_types::MessageType::INFO },
                        message: summary.clone(),
                    };
                    let n = Notification::new(lsp_types::notification::ShowMessage::METHOD.to_string(), params);
                    self.connection.sender.send(Message::Notification(n)).map_err(|e| e.to_string())?;
                }
                Response::new_ok(request.id, summary)
            }
            WorkspaceSymbolRequest::METHOD => {
                let found = serde_json::from_value::<lsp_types::WorkspaceSymbolParams>(request.params).ok().map(|p| {
                    let query = p.query.to_lowercase();
                    let mut found = Vec::new();
                    for (uri, text) in &self.documents {
                        let Ok(file) = preflight_compiler::syntax::parse(text) else { continue };
                        let lines = Lines::new(text, self.utf8);
                        let mut items = preflight_ide::outline(&file);
                        while let Some(item) = items.pop() {
                            items.extend(item.children.iter().cloned());
                            if !item.name.to_lowercase().contains(&query) {
                                continue;
                            }
                            #[allow(deprecated)] // a field the protocol type still requires
                            found.push(lsp_types::SymbolInformation {
                                name: item.name.clone(),
                                kind: document_symbol(&item, &lines).kind,
                                tags: None,
                                deprecated: None,
                                location: Location {
                                    uri: uri.clone(),
                                    range: lines.range_of(item.name_span.0, item.name_span.1),
                                },
                                container_name: Some(item.kind.word().to_string()),
                            });
                        }
                    }
                    found.sort_by(|a, b| (a.location.uri.as_str(), &a.name).cmp(&(b.location.uri.as_str(), &b.name)));
                    found
                });
                Response::new_ok(request.id, found)
            }
            DocumentSymbolRequest::METHOD => {
                let symbols = serde_json::from_value::<lsp_types::DocumentSymbolParams>(request.params)
                    .ok()
                    .and_then(|p| self.documents.get(&p.text_document.uri))
                    .and_then(|text| {
                        let file = preflight_compiler::syntax::parse(text).ok()?;
                        let lines = Lines::new(text, self.utf8);
                        let items = preflight_ide::outline(&file);
                        Some(lsp_types::DocumentSymbolResponse::Nested(
                            items.iter().map(|i| document_symbol(i, &lines)).collect(),
                        ))
                    });
                Response::new_ok(request.id, symbols)
            }
            FoldingRangeRequest::METHOD => {
                let ranges = serde_json::from_value::<lsp_types::FoldingRangeParams>(request.params)
                    .ok()
                    .and_then(|p| self.documents.get(&p.text_document.uri))
                    .and_then(|text| {
                        let file = preflight_compiler::syntax::parse(text).ok()?;
                        let lines = Lines::new(text, self.utf8);
                        let ranges: Vec<lsp_types::FoldingRange> = preflight_ide::folding(&file, text)
                            .into_iter()
                            .map(|(a, b)| {
                                let comment = text.get(a..).is_some_and(|t| t.starts_with("//"));
                                lsp_types::FoldingRange {
                                    start_line: lines.range_of(a, a).start.line,
                                    end_line: lines.range_of(b, b).end.line,
                                    kind: Some(if comment {
                                        lsp_types::FoldingRangeKind::Comment
                                    } else {
                                        lsp_types::FoldingRangeKind::Region
                                    }),
                                    ..lsp_types::FoldingRange::default()
                                }
                            })
                            .collect();
                        Some(ranges)
                    });
                Response::new_ok(request.id, ranges)
            }
            Completion::METHOD => {
                let items = serde_json::from_value::<lsp_types::CompletionParams>(request.params).ok().and_then(|p| {
                    let uri = p.text_document_position.text_document.uri;
                    let text = self.documents.get(&uri)?;
                    let names = self.names.get(&uri).map_or(&[][..], Vec::as_slice);
                    let lines = Lines::new(text, self.utf8);
                    let found = preflight_ide::complete(text, lines.offset(p.text_document_position.position), names);
                    let range = lines.range_of(found.replace.0, found.replace.1);
                    let items: Vec<lsp_types::CompletionItem> = found
                        .items
                        .into_iter()
                        .enumerate()
                        .map(|(rank, item)| completion_item(item, rank, range))
                        .collect();
                    Some(items)
                });
                Response::new_ok(request.id, items)
            }
            CodeActionRequest::METHOD => {
                let actions = serde_json::from_value::<lsp_types::CodeActionParams>(request.params).ok().map(|p| {
                    let overlaps = |r: &Range| r.start <= p.range.end && p.range.start <= r.end;
                    let fixes = self.fixes.get(&p.text_document.uri).map_or(&[][..], Vec::as_slice);
                    fixes
                        .iter()
                        .filter(|fix| overlaps(&fix.diagnostic.range))
                        .map(|fix| {
                            // lsp-types' own map type; a `Uri` is never mutated once it is a key.
                            #[allow(clippy::mutable_key_type)]
                            let mut changes = HashMap::new();
                            changes.insert(p.text_document.uri.clone(), vec![fix.edit.clone()]);
                            lsp_types::CodeActionOrCommand::CodeAction(lsp_types::CodeAction {
                                title: fix.title.clone(),
                                kind: Some(lsp_types::CodeActionKind::QUICKFIX),
                                diagnostics: Some(vec![fix.diagnostic.clone()]),
                                edit: Some(lsp_types::WorkspaceEdit {
                                    changes: Some(changes),
                                    ..lsp_types::WorkspaceEdit::default()
                                }),
                                is_preferred: Some(true),
                                ..lsp_types::CodeAction::default()
                            })
                        })
                        .collect::<Vec<_>>()
                });
                Response::new_ok(request.id, actions)
            }
            SemanticTokensFullRequest::METHOD => {
                let tokens =
                    serde_json::from_value::<lsp_types::SemanticTokensParams>(request.params).ok().and_then(|p| {
                        let text = self.documents.get(&p.text_document.uri)?;
                        Some(semantic_tokens(&p.text_document.uri, text, self.utf8))
                    });
                Response::new_ok(request.id, tokens)
            }
            _ => Response::new_err(
                request.id,
                lsp_server::ErrorCode::MethodNotFound as i32,
                format!("preflight lsp does not answer `{}` yet", request.method),
            ),
        };
        self.connection.sender.send(Message::Response(response)).map_err(|e| e.to_string())
    }

    /// The declared name under the cursor, with its document and the document's lines.
    fn named(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<Named<'_>> {
        let text = self.documents.get(&at.text_document.uri)?;
        let lines = Lines::new(text, self.utf8);
        let symbol = symbol_at(&at.text_document.uri, text, lines.offset(at.position))?;
        Some(Named { text, lines, symbol })
    }

    fn publish(&mut self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Result<(), String> {
        use lsp_types::notification::Notification as _;
        let params = PublishDiagnosticsParams { uri, diagnostics, version: None };
        let n = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        self.connection.sender.send(Message::Notification(n)).map_err(|e| e.to_string())
    }
}

/// A file's declared names with their declarations.
type Declared = Vec<preflight_ide::Declaration>;

/// The diagnostics of a document that uses other files, which are read from disk beside it (a
/// `file:` URI): the document's own, and for each used file with problems one at its `use`.
fn with_uses(uri: &Uri, text: &str) -> Vec<preflight_compiler::Diagnostic> {
    let path = uri.as_str().strip_prefix("file://").map(|p| p.replace("%20", " ")).unwrap_or_default();
    let mut load = preflight_compiler::bundle::disk_loader(preflight_compiler::BUILTIN_LIBRARY);
    let checked = preflight_compiler::check_file(&path, text, &mut load);
    let main = checked.bundle.main().clone();
    let mut out = Vec::new();
    let mut elsewhere: Vec<String> = Vec::new();
    for d in &checked.diagnostics {
        let (file, local) = checked.bundle.localize(d);
        if *file == main {
            out.push(local);
        } else if !elsewhere.contains(&file.name) && d.is_error() {
            elsewhere.push(file.name.clone());
        }
    }
    for (span, used) in &checked.bundle.uses {
        if elsewhere.contains(used) && checked.bundle.in_main(*span) {
            let local =
                preflight_compiler::ast::Span::new(span.start as usize - main.start, span.end as usize - main.start);
            out.push(
                preflight_compiler::Diagnostic::error(
                    "P0113",
                    format!("`{used}` has errors"),
                    local,
                    "in the used file",
                )
                .with_help("open it to see them"),
            );
        }
    }
    out
}

/// The checker's findings as the protocol's diagnostics, the fixes they carry, and the declared
/// names when the text parses. A panic in the checker (none is known: it is fuzzed) becomes one diagnostic rather than
/// the end of the server.
fn diagnostics(uri: &Uri, text: &str, utf8: bool) -> (Vec<lsp_types::Diagnostic>, Vec<QuickFix>, Option<Declared>) {
    let checked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match preflight_compiler::syntax::parse(text) {
            Ok(file) if file.items.iter().any(|i| matches!(i, preflight_compiler::ast::Item::Use(_))) => {
                let mut load = preflight_compiler::bundle::disk_loader(preflight_compiler::BUILTIN_LIBRARY);
                let analysis = preflight_ide::Analysis::of(file, &path_of(uri), text, &mut load);
                (with_uses(uri, text), Some(analysis.declarations(text)))
            }
            Ok(file) => {
                (preflight_compiler::check::check(&file, text).1, Some(preflight_ide::declarations(&file, text)))
            }
            // Every syntax error, and the errors of the items that still parse.
            Err(_) => (with_uses(uri, text), None),
        }));
    let Ok((found, declared)) = checked else {
        let internal = lsp_types::Diagnostic {
            message: "internal error: the checker stopped on this file; please report it".into(),
            severity: Some(DiagnosticSeverity::ERROR),
            source: Some("preflight".into()),
            ..lsp_types::Diagnostic::default()
        };
        return (vec![internal], Vec::new(), None);
    };
    let lines = Lines::new(text, utf8);
    let fixes = preflight_ide::quick_fixes(text, &found);
    let diagnostics: Vec<lsp_types::Diagnostic> = found
        .into_iter()
        .map(|d| {
            let mut message = d.message.clone();
            if !d.primary.message.is_empty() {
                message.push_str(&format!(": {}", d.primary.message));
            }
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            for note in &d.notes {
                message.push_str(&format!("\nnote: {note}"));
            }
            let related = d
                .secondary
                .iter()
                .map(|l| DiagnosticRelatedInformation {
                    location: Location { uri: uri.clone(), range: lines.range(l.span.start, l.span.end) },
                    message: l.message.clone(),
                })
                .collect::<Vec<_>>();
            lsp_types::Diagnostic {
                range: lines.range(d.primary.span.start, d.primary.span.end),
                severity: Some(match d.severity {
                    preflight_compiler::diagnostic::Severity::Error => DiagnosticSeverity::ERROR,
                    preflight_compiler::diagnostic::Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("preflight".into()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..lsp_types::Diagnostic::default()
            }
        })
        .collect();
    let fixes = fixes
        .into_iter()
        .filter_map(|fix| {
            Some(QuickFix {
                title: fix.title,
                edit: TextEdit { range: lines.range_of(fix.edit.span.0, fix.edit.span.1), new_text: fix.edit.text },
                diagnostic: diagnostics.get(fix.diagnostic)?.clone(),
            })
        })
        .collect();
    (diagnostics, fixes, declared)
}

/// A diagnostic's fix, offered as a code action.
struct QuickFix {
    title: String,
    edit: TextEdit,
    diagnostic: lsp_types::Diagnostic,
}

/// The whole document, formatted, as one edit; none when it is formatted already or does not parse.
fn format(text: &str, utf8: bool) -> Option<Vec<TextEdit>> {
    let formatted = preflight_compiler::format::format_source(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let end = u32::try_from(text.len()).unwrap_or(u32::MAX);
    Some(vec![TextEdit { range: Lines::new(text, utf8).range(0, end), new_text: formatted }])
}

/// The semantic token types the server uses: the protocol's standard ones, so that every editor
/// and theme colours them.
const TOKEN_TYPES: [lsp_types::SemanticTokenType; 10] = [
    lsp_types::SemanticTokenType::KEYWORD,
    lsp_types::SemanticTokenType::COMMENT,
    lsp_types::SemanticTokenType::STRING,
    lsp_types::SemanticTokenType::NUMBER,
    lsp_types::SemanticTokenType::OPERATOR,
    lsp_types::SemanticTokenType::FUNCTION,
    lsp_types::SemanticTokenType::TYPE,
    lsp_types::SemanticTokenType::ENUM_MEMBER,
    lsp_types::SemanticTokenType::VARIABLE,
    lsp_types::SemanticTokenType::PROPERTY,
];
const TOKEN_MODIFIERS: [lsp_types::SemanticTokenModifier; 4] = [
    lsp_types::SemanticTokenModifier::DECLARATION,
    lsp_types::SemanticTokenModifier::DOCUMENTATION,
    lsp_types::SemanticTokenModifier::DEFAULT_LIBRARY,
    // A name coloured by what it names (resolved by `preflight_ide`), not by the parser's class.
    lsp_types::SemanticTokenModifier::new("reference"),
];

/// A token class as (its index in [`TOKEN_TYPES`], its bits of [`TOKEN_MODIFIERS`]).
fn token_type(class: preflight_compiler::highlight::Class) -> (u32, u32) {
    use lsp_types::{SemanticTokenModifier as M, SemanticTokenType as T};
    use preflight_compiler::highlight::Class;
    let (token_type, modifier) = match class {
        Class::Keyword | Class::Property => (T::KEYWORD, None),
        Class::Comment => (T::COMMENT, None),
        Class::Doc => (T::COMMENT, Some(M::DOCUMENTATION)),
        Class::String => (T::STRING, None),
        Class::Date | Class::Version | Class::Kb | Class::Number => (T::NUMBER, None),
        Class::Operator => (T::OPERATOR, None),
        Class::Function => (T::FUNCTION, Some(M::DEFAULT_LIBRARY)),
        Class::Type => (T::TYPE, Some(M::DEFAULT_LIBRARY)),
        Class::Constant | Class::Level => (T::ENUM_MEMBER, None),
        Class::Declaration => (T::VARIABLE, Some(M::DECLARATION)),
    };
    let index = |found: Option<usize>| found.and_then(|i| u32::try_from(i).ok()).unwrap_or(0);
    let bits = modifier.map_or(0, |m| 1 << index(TOKEN_MODIFIERS.iter().position(|x| *x == m)));
    (index(TOKEN_TYPES.iter().position(|t| *t == token_type)), bits)
}

/// The token type of a name the parser leaves unclassed, by what it names: a fact path, a
/// named value, a rule, or a value name (an OS, a product...).
fn name_token(kind: preflight_ide::Kind) -> (u32, u32) {
    use lsp_types::SemanticTokenType as T;
    use preflight_ide::Kind as K;
    let token_type = match kind {
        K::Fact | K::Group => T::PROPERTY,
        K::Let => T::VARIABLE,
        K::Rule | K::Test => T::FUNCTION,
        K::Update | K::Milestone => T::NUMBER,
        _ => T::ENUM_MEMBER,
    };
    let index = |found: Option<usize>| found.and_then(|i| u32::try_from(i).ok()).unwrap_or(0);
    let reference = 1 << index(TOKEN_MODIFIERS.iter().position(|m| m.as_str() == "reference"));
    (index(TOKEN_TYPES.iter().position(|t| *t == token_type)), reference)
}

/// The file's tokens as the parser reads them, and the names in conditions and properties by
/// what they name, in the protocol's relative encoding. A file that does not parse gets none,
/// and the editor's own grammar colours it meanwhile.
fn semantic_tokens(uri: &Uri, text: &str, utf8: bool) -> lsp_types::SemanticTokens {
    let index = index_of(uri, text);
    let Some(highlights) = preflight_ide::highlights(text, index.as_ref()) else {
        return lsp_types::SemanticTokens::default();
    };
    let spans = highlights.into_iter().map(|(span, h)| {
        let (from, to) = (u32::try_from(span.0).unwrap_or(u32::MAX), u32::try_from(span.1).unwrap_or(u32::MAX));
        let token = match h {
            preflight_ide::Highlight::Token(class) => token_type(class),
            preflight_ide::Highlight::Name(kind) => name_token(kind),
        };
        ((from, to), token)
    });
    let lines = Lines::new(text, utf8);
    let mut data = Vec::new();
    let (mut line, mut character) = (0, 0);
    for ((from, to), (token_type, token_modifiers_bitset)) in spans {
        let (start, end) = (lines.position(from), lines.position(to));
        // Tokens never span lines (strings and comments end at a line end) and come in source
        // order; the arithmetic saturates all the same.
        let length = if end.line == start.line { end.character.saturating_sub(start.character) } else { 0 };
        let delta_start = if start.line == line { start.character.saturating_sub(character) } else { start.character };
        data.push(lsp_types::SemanticToken {
            delta_line: start.line.saturating_sub(line),
            delta_start,
            length,
            token_type,
            token_modifiers_bitset,
        });
        (line, character) = (start.line, start.character);
    }
    lsp_types::SemanticTokens { result_id: None, data }
}

/// A declared name under the cursor: the document, its lines and the name's declaration.
struct Named<'t> {
    text: &'t str,
    lines: Lines<'t>,
    symbol: preflight_ide::Declaration,
}

/// The command a test lens runs: the file's tests, summed up in a message.
const RUN_TESTS: &str = "preflight.runTests";

/// The file's in-file tests on the interpreter (`None` when the file does not check).
fn run_tests(uri: &Uri, text: &str) -> Option<Vec<preflight_compiler::testing::TestOutcome>> {
    let mut load = preflight_compiler::bundle::disk_loader(preflight_compiler::BUILTIN_LIBRARY);
    let program = preflight_compiler::check_file(&path_of(uri), text, &mut load).program?;
    Some(preflight_compiler::testing::run(&program))
}

fn test_summary(outcomes: &[preflight_compiler::testing::TestOutcome]) -> String {
    let failed: Vec<String> =
        outcomes.iter().filter(|t| t.failure.is_some()).map(|t| format!("`{}` (line {})", t.name, t.line)).collect();
    let passed = outcomes.len() - failed.len();
    if failed.is_empty() {
        format!("{passed} passed, 0 failed")
    } else {
        format!("{passed} passed, {} failed: {}", failed.len(), failed.join(", "))
    }
}

/// A lens over each test with its result (run on the interpreter as the lenses are asked for),
/// and one at the top of the file for all of them; each runs the tests again when clicked.
fn test_lenses(uri: &Uri, text: &str) -> Vec<lsp_types::CodeLens> {
    let Some(outcomes) = run_tests(uri, text) else { return Vec::new() };
    if outcomes.is_empty() {
        return Vec::new();
    }
    let command = |title: String| lsp_types::Command {
        title,
        command: RUN_TESTS.to_string(),
        arguments: Some(vec![serde_json::json!(uri.as_str())]),
    };
    let at_line = |line: u32| Range { start: Position { line, character: 0 }, end: Position { line, character: 0 } };
    let mut lenses = vec![lsp_types::CodeLens {
        range: at_line(0),
        command: Some(command(format!("▶ run {} tests: {}", outcomes.len(), test_summary(&outcomes)))),
        data: None,
    }];
    for t in &outcomes {
        let title = match &t.failure {
            None => "✓ passes".to_string(),
            Some(diff) => {
                // The first line the answer differs on says most.
                let first = diff.lines().find(|l| l.starts_with('-') || l.starts_with('+')).unwrap_or("").trim();
                format!("✗ fails ({first})")
            }
        };
        let line = u32::try_from(t.line.saturating_sub(1)).unwrap_or(0);
        lenses.push(lsp_types::CodeLens { range: at_line(line), command: Some(command(title)), data: None });
    }
    lenses
}

/// The name under `offset` and its declaration, if the file (or a file it uses) declares it:
/// the name is resolved by kind (a rule and an OS of one name stay apart).
fn symbol_at(uri: &Uri, text: &str, offset: usize) -> Option<preflight_ide::Declaration> {
    let analysis = analysis(uri, text)?;
    analysis.declaration_of(text, analysis.index(text).at(offset)?)
}

/// A document's analysis: it parsed, and the files it uses resolved from disk beside it (or the
/// built-in shared files) and parsed with it, once per request.
fn analysis(uri: &Uri, text: &str) -> Option<preflight_ide::Analysis> {
    let mut load = preflight_compiler::bundle::disk_loader(preflight_compiler::BUILTIN_LIBRARY);
    preflight_ide::Analysis::new(&path_of(uri), text, &mut load)
}

/// The document's index (`None` when it does not parse).
fn index_of(uri: &Uri, text: &str) -> Option<preflight_ide::Index> {
    Some(analysis(uri, text)?.index(text))
}

/// A completion as the protocol's item: ranked in the order given (`sort_text`), the first
/// preferred one preselected.
fn completion_item(item: preflight_ide::Completion, rank: usize, range: Range) -> lsp_types::CompletionItem {
    use lsp_types::CompletionItemKind as C;
    use preflight_ide::{ItemKind, Kind as K};
    let kind = match item.kind {
        ItemKind::Keyword => C::KEYWORD,
        ItemKind::Status => C::ENUM_MEMBER,
        ItemKind::Function => C::FUNCTION,
        ItemKind::HostValue | ItemKind::GivenKey { group: false } | ItemKind::Name(K::Fact) => C::FIELD,
        ItemKind::GivenKey { group: true } | ItemKind::Name(K::Group) => C::MODULE,
        ItemKind::Name(K::Let) => C::VARIABLE,
        ItemKind::Name(K::Rule | K::Test) => C::FUNCTION,
        ItemKind::Name(K::Update | K::Series) => C::CONSTANT,
        ItemKind::Name(K::Os | K::Product) => C::ENUM_MEMBER,
        ItemKind::Name(_) => C::REFERENCE,
    };
    lsp_types::CompletionItem {
        text_edit: Some(lsp_types::CompletionTextEdit::Edit(TextEdit { range, new_text: item.label.clone() })),
        label: item.label,
        kind: Some(kind),
        detail: item.detail,
        documentation: item.docs.map(lsp_types::Documentation::String),
        sort_text: Some(format!("{rank:05}")),
        preselect: (item.preferred && rank == 0).then_some(true),
        ..lsp_types::CompletionItem::default()
    }
}

/// An outline entry as the protocol's document symbol.
#[allow(deprecated)] // `deprecated` is a field the protocol type still requires.
fn document_symbol(item: &preflight_ide::OutlineItem, lines: &Lines<'_>) -> lsp_types::DocumentSymbol {
    use lsp_types::SymbolKind as S;
    use preflight_ide::Kind as K;
    let kind = match item.kind {
        K::Advisory => S::MODULE,
        K::Fact => S::FIELD,
        K::Group => S::STRUCT,
        K::Let => S::CONSTANT,
        K::Rule => S::FUNCTION,
        K::Test => S::METHOD,
        K::Os | K::Product | K::Certificate | K::Component | K::Setting | K::Action => S::CLASS,
        K::Update => S::EVENT,
        K::Series => S::ENUM,
        K::Milestone => S::NUMBER,
    };
    lsp_types::DocumentSymbol {
        name: item.name.clone(),
        detail: Some(item.kind.word().to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: lines.range_of(item.span.0, item.span.1),
        selection_range: lines.range_of(item.name_span.0, item.name_span.1),
        children: (!item.children.is_empty())
            .then(|| item.children.iter().map(|c| document_symbol(c, lines)).collect()),
    }
}

/// The path of a `file:` URI.
fn path_of(uri: &Uri) -> String {
    uri.as_str().strip_prefix("file://").map(|p| p.replace("%20", " ")).unwrap_or_default()
}

/// Byte offsets → protocol positions.
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
    utf8: bool,
    /// The last position computed (offset, line, character): a later offset on the same line is
    /// counted from there, so converting a file's tokens in order is linear even when the whole
    /// file is one line (UTF-16 columns must be counted, not computed).
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str, utf8: bool) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { text, starts, utf8, last: std::cell::Cell::new((0, 0, 0)) }
    }

    fn position(&self, offset: u32) -> Position {
        let mut offset = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let (last_offset, last_line, last_character) = self.last.get();
        let (from, base) = if last_line == line && last_offset >= start && last_offset <= offset {
            (last_offset, last_character)
        } else {
            (start, 0)
        };
        let between = self.text.get(from..offset).unwrap_or_default();
        let character = base + if self.utf8 { between.len() } else { between.encode_utf16().count() };
        self.last.set((offset, line, character));
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(character).unwrap_or(u32::MAX),
        }
    }

    /// A protocol position → a byte offset (clamped to the text).
    fn offset(&self, p: Position) -> usize {
        let start = self.starts.get(p.line as usize).copied().unwrap_or(self.text.len());
        let line = self.text.get(start..).unwrap_or_default();
        let line = line.split('\n').next().unwrap_or_default();
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= p.character as usize {
                return start + i;
            }
            units += if self.utf8 { c.len_utf8() } else { c.len_utf16() };
        }
        start + line.len()
    }

    fn range_of(&self, start: usize, end: usize) -> Range {
        self.range(u32::try_from(start).unwrap_or(u32::MAX), u32::try_from(end).unwrap_or(u32::MAX))
    }

    fn range(&self, start: u32, end: u32) -> Range {
        Range { start: self.position(start), end: self.position(end) }
    }
}
