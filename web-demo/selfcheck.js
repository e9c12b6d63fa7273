// The self-check page. Everything about the advisories comes from their compiled modules
// (modules/*.wasm, listed in modules/index.json by build.sh): the verdicts through the plain
// WebAssembly API — the same bytes every other host runs — and the form from each module's
// metadata (its facts, products, Windows versions and host roles). Pasted text is read by the
// Rust paste reader (pkg/, built with wasm-bindgen). Nothing leaves the page.
import init, { read_pasted } from "./pkg/paste/paste.js";

const started = performance.now();
const $ = (id) => document.getElementById(id);

/** The ABI's "no evaluation date": the facts are judged exactly as given. */
const NO_DATE = -2147483648;
/** A `YYYY-MM-DD` day as the ABI takes it: days since 1970-01-01. */
const days = (isoDate) => Math.floor(Date.parse(isoDate) / 86_400_000);
const today = () => new Date().toISOString().slice(0, 10);

/** Loads one advisory's module: its metadata and `evaluate(factsText, date) -> answerText` (docs/abi.md). */
async function loadAdvisory(name) {
  const module = await WebAssembly.compileStreaming(fetch(`modules/${name}.wasm`));
  const [section] = WebAssembly.Module.customSections(module, "preflight");
  const meta = JSON.parse(new TextDecoder().decode(section));
  const instance = await WebAssembly.instantiate(module, {});
  const { memory, alloc, evaluate, output, abi_version } = instance.exports;
  if (abi_version() !== 4) throw new Error(`${name}: unsupported module ABI`);
  const encoder = new TextEncoder(), decoder = new TextDecoder();
  const run = (text, date = NO_DATE) => {
    const bytes = encoder.encode(text);
    const ptr = alloc(bytes.length); // 0: too large to take; evaluate says so
    if (ptr !== 0) new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    const length = evaluate(ptr, bytes.length, date);
    return decoder.decode(new Uint8Array(memory.buffer, output(), length));
  };
  return { name, id: meta.advisory.id, meta, evaluate: run };
}

const ready = (async () => {
  const [names] = await Promise.all([fetch("modules/index.json").then((r) => r.json()), init()]);
  const advisories = await Promise.all(names.map(loadAdvisory));
  setUp(advisories);
  return advisories;
})();

// A hook for the browser tests: evaluate raw facts text with one advisory's module (by advisory
// id; the first when none is named), as of today when the facts give no date (as `preflight
// eval` does).
window.preflight = {
  ready,
  evaluate: async (text, id) => {
    const advisories = await ready;
    const advisory = advisories.find((a) => a.id === id) ?? advisories[0];
    return advisory.evaluate(text, days(today()));
  },
};

const STATUS = {
  ready: ["✔", "Ready", "Nothing to do for this advisory."],
  action_required: ["!", "Action required", "Do what is listed below before the change."],
  limited: ["▲", "Limited", "The machine keeps working, with the limits below."],
  unsupported: ["✖", "Unsupported", "The advisory does not support this machine."],
  not_affected: ["–", "Not affected", "The advisory does not concern this machine."],
  unknown: ["?", "Not covered", "The advisory does not cover this machine."],
};
/** `unknown` because facts are missing, not because the advisory does not cover the machine. */
const UNDECIDED = ["?", "Cannot tell yet", "Answer the highlighted questions: the advisory's answer depends on them."];
/** The option that says "looked, found nothing" for a fact whose rules read `null`. */
const NULL_OPTION = "null";

let all = [];

/** The advisories the customer chose. */
function chosen() {
  const value = $("advisory").value;
  return value === "*" ? all : all.filter((a) => a.id === value);
}

// ---------------------------------------------------------------- the form, from the metadata

/** The roles the form asks for with controls of their own (the others' facts are plain fields). */
const FORM_ROLES = ["product", "product_version", "platform", "os_version", "os_role", "hotfixes", "evaluation_date"];
const formRoles = (roles) => new Set(FORM_ROLES.map((r) => roles[r]).filter(Boolean));

/** The facts' leaves of a JSON Schema, with their dotted paths. A fact whose rules read `null`
 * (`anyOf: [T, null]`) is its type, marked `nullable`. */
function leaves(schema, prefix = []) {
  const out = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, key];
    if (node.type === "object") out.push(...leaves(node, path));
    else if (node.anyOf) {
      const [own] = node.anyOf.filter((alternative) => alternative.type !== "null");
      out.push({ path: path.join("."), schema: { ...own, description: node.description, nullable: true } });
    } else out.push({ path: path.join("."), schema: node });
  }
  return out;
}

/** What the chosen advisories read: facts by path (first schema wins), roles, products, OSes. */
function union(advisories) {
  const facts = new Map(), roles = {}, products = new Map(), oses = new Map(), versions = [];
  for (const { meta } of advisories) {
    for (const leaf of leaves(meta.facts_schema)) if (!facts.has(leaf.path)) facts.set(leaf.path, leaf.schema);
    for (const [role, path] of Object.entries(meta.roles ?? {})) roles[role] ??= path;
    for (const p of meta.products ?? []) if (!products.has(p.id)) products.set(p.id, p.name);
    for (const os of meta.oses ?? []) {
      const build = exampleBuild(os.builds?.[0] ?? "");
      const value = `${build}|${os.role ?? ""}`;
      if (build && !oses.has(value)) oses.set(value, `${os.name} (${os.builds.join(", ")})`);
      if (build) versions.push({ value, builds: os.builds ?? [], role: os.role ?? "" });
    }
  }
  return { facts, roles, products, oses, versions };
}

/** A build compared with a bound over the bound's parts (a part the build lacks counts as 0), as the module compares them. */
function comparePrefix(build, bound) {
  const a = build.split(".").map(Number), b = bound.split(".").map(Number);
  for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== b[i]) return Math.sign((a[i] ?? 0) - b[i]);
  return 0;
}

/** Whether a build (major.minor.build) is one a rules file's build pattern names: `a.b.c` (a
 * prefix), or a range of bounds joined by `and` (`>= 6.1 and < 6.2`). */
function buildMatches(pattern, build) {
  if (!/^[<>]/.test(pattern)) return build === pattern || build.startsWith(`${pattern}.`);
  return pattern.split(" and ").every((bound) => {
    const [op, version] = bound.split(" ");
    const order = comparePrefix(build, version);
    return { ">=": order >= 0, ">": order > 0, "<=": order <= 0, "<": order < 0 }[op] ?? false;
  });
}

/** A build a rules pattern matches: `a.b.c` as is; of a range its lowest (`>= a.b.c` its bound,
 * `> a.b.c` just above it), or with only an upper bound one just below it. */
function exampleBuild(pattern) {
  if (!/^[<>]/.test(pattern)) return pattern;
  const step = (version, by) => {
    const parts = version.split(".").map(Number);
    if (by < 0) while (parts.length > 1 && parts.at(-1) === 0) parts.pop();
    parts[parts.length - 1] += by;
    return parts.join(".");
  };
  let low = null, high = null;
  for (const bound of pattern.split(" and ")) {
    const [op, version] = bound.split(" ");
    if (op === ">=") low = version;
    else if (op === ">") low = step(version, 1);
    else high = op === "<=" ? version : step(version, -1);
  }
  return low ?? high ?? "";
}

const idOf = (path) => `fact-${path.replace(/\./g, "-")}`;

function element(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function labelled(id, text, control) {
  return [element("label", { for: id }, text), control];
}

function select(id, options) {
  const s = element("select", { id });
  for (const [value, text] of options) s.add(new Option(text, value));
  return s;
}

/** A field for one fact that plays no host role, by its type. */
function genericField(path, schema) {
  const id = idOf(path);
  const text = schema.description ? `${schema.description} (${path})` : path;
  if (schema.type === "boolean") return labelled(id, text, select(id, [["", "I don't know"], ["true", "Yes"], ["false", "No"]]));
  const none = schema.nullable ? [[NULL_OPTION, "Not there"]] : [];
  if (schema.enum) return labelled(id, text, select(id, [["", "I don't know"], ...schema.enum.map((v) => [v, v]), ...none]));
  if (schema.type === "array") return labelled(id, text, element("textarea", { id, rows: "2", spellcheck: "false" }));
  const input = element("input", { id, autocomplete: "off" });
  if (schema.type === "integer") input.setAttribute("inputmode", "numeric");
  return labelled(id, text, input);
}

/** Builds the form for the chosen advisories, keeping what was entered. */
function renderForm() {
  const kept = factsFromForm();
  const { facts, roles, products, oses } = union(chosen());
  const fields = $("fields");
  fields.replaceChildren();
  const special = formRoles(roles);
  if (roles.product) {
    const set = element("fieldset", {}, element("legend", {}, "Product"));
    const none = facts.get(roles.product)?.nullable ? [[NULL_OPTION, "None of these is installed"]] : [];
    set.append(...labelled("product", "Product", select("product", [["", "Choose…"], ...products, ...none])));
    if (roles.product_version) set.append(...labelled("product-version", "Version", element("input", { id: "product-version", autocomplete: "off" })));
    fields.append(set);
  }
  if (roles.os_version) {
    const set = element("fieldset", {}, element("legend", {}, "Windows"));
    if (roles.platform) set.append(...labelled("platform", "Operating system", select("platform", [["windows", "Windows"], ["linux", "Linux"], ["macos", "macOS"]])));
    const windows = select("windows", [["", "Choose…"], ...oses, ["other", "Other: type the build below"]]);
    set.append(...labelled("windows", "Windows version", windows));
    set.append(...labelled("build", "Build (major.minor.build, as ver shows)", element("input", { id: "build", autocomplete: "off" })));
    set.append(...labelled("revision", "Revision (UBR: the last number ver shows)", element("input", { id: "revision", inputmode: "numeric", autocomplete: "off" })));
    const variants = facts.get(roles.os_role)?.enum ?? [];
    if (variants.length) {
      const group = element("div", { class: "radios", role: "radiogroup", "aria-label": "Edition" });
      variants.forEach((v, i) => {
        const radio = element("input", { type: "radio", name: "role", value: v });
        if (i === 0) radio.checked = true;
        group.append(element("label", {}, radio, ` ${v}`));
      });
      set.append(group);
    }
    if (roles.hotfixes) set.append(...labelled("hotfixes", "Installed updates (KB numbers, separated by spaces or commas)", element("textarea", { id: "hotfixes", rows: "2", spellcheck: "false" })));
    windows.addEventListener("change", () => {
      const [build, role] = windows.value.split("|");
      if (build !== undefined && windows.value !== "other" && windows.value) {
        $("build").value = build;
        if (role) document.querySelector(`input[name=role][value="${role}"]`).checked = true;
      }
    });
    fields.append(set);
  }
  const rest = [...facts].filter(([path, schema]) => !special.has(path) && !(roles.evaluation_date === path) && schema.type !== undefined);
  if (rest.length) {
    const set = element("fieldset", {}, element("legend", {}, "More about the machine"));
    for (const [path, schema] of rest) set.append(...genericField(path, schema));
    fields.append(set);
  }
  fillForm(kept);
}

/** Reads the value at a dotted path of an object. */
const at = (object, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), object);
/** Sets the value at a dotted path of an object. */
function put(object, path, value) {
  const keys = path.split(".");
  let node = object;
  for (const k of keys.slice(0, -1)) node = node[k] ??= {};
  node[keys[keys.length - 1]] = value;
}

/** Facts from the form (what the user sees is what is evaluated), judged as of the form's date. */
function factsFromForm() {
  const facts = {};
  if (!all.length) return facts;
  const { facts: schemas, roles } = union(chosen());
  if (roles.evaluation_date) put(facts, roles.evaluation_date, $("as-of").value || today());
  const value = (id) => $(id)?.value.trim() ?? "";
  const product = value("product") === NULL_OPTION ? null : value("product");
  if (roles.product && value("product")) put(facts, roles.product, product);
  if (roles.product_version && product && value("product-version")) put(facts, roles.product_version, value("product-version"));
  if (roles.platform && $("platform") && value("platform") !== "windows") put(facts, roles.platform, value("platform"));
  if (roles.os_version && value("build")) put(facts, roles.os_version, value("revision") ? `${value("build")}.${value("revision")}` : value("build"));
  const role = document.querySelector("input[name=role]:checked");
  if (roles.os_role && role) put(facts, roles.os_role, role.value);
  if (roles.hotfixes) {
    const kbs = value("hotfixes").split(/[\s,;]+/).filter(Boolean);
    if (kbs.length) put(facts, roles.hotfixes, kbs);
  }
  const special = formRoles(roles);
  for (const [path, schema] of schemas) {
    if (special.has(path) || !$(idOf(path))) continue;
    const raw = value(idOf(path));
    if (raw === "") continue;
    if (schema.nullable && raw === NULL_OPTION) put(facts, path, null);
    else if (schema.type === "boolean") put(facts, path, raw === "true");
    else if (schema.type === "integer") put(facts, path, Number.isSafeInteger(Number(raw)) ? Number(raw) : raw);
    else if (schema.type === "array") put(facts, path, raw.split(/[\s,;]+/).filter(Boolean));
    else put(facts, path, raw);
  }
  return facts;
}

/** Fills the form from facts (read off pasted text, or kept across a change of advisory). */
function fillForm(facts) {
  if (!all.length) return;
  const { facts: schemas, roles, versions } = union(chosen());
  const set = (id, v) => { if ($(id) && v !== undefined && v !== null) $(id).value = String(v); };
  if (roles.product) set("product", at(facts, roles.product) === null ? NULL_OPTION : at(facts, roles.product));
  if (roles.product_version) set("product-version", at(facts, roles.product_version));
  const platform = roles.platform && at(facts, roles.platform);
  if (platform && $("platform")) {
    if (![...$("platform").options].some((o) => o.value === platform)) $("platform").add(new Option(platform, platform));
    $("platform").value = platform;
  }
  const version = roles.os_version && at(facts, roles.os_version);
  const role = roles.os_role && at(facts, roles.os_role);
  if (typeof version === "string" && $("build")) {
    const parts = version.split(".");
    const build = parts.slice(0, 3).join(".");
    $("build").value = build;
    $("revision").value = parts[3] ?? "";
    // The Windows version whose builds hold this build, *and* of this role: one build can be a
    // workstation's and a server's. Without a role, only a build that one version alone holds is
    // matched.
    const holding = versions.filter((v) => v.builds.some((p) => buildMatches(p, build)));
    const match = holding.find((v) => role && v.role === role)
      ?? (!role && new Set(holding.map((v) => v.value)).size === 1 ? holding[0] : undefined);
    $("windows").value = match ? match.value : "other";
  }
  if (role) {
    const radio = document.querySelector(`input[name=role][value="${role}"]`);
    if (radio) radio.checked = true;
  }
  const kbs = roles.hotfixes && at(facts, roles.hotfixes);
  if (Array.isArray(kbs)) set("hotfixes", kbs.join(" "));
  const special = formRoles(roles);
  for (const [path, schema] of schemas) {
    if (special.has(path)) continue;
    const v = at(facts, path);
    if (v === undefined) continue;
    if (v === null && schema.nullable) set(idOf(path), NULL_OPTION);
    else set(idOf(path), Array.isArray(v) ? v.join(" ") : v);
  }
  // A date in the facts is the date to judge by; the customer can still change it.
  const date = roles.evaluation_date && at(facts, roles.evaluation_date);
  if (typeof date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(date)) $("as-of").value = date;
}

// ---------------------------------------------------------------- verdicts

function updateLink(finding, kb) {
  const info = finding.updates?.find((u) => u.kb === kb);
  const href = info?.links?.[0];
  const node = href ? element("a", { href, class: "kb" }, kb) : element("span", { class: "kb" }, kb);
  return [node, info];
}

/** Appends what one step asks (an update group, a certificate, a component, a setting, an
 * action) to `li`; false when the step asks nothing. `why` takes the thumbprint. */
function appendStep(li, step, why) {
  if (step.install_any_of?.length) {
    li.append("Install ");
    step.install_any_of.forEach((kb, i) => {
      if (i > 0) li.append(" — or ");
      const [node, info] = updateLink(step, kb);
      li.append(node);
      if (info?.kind) li.append(` (${info.kind.replace(/_/g, " ")}${info.released ? `, ${info.released}` : ""})`);
    });
    if (step.updates?.some((u) => u.kind === "cumulative" || u.kind === "monthly_rollup")) li.append(" — or any later one");
  } else if (step.certificate) {
    li.append(`Install the ${step.certificate}`);
    if (step.thumbprint) why.prepend(`Thumbprint ${step.thumbprint}. `);
  } else if (step.component) {
    const c = step.component;
    // The version as its users know it when the rules give one (`shown`), else the compared one.
    const version = c.shown ?? c.at_least ?? c.above ?? c.exactly;
    li.append(c.exactly ? `Install ${c.name} ${version}`
      : c.above ? `Install or upgrade ${c.name} to a version later than ${version}`
      : `Install or upgrade ${c.name} to ${version} or later`);
  } else if (step.setting) {
    li.append(`Set ${step.setting.name} to ${step.setting.value}`);
  } else if (step.action) {
    li.append(step.action.name);
    for (const href of step.action.links ?? []) li.append(" ", element("a", { href }, "(how)"));
  } else {
    return false;
  }
  return true;
}

function actionItem(finding) {
  const li = element("li");
  const why = element("div", { class: "meta" }, finding.message);
  if (finding.any_of?.length) {
    // Alternatives: any one of them will do.
    li.append("Any one of these:");
    const choices = element("ul", { class: "alternatives" });
    for (const step of finding.any_of) {
      const choice = element("li");
      if (appendStep(choice, step, why)) choices.append(choice);
    }
    li.append(choices);
  } else if (!appendStep(li, finding, why)) {
    li.textContent = finding.message;
    return li;
  }
  li.append(why);
  return li;
}

/** One advisory's verdict; with one advisory chosen its parts carry the page's stable ids. */
function verdictSection(advisory, answer, single) {
  const section = element("section", { class: "verdict", "data-advisory": advisory.id });
  const idAttr = (id) => (single ? { id } : {});
  section.append(element("h3", {}, advisory.meta.advisory.title));
  const badge = element("div", { class: "badge", role: "status", ...idAttr("badge") });
  const summary = element("p", { class: "summary", ...idAttr("summary") });
  section.append(badge, summary);
  if (answer.error) {
    badge.dataset.status = "error";
    badge.textContent = "? Cannot check yet";
    summary.textContent = `${answer.error.message}${answer.error.field ? ` (${answer.error.field})` : ""}.`;
    return section;
  }
  const undecided = answer.status === "unknown" && (answer.undetermined ?? []).length > 0;
  const [icon, word, sentence] = undecided ? UNDECIDED : STATUS[answer.status];
  badge.dataset.status = answer.status;
  if (undecided) badge.dataset.undecided = "true";
  badge.textContent = `${icon} ${word}`;
  summary.textContent = sentence;
  const sets = (f) => !["info", "warning"].includes(f.severity);
  const actions = answer.findings.filter(sets).map(actionItem);
  const notices = answer.findings.filter((f) => !sets(f)).map((f) => element("li", {}, (f.severity === "warning" ? "Warning: " : "") + f.message));
  if (actions.length) section.append(element("h4", {}, "What to do"), element("ol", { class: "actions", ...idAttr("actions") }, ...actions));
  if (notices.length) section.append(element("h4", {}, "Good to know"), element("ul", { class: "notices", ...idAttr("notices") }, ...notices));
  const needed = neededFacts(answer);
  if (needed.length) {
    const items = needed.map(({ fact, collect }) => {
      const schema = union([advisory]).facts.get(fact);
      const li = element("li", { "data-fact": fact }, schema?.description ?? fact);
      if (collect) li.append(element("div", { class: "meta" }, `Where Windows keeps it: ${collect}`));
      return li;
    });
    section.append(element("h4", {}, "Still to find out"), element("ul", { class: "needed", ...idAttr("needed") }, ...items));
  }
  const links = advisory.meta.links ?? [];
  if (links.length) section.append(element("p", { class: "refs" }, "Sources: ", ...links.flatMap((href, i) => [i ? ", " : "", element("a", { href }, href)])));
  return section;
}

/** The facts an answer's undetermined rules need, each once, in the order they are first named. */
function neededFacts(answer) {
  const seen = new Map();
  for (const u of answer.undetermined ?? []) for (const n of u.needs) if (!seen.has(n.fact)) seen.set(n.fact, n);
  return [...seen.values()];
}

/** Highlights the form's questions the answers still need (and only those). */
function highlightNeeded(answers) {
  for (const e of document.querySelectorAll(".needed-fact")) e.classList.remove("needed-fact");
  const { roles } = union(chosen());
  const byRole = Object.fromEntries(Object.entries(roles).map(([role, path]) => [path, role]));
  const controls = { product: "product", product_version: "product-version", os_version: "build", hotfixes: "hotfixes" };
  for (const { fact } of answers.flatMap(neededFacts)) {
    const control = $(controls[byRole[fact]] ?? idOf(fact));
    if (control) {
      control.classList.add("needed-fact");
      document.querySelector(`label[for="${control.id}"]`)?.classList.add("needed-fact");
    }
  }
}

function summaryText() {
  const lines = [$("as-of-used").textContent];
  for (const section of document.querySelectorAll("#verdicts .verdict")) {
    lines.push("", `${section.querySelector("h3").textContent}: ${section.querySelector(".badge").textContent}`, section.querySelector(".summary").textContent);
    for (const li of section.querySelectorAll(".actions li")) lines.push(`- ${li.textContent}`);
    for (const li of section.querySelectorAll(".notices li")) lines.push(`* ${li.textContent}`);
    for (const li of section.querySelectorAll(".needed li")) lines.push(`? ${li.textContent}`);
  }
  return lines.join("\n");
}

async function check(event) {
  event?.preventDefault();
  await ready;
  const facts = factsFromForm();
  const text = JSON.stringify(facts);
  const advisories = chosen();
  const answers = advisories.map((a) => JSON.parse(a.evaluate(text, days(today()))));
  $("result").hidden = false;
  const asOf = $("as-of").value || today();
  $("as-of-used").textContent = `Judged as of ${asOf}${asOf === today() ? " (today)" : ""}.`;
  $("facts-json").textContent = JSON.stringify(facts, null, 2);
  $("verdicts").replaceChildren(...advisories.map((a, i) => verdictSection(a, answers[i], advisories.length === 1)));
  highlightNeeded(answers);
  return answers;
}

function setUp(advisories) {
  all = advisories;
  const chooser = $("advisory");
  chooser.replaceChildren(new Option(advisories.length > 1 ? "All of them" : advisories[0].meta.advisory.title, "*"));
  if (advisories.length > 1) for (const a of advisories) chooser.add(new Option(a.meta.advisory.title, a.id));
  $("advisory-titles").replaceChildren(...advisories.map((a) => element("li", {}, a.meta.advisory.title)));
  chooser.addEventListener("change", () => {
    renderForm();
    $("result").hidden = true;
  });
  renderForm();
}

$("facts-form").addEventListener("submit", check);
$("paste").addEventListener("input", async () => {
  await ready;
  const read = JSON.parse(read_pasted($("paste").value));
  fillForm(read.facts);
  const status = $("paste-status");
  status.replaceChildren();
  if (!$("paste").value.trim()) return;
  status.append(element("p", {}, read.found.length ? `Read: ${read.found.join("; ")}.` : "Nothing recognised yet."));
  if (read.missing.length) status.append(element("p", {}, `Still needed: ${read.missing.join("; ")} — choose below.`));
});
$("as-of").value = today();
$("copy").addEventListener("click", () => navigator.clipboard?.writeText(summaryText()));
$("print").addEventListener("click", () => window.print());

ready.then(() => {
  window.preflight.loadedMs = performance.now() - started;
});
