// The playground: the compiler (pkg/playground, wasm-bindgen) checks the rules as you type,
// runs their tests, evaluates facts and compiles the module to download.
import init, { check, run_tests, evaluate, compile } from "./pkg/playground/playground.js";

const $ = (id) => document.getElementById(id);
const source = $("source"), mirror = $("mirror");

function escapeHtml(text) {
  return text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
}

/** Redraws the layer under the textarea with every diagnostic's span underlined. */
function underline(text, diagnostics) {
  const spans = diagnostics.map((d) => [d.from, Math.max(d.to, d.from + 1), d.severity]).sort((a, b) => a[0] - b[0]);
  const chars = [...text];
  let html = "", at = 0;
  for (const [from, to, severity] of spans) {
    if (from < at) continue;
    html += escapeHtml(chars.slice(at, from).join(""));
    html += `<mark class="${severity}">${escapeHtml(chars.slice(from, to).join("") || " ")}</mark>`;
    at = to;
  }
  mirror.innerHTML = html + escapeHtml(chars.slice(at).join("")) + "\n";
}

function showDiagnostics() {
  const answer = JSON.parse(check(source.value));
  underline(source.value, answer.diagnostics);
  const errors = answer.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = answer.diagnostics.length - errors;
  $("diag-count").textContent = answer.diagnostics.length ? `— ${errors} error(s), ${warnings} warning(s)` : "— clean";
  $("diagnostics").replaceChildren(...answer.diagnostics.map((d) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.innerHTML = `<span class="sev-${d.severity}">${d.severity}[${d.code}]</span> ${d.line}:${d.column} ${escapeHtml(d.message)}`;
    if (d.help) button.title = `help: ${d.help}`;
    button.addEventListener("click", () => { source.focus(); source.setSelectionRange(d.from, d.to); });
    li.append(button);
    if (d.help) { const help = document.createElement("div"); help.className = "hint"; help.textContent = `help: ${d.help}`; li.append(help); }
    return li;
  }));
  $("rendered").textContent = answer.rendered || "no diagnostics";
  return answer;
}

let pending = 0;
source.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(showDiagnostics, 150); });
source.addEventListener("scroll", () => { mirror.scrollTop = source.scrollTop; mirror.scrollLeft = source.scrollLeft; });

$("run-tests").addEventListener("click", () => {
  const answer = JSON.parse(run_tests(source.value));
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
  const answer = evaluate(source.value, $("facts").value, Math.floor(Date.now() / 86_400_000));
  try { $("answer").textContent = JSON.stringify(JSON.parse(answer), null, 2); } catch { $("answer").textContent = answer; }
});

$("download").addEventListener("click", () => {
  try {
    const bytes = compile(source.value);
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
    // The built-in advisories (modules/index.json, written by build.sh), the first one loaded.
    const names = await (await fetch("modules/index.json")).json();
    $("file").replaceChildren(...names.map((n) => new Option(`${n}.preflight`, n)));
    const load = async () => {
      source.value = await (await fetch(`modules/${$("file").value}.preflight`)).text();
      showDiagnostics();
    };
    $("file").addEventListener("change", load);
    await load();
  })(),
  setSource(text) { source.value = text; return showDiagnostics(); },
};
