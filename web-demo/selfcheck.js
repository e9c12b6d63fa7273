// The self-check page. The verdict comes from the compiled ACS module (acs.wasm) through the
// plain WebAssembly API — the same bytes every other host runs; pasted text is read by the
// Rust paste reader (pkg/, built with wasm-bindgen). Nothing leaves the page.
import init, { read_pasted } from "./pkg/paste/paste.js";

const started = performance.now();
const $ = (id) => document.getElementById(id);

/** The ABI's "no evaluation date": the facts are judged exactly as given. */
const NO_DATE = -2147483648;
/** A `YYYY-MM-DD` day as the ABI takes it: days since 1970-01-01. */
const days = (isoDate) => Math.floor(Date.parse(isoDate) / 86_400_000);

/** Loads a Preflight module and returns `evaluate(factsText, date) -> answerText` (docs/abi.md). */
async function loadModule(url) {
  const { instance } = await WebAssembly.instantiateStreaming(fetch(url));
  const { memory, alloc, evaluate, output, abi_version } = instance.exports;
  if (abi_version() !== 2) throw new Error("unsupported module ABI");
  const encoder = new TextEncoder(), decoder = new TextDecoder();
  return (text, date = NO_DATE) => {
    const bytes = encoder.encode(text);
    const ptr = alloc(bytes.length); // 0: too large to take; evaluate says so
    if (ptr !== 0) new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    const length = evaluate(ptr, bytes.length, date);
    return decoder.decode(new Uint8Array(memory.buffer, output(), length));
  };
}

const ready = Promise.all([loadModule("acs.wasm"), init()]).then(([evaluate]) => evaluate);

// A hook for the browser tests: evaluate raw facts text with the page's module, as of today
// when the facts give no date (as `preflight eval` does).
window.preflight = { ready, evaluate: async (text) => (await ready)(text, days(today())) };

const STATUS = {
  ready: ["✔", "Ready", "ACS-signed updates will run on this machine."],
  action_required: ["!", "Install updates first", "Install the updates below before the agent receives ACS-signed binaries."],
  limited: ["▲", "Limited", "Protection continues with pattern and IPS updates, but new ACS-signed binaries will not run."],
  unsupported: ["✖", "Unsupported", "This product no longer supports this Windows version."],
  not_affected: ["–", "Not affected", "The ACS change does not concern this machine."],
  unknown: ["?", "Not covered", "The advisory does not cover this product version or Windows version."],
};

const today = () => new Date().toISOString().slice(0, 10);

function kbLink(kb) {
  const a = document.createElement("a");
  a.href = `https://support.microsoft.com/help/${kb.replace(/^KB/i, "")}`;
  a.textContent = kb;
  a.className = "kb";
  return a;
}

/** Facts from the form (what the user sees is what is evaluated), judged as of the form's date. */
function factsFromForm() {
  const facts = { os: {}, as_of: $("as-of").value || today() };
  const product = $("product").value;
  if (product) facts.product = { id: product };
  const version = $("product-version").value.trim();
  if (product && version) facts.product.version = version;
  const platform = $("platform").value;
  if (platform !== "windows") facts.os.platform = platform;
  const build = $("build").value.trim();
  const revision = $("revision").value.trim();
  if (build) facts.os.version = revision ? `${build}.${revision}` : build;
  facts.os.product_type = document.querySelector("input[name=role]:checked").value;
  const kbs = $("hotfixes").value.split(/[\s,;]+/).filter(Boolean);
  if (kbs.length) facts.hotfixes = kbs;
  if ($("esu").checked) facts.esu = true;
  if ($("azure").checked) facts.azure = true;
  const ca = {};
  if ($("auto-update").value) ca.auto_update = $("auto-update").value === "true";
  if ($("ca-present").value) ca.identity_verification_2020 = $("ca-present").value === "true";
  if (Object.keys(ca).length) facts.root_ca = ca;
  return facts;
}

/** Fills the form from facts read off pasted text. */
function fillForm(facts) {
  if (facts.product?.id) $("product").value = facts.product.id;
  if (facts.product?.version) $("product-version").value = facts.product.version;
  if (facts.os?.platform) {
    if (![...$("platform").options].some((o) => o.value === facts.os.platform)) $("platform").add(new Option(facts.os.platform, facts.os.platform));
    $("platform").value = facts.os.platform;
  }
  if (facts.os?.version) {
    const parts = facts.os.version.split(".");
    $("build").value = parts.slice(0, 3).join(".");
    $("revision").value = parts[3] ?? "";
    const match = [...$("windows").options].find((o) => o.value.startsWith(`${parts.slice(0, 3).join(".")}|`));
    $("windows").value = match ? match.value : "other";
  }
  if (facts.os?.product_type) document.querySelector(`input[name=role][value=${facts.os.product_type}]`).checked = true;
  if (facts.hotfixes) $("hotfixes").value = facts.hotfixes.join(" ");
  if (facts.esu) $("esu").checked = true;
  if (facts.azure) $("azure").checked = true;
  if (facts.root_ca?.auto_update !== undefined) $("auto-update").value = String(facts.root_ca.auto_update);
  if (facts.root_ca?.identity_verification_2020 !== undefined) $("ca-present").value = String(facts.root_ca.identity_verification_2020);
  // A date in pasted facts is the date to judge by; the customer can still change it.
  if (typeof facts.as_of === "string" && /^\d{4}-\d{2}-\d{2}$/.test(facts.as_of)) $("as-of").value = facts.as_of;
}

function listItems(list, items) {
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
  list.previousElementSibling.hidden = items.length === 0;
}

function actionItem(finding) {
  const li = document.createElement("li");
  if (finding.install_any_of?.length) {
    li.append("Install ");
    finding.install_any_of.forEach((kb, i) => {
      if (i > 0) li.append(" — or ");
      li.append(kbLink(kb));
      const info = finding.updates?.find((u) => u.kb === kb);
      if (info?.kind) li.append(` (${info.kind.replace(/_/g, " ")}${info.released ? `, ${info.released}` : ""})`);
    });
    if (finding.updates?.some((u) => u.kind === "cumulative" || u.kind === "monthly_rollup")) li.append(" — or any later one");
    const why = document.createElement("div");
    why.className = "meta";
    why.textContent = finding.message;
    li.append(why);
  } else if (finding.certificate) {
    li.append(`Install the ${finding.certificate}`);
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `Thumbprint ${finding.thumbprint ?? ""}. ${finding.message}`;
    li.append(meta);
  } else {
    li.textContent = finding.message;
  }
  return li;
}

function show(answer, facts) {
  $("result").hidden = false;
  $("as-of-used").textContent = `Judged as of ${facts.as_of}${facts.as_of === today() ? " (today)" : ""}.`;
  $("facts-json").textContent = JSON.stringify(facts, null, 2);
  const badge = $("badge");
  if (answer.error) {
    badge.dataset.status = "error";
    badge.textContent = "? Cannot check yet";
    $("summary").textContent = `${answer.error.message}${answer.error.field ? ` (${answer.error.field})` : ""}.`;
    listItems($("actions"), []);
    listItems($("notices"), []);
    return;
  }
  const [icon, word, sentence] = STATUS[answer.status];
  badge.dataset.status = answer.status;
  badge.textContent = `${icon} ${word}`;
  $("summary").textContent = sentence;
  const sets = (f) => !["info", "warning"].includes(f.severity);
  listItems($("actions"), answer.findings.filter(sets).map(actionItem));
  listItems($("notices"), answer.findings.filter((f) => !sets(f)).map((f) => {
    const li = document.createElement("li");
    li.textContent = (f.severity === "warning" ? "Warning: " : "") + f.message;
    return li;
  }));
}

function summaryText() {
  const lines = [`ACS self-check: ${$("badge").textContent}`, $("summary").textContent, $("as-of-used").textContent];
  for (const li of $("actions").children) lines.push(`- ${li.textContent}`);
  for (const li of $("notices").children) lines.push(`* ${li.textContent}`);
  return lines.join("\n");
}

async function check(event) {
  event?.preventDefault();
  const evaluate = await ready;
  const facts = factsFromForm();
  const answer = JSON.parse(evaluate(JSON.stringify(facts), days(today())));
  show(answer, facts);
  return answer;
}

$("facts-form").addEventListener("submit", check);
$("windows").addEventListener("change", () => {
  const [build, role] = $("windows").value.split("|");
  if (role) {
    $("build").value = build;
    document.querySelector(`input[name=role][value=${role}]`).checked = true;
  }
});
$("paste").addEventListener("input", async () => {
  await ready;
  const read = JSON.parse(read_pasted($("paste").value));
  fillForm(read.facts);
  const status = $("paste-status");
  status.replaceChildren();
  if (!$("paste").value.trim()) return;
  const found = document.createElement("p");
  found.textContent = read.found.length ? `Read: ${read.found.join("; ")}.` : "Nothing recognised yet.";
  status.append(found);
  if (read.missing.length) {
    const missing = document.createElement("p");
    missing.textContent = `Still needed: ${read.missing.join("; ")} — choose below.`;
    status.append(missing);
  }
});
$("as-of").value = today();
$("copy").addEventListener("click", () => navigator.clipboard?.writeText(summaryText()));
$("print").addEventListener("click", () => window.print());

ready.then(() => {
  window.preflight.loadedMs = performance.now() - started;
});
