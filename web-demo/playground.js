// The playground: the compiler (pkg/playground, wasm-bindgen) checks the rules as you type,
// runs their tests, evaluates facts and compiles the module to download. The editor
// (pkg/editor, CodeMirror 6 bundled from editor/editor.js) asks the same package for colours,
// diagnostics with their fixes, completion and hover.
import init, * as api from "./pkg/playground/playground.js";
import { createEditor, forceLinting } from "./pkg/editor/editor.js";

const { check, run_tests, evaluate, compile } = api;
const $ = (id) => document.getElementById(id);

function escapeHtml(text) {
  return text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
}

let view = null;
const source = () => view.state.doc.toString();

/** The side panel: counts, the list (click to select, a fix button where there is one), the rendering. */
function showDiagnostics(answer) {
  const errors = answer.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = answer.diagnostics.length - errors;
  $("diag-count").textContent = answer.diagnostics.length ? `— ${errors} error(s), ${warnings} warning(s)` : "— clean";
  $("diagnostics").replaceChildren(...answer.diagnostics.map((d, i) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.innerHTML = `<span class="sev-${d.severity}">${d.severity}[${d.code}]</span> ${d.line}:${d.column} ${escapeHtml(d.message)}`;
    if (d.help) button.title = `help: ${d.help}`;
    button.addEventListener("click", () => {
      view.dispatch({ selection: { anchor: d.from, head: d.to }, scrollIntoView: true });
      view.focus();
    });
    li.append(button);
    for (const fix of answer.fixes.filter((f) => f.diagnostic === i)) {
      const apply = document.createElement("button");
      apply.type = "button";
      apply.className = "fix";
      apply.textContent = fix.title;
      apply.addEventListener("click", () => view.dispatch({ changes: { from: fix.from, to: fix.to, insert: fix.text } }));
      li.append(apply);
    }
    if (d.help) { const help = document.createElement("div"); help.className = "hint"; help.textContent = `help: ${d.help}`; li.append(help); }
    return li;
  }));
  $("rendered").textContent = answer.rendered || "no diagnostics";
  return answer;
}

/** Replaces the whole text and checks it at once (the editor's own check follows a pause later). */
function setSource(text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  forceLinting(view);
  return showDiagnostics(JSON.parse(check(text)));
}

$("run-tests").addEventListener("click", () => {
  const answer = JSON.parse(run_tests(source()));
  $("test-summary").textContent = answer.ok ? `${answer.passed} passed, ${answer.failed} failed` : "the rules have errors";
  $("test-results").replaceChildren(...answer.results.filter((r) => !r.passed).concat(answer.results.filter((r) => r.passed)).map((r) => {
    const li = document.createElement("li");
    li.className = r.passed ? "pass" : "fail";
    li.textContent = `${r.passed ? "✔" : "✖"} ${r.name} (line ${r.line})${r.diff ? `\n${r.diff}` : ""}`;
    li.style.whiteSpace = "pre-wrap";
    return li;
  }));
});

$("evaluate").addEventListener("click", () => {
  // Judged as of today when the facts give no date, as `preflight eval` does.
  const answer = evaluate(source(), $("facts").value, Math.floor(Date.now() / 86_400_000));
  try { $("answer").textContent = JSON.stringify(JSON.parse(answer), null, 2); } catch { $("answer").textContent = answer; }
});

$("download").addEventListener("click", () => {
  try {
    const bytes = compile(source());
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/wasm" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: "rules.wasm" });
    a.click();
    URL.revokeObjectURL(url);
    $("download-status").textContent = `${bytes.length} bytes`;
  } catch (e) {
    $("download-status").textContent = String(e);
  }
});

window.playground = {
  ready: (async () => {
    await init();
    view = createEditor({ parent: $("editor"), api, onCheck: showDiagnostics });
    // The built-in advisories (modules/index.json, written by build.sh), the first one loaded.
    const names = await (await fetch("modules/index.json")).json();
    $("file").replaceChildren(...names.map((n) => new Option(`${n}.preflight`, n)));
    const load = async () => setSource(await (await fetch(`modules/${$("file").value}.preflight`)).text());
    $("file").addEventListener("change", load);
    await load();
  })(),
  setSource,
  source,
  /** The language intelligence's completions at a UTF-16 offset (for tests and embedders). */
  complete: (text, at) => api.complete(text, at),
  get view() { return view; },
};
