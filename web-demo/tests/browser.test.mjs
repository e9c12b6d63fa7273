// Browser tests of both pages in Debian's Chromium (playwright-core, no downloaded browser).
// Needs: web-demo/build.sh run, target/debug/preflight built, and two files the test command
// writes: target/web/corpus.jsonl (the differential corpus) and target/web/expected.jsonl (the
// native module's answers to it, `preflight batch --raw --module`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const demo = join(here, "..");
const root = join(demo, "..");
const examples = join(root, "tests", "data", "examples");
const artifacts = join(root, "tests", "artifacts");
const cli = join(root, "target", "debug", "preflight");

let server, base, browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  // The documented server: `preflight serve` (already built by the test command: --no-build).
  server = spawn(cli, ["serve", "--no-build", "--port", "0", "--dir", demo], { stdio: ["ignore", "ignore", "pipe"] });
  base = await new Promise((ok, fail) => {
    let seen = "";
    server.stderr.on("data", (chunk) => {
      seen += chunk;
      const match = seen.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (match) ok(match[0]);
    });
    server.on("exit", (code) => fail(new Error(`preflight serve exited with ${code}: ${seen}`)));
  });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--disable-sync"] });
});

after(async () => { await browser?.close(); server?.kill(); });

async function open(path) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/${path}`);
  return { page, errors };
}

/** A native module's answer (wasmtime, through the CLI) to facts given as JSON text. */
function native(factsText, module = "acs-2023") {
  try {
    return JSON.parse(execFileSync(cli, ["eval", "--module", join(demo, "modules", `${module}.wasm`), "-"], { input: factsText }).toString());
  } catch (e) {
    return JSON.parse(e.stdout.toString()); // exit 2: an input error, still an answer
  }
}

/** Opens the self-check page with one advisory chosen (or all of them). */
async function openSelfCheck(advisory = "acs_2023") {
  const opened = await open("index.html");
  await opened.page.evaluate(() => window.preflight.ready);
  await opened.page.selectOption("#advisory", advisory);
  return opened;
}

test("the self-check page gives each shared example the native module's verdict", async () => {
  const { page, errors } = await openSelfCheck();
  const files = readdirSync(examples).filter((f) => f.endsWith(".facts.json")).sort();
  assert.ok(files.length >= 11);
  for (const file of files) {
    const raw = readFileSync(join(examples, file), "utf8");
    const expect = JSON.parse(readFileSync(join(examples, file.replace(".facts.", ".expect.")), "utf8"));
    // The raw facts, through the page's module, equal the native module's answer.
    const inPage = JSON.parse(await page.evaluate((t) => window.preflight.evaluate(t, "acs_2023"), raw));
    assert.deepEqual(inPage, native(raw), file);
    if (expect.error) { assert.ok(inPage.error, file); continue; }
    // The same host through the page as a customer uses it: paste the facts, press Check.
    await page.fill("#paste", raw);
    await page.click("#check");
    const badge = await page.getAttribute("#badge", "data-status");
    const used = await page.textContent("#facts-json");
    assert.equal(badge, native(used).status, `${file}: page and native module disagree on the form's facts`);
    assert.equal(badge, expect.status, file);
    await page.fill("#paste", "");
    await page.reload();
    await page.evaluate(() => window.preflight.ready);
    await page.selectOption("#advisory", "acs_2023");
  }
  assert.deepEqual(errors, []);
});

test("pasted command output fills the form", async () => {
  const { page, errors } = await openSelfCheck("*");
  const samples = {
    ver: ["Microsoft Windows [Version 10.0.19044.1466]", { build: "10.0.19044", revision: "1466" }],
    systeminfo: ["OS Name:                   Microsoft Windows Server 2019 Standard\nOS Version:                10.0.17763 N/A Build 17763\nOS Configuration:          Member Server\nHotfix(s):                 2 Hotfix(s) Installed.\n                           [01]: KB5005625\n                           [02]: KB4589208", { build: "10.0.17763", hotfixes: "KB5005625 KB4589208", role: "server" }],
    "Get-HotFix": ["Source        Description      HotFixID      InstalledBy          InstalledOn\n------        -----------      --------      -----------          -----------\nPC1           Update           KB5008212     NT AUTHORITY\\SYSTEM  12/15/2021", { hotfixes: "KB5008212" }],
    "wmic qfe": ["Caption                                     CSName  Description  HotFixID\nhttp://support.microsoft.com/?kbid=5006743  OLD-W7  Update       KB5006743", { hotfixes: "KB5006743" }],
  };
  for (const [name, [text, want]] of Object.entries(samples)) {
    await page.fill("#hotfixes", "");
    await page.fill("#paste", text);
    await page.waitForFunction(() => document.getElementById("paste-status").textContent.length > 0);
    if (want.build) assert.equal(await page.inputValue("#build"), want.build, name);
    if (want.revision) assert.equal(await page.inputValue("#revision"), want.revision, name);
    if (want.hotfixes) assert.equal(await page.inputValue("#hotfixes"), want.hotfixes, name);
    if (want.role) assert.equal(await page.isChecked(`input[name=role][value=${want.role}]`), true, name);
    assert.match(await page.textContent("#paste-status"), /Read:/, name);
  }
  // The form alone: Windows 8.1 without its rollup needs it.
  await page.reload();
  await page.evaluate(() => window.preflight.ready);
  await page.selectOption("#advisory", "acs_2023");
  await page.selectOption("#product", "apex_one");
  await page.fill("#product-version", "2019");
  await page.selectOption("#windows", "6.3.9600|workstation");
  await page.click("#check");
  assert.equal(await page.getAttribute("#badge", "data-status"), "action_required");
  assert.match(await page.textContent("#actions"), /KB5006714.*or.*KB5006729/s);
  assert.equal(await page.getAttribute("#actions a", "href"), "https://support.microsoft.com/help/5006714");
  await page.screenshot({ path: join(artifacts, "selfcheck.png"), fullPage: true });
  assert.deepEqual(errors, []);
});

test("a date in pasted facts is the date the page judges by, and the customer can change it", async () => {
  const { page, errors } = await openSelfCheck();
  const win7 = { product: { id: "apex_one", version: "2019" }, os: { version: "6.1.7601", product_type: "workstation" } };
  await page.fill("#paste", JSON.stringify({ ...win7, as_of: "2022-12-01" }));
  await page.click("#check");
  assert.equal(await page.inputValue("#as-of"), "2022-12-01");
  assert.match(await page.textContent("#as-of-used"), /Judged as of 2022-12-01/);
  assert.equal(await page.getAttribute("#badge", "data-status"), native(JSON.stringify({ ...win7, as_of: "2022-12-01" })).status);
  assert.equal(await page.getAttribute("#badge", "data-status"), "limited");
  await page.fill("#as-of", "2023-03-01");
  await page.click("#check");
  assert.equal(await page.getAttribute("#badge", "data-status"), "unsupported");
  assert.deepEqual(errors, []);
});

// One build can be a workstation's and a server's (10.0.26100: Windows 11 24H2 and Windows
// Server 2025): the Windows list follows the pasted role.
test("the Windows list matches a pasted build and its role", async () => {
  const { page, errors } = await openSelfCheck("*");
  const shown = async () => page.$eval("#windows", (s) => s.options[s.selectedIndex].textContent);
  await page.fill("#paste", JSON.stringify({ os: { version: "10.0.26100.4946", product_type: "workstation" } }));
  await page.waitForFunction(() => document.getElementById("build").value === "10.0.26100");
  assert.match(await shown(), /^Windows 11 /);
  await page.fill("#paste", JSON.stringify({ os: { version: "10.0.26100.4946", product_type: "server" } }));
  await page.waitForFunction(() => document.querySelector("input[name=role][value=server]")?.checked);
  assert.match(await shown(), /^Windows Server /);
  assert.deepEqual(errors, []);
});

// A host the collector found no product on has none: "None of these" answers `not_affected`, as
// `"product": null` does natively. A host that leaves out facts an answer depends on is told
// which: the page highlights exactly those questions and says where Windows keeps each.
test("the page offers no product, and asks for exactly the facts an answer needs", async () => {
  let { page, errors } = await openSelfCheck("acs_2023");
  await page.selectOption("#product", "null");
  await page.selectOption("#windows", "6.3.9600|workstation");
  await page.click("#check");
  const used = await page.textContent("#facts-json");
  assert.equal(JSON.parse(used).product.id, null);
  assert.equal(await page.getAttribute("#badge", "data-status"), native(used).status);
  assert.equal(await page.getAttribute("#badge", "data-status"), "not_affected");
  assert.deepEqual(errors, []);

  ({ page, errors } = await openSelfCheck("secureboot_2026"));
  const facts = JSON.stringify({ os: { version: "10.0.26100.4946", product_type: "workstation" }, as_of: "2026-03-01" });
  await page.fill("#paste", facts);
  await page.click("#check");
  const answer = native(await page.textContent("#facts-json"), "secureboot-2026");
  assert.equal(answer.status, "unknown");
  assert.equal(await page.getAttribute("#badge", "data-status"), "unknown");
  assert.equal(await page.getAttribute("#badge", "data-undecided"), "true");
  const needed = new Set(answer.undetermined.flatMap((u) => u.needs.map((n) => n.fact)));
  const listed = await page.$$eval("#needed li", (items) => items.map((li) => li.dataset.fact));
  assert.deepEqual(new Set(listed), needed);
  const highlighted = await page.$$eval("select.needed-fact, input.needed-fact, textarea.needed-fact", (es) => es.map((e) => e.id));
  assert.ok(highlighted.includes("fact-secure_boot-enabled"), highlighted.join(", "));
  assert.ok(!highlighted.includes("build"), "a fact the host sent is not asked again");
  // Answering the question decides the rules that waited for it.
  await page.selectOption("#fact-secure_boot-enabled", "false");
  await page.click("#check");
  assert.equal(await page.getAttribute("#badge", "data-status"), "not_affected");
  assert.equal(await page.$$eval("#needed li", (items) => items.length), 0);
  assert.deepEqual(errors, []);
});

test("the page and the native module agree on the whole differential corpus", async () => {
  const corpus = readFileSync(join(root, "target", "web", "corpus.jsonl"), "utf8").split("\n").filter((l, i, a) => i < a.length - 1 || l);
  const expected = readFileSync(join(root, "target", "web", "expected.jsonl"), "utf8").split("\n").filter(Boolean);
  assert.equal(corpus.length, expected.length);
  assert.ok(corpus.length >= 50000, `${corpus.length} hosts`);
  const { page } = await open("index.html");
  await page.evaluate(() => window.preflight.ready);
  const answers = await page.evaluate(async (lines) => {
    const acs = (await window.preflight.ready).find((a) => a.id === "acs_2023");
    return lines.map((l) => acs.evaluate(l));
  }, corpus);
  const differ = answers.map((a, i) => (a === expected[i] ? -1 : i)).filter((i) => i >= 0);
  assert.deepEqual(differ.slice(0, 5).map((i) => ({ host: corpus[i], page: answers[i], native: expected[i] })), []);
});

test("a host pasted once gets every advisory's verdict, each the native module's", async () => {
  const { page, errors } = await openSelfCheck("*");
  const host = {
    product: { id: "apex_one", version: "2019" },
    os: { version: "10.0.19045.6575", product_type: "workstation" },
    esu: true,
    secure_boot: { enabled: true },
    kek: { kek_2k_ca_2023: true },
    db: { windows_uefi_ca_2023: true, microsoft_uefi_ca_2023: false, option_rom_uefi_ca_2023: false },
    servicing: { status: "NotStarted", available_updates: null },
    as_of: "2026-03-01",
  };
  await page.fill("#paste", JSON.stringify(host));
  await page.click("#check");
  const shown = await page.$$eval("#verdicts .verdict", (sections) =>
    sections.map((s) => [s.dataset.advisory, s.querySelector(".badge").dataset.status]));
  const used = await page.textContent("#facts-json");
  assert.deepEqual(shown, [
    ["acs_2023", native(used, "acs-2023").status],
    ["secureboot_2026", native(used, "secureboot-2026").status],
  ]);
  assert.deepEqual(shown.map(([, s]) => s), ["ready", "action_required"]);
  const actions = await page.textContent('[data-advisory="secureboot_2026"] .actions');
  assert.match(actions, /Install the Microsoft UEFI CA 2023/);
  assert.match(actions, /Set AvailableUpdates/);
  await page.screenshot({ path: join(artifacts, "selfcheck-all.png"), fullPage: true });
  assert.deepEqual(errors, []);
});

test("the form offers exactly what the rules declare, and follows a changed rules file", async () => {
  const listed = async (page) => ({
    products: await page.$$eval("#product option", (os) => os.map((o) => o.value).filter((v) => v && v !== "null")),
    windows: await page.$$eval("#windows option", (os) => os.map((o) => o.textContent)),
  });
  let { page, errors } = await openSelfCheck("acs_2023");
  const meta = JSON.parse(execFileSync(cli, ["inspect", join(demo, "modules", "acs-2023.wasm")]).toString());
  const { products, windows } = await listed(page);
  assert.deepEqual(products, meta.products.map((p) => p.id));
  for (const os of meta.oses) assert.ok(windows.some((w) => w.startsWith(os.name)), os.name);
  assert.deepEqual(errors, []);
  // A copy of the rules with a product renamed, compiled and served in place of the real module.
  const dir = join(root, "target", "web");
  const renamed = readFileSync(join(root, "rules", "acs-2023.preflight"), "utf8")
    .replace('name "Trend Micro Deep Security Agent"', 'name "Renamed Agent"');
  const copy = join(dir, "renamed.preflight");
  writeFileSync(copy, renamed);
  execFileSync(cli, ["compile", copy, "-o", join(dir, "renamed.wasm")]);
  ({ page, errors } = await open("index.html"));
  await page.route("**/modules/acs-2023.wasm", (route) =>
    route.fulfill({ body: readFileSync(join(dir, "renamed.wasm")), contentType: "application/wasm" }));
  await page.reload();
  await page.evaluate(() => window.preflight.ready);
  await page.selectOption("#advisory", "acs_2023");
  const names = await page.$$eval("#product option", (os) => os.map((o) => o.textContent));
  assert.ok(names.includes("Renamed Agent"), names.join(", "));
  assert.ok(!names.includes("Trend Micro Deep Security Agent"));
  assert.deepEqual(errors, []);
});

test("the playground shows diagnostics for a broken file and passing tests for the real one", async () => {
  const { page, errors } = await open("playground.html");
  await page.evaluate(() => window.playground.ready);
  await page.click("#run-tests");
  assert.match(await page.textContent("#test-summary"), /^\d+ passed, 0 failed$/);
  assert.match(await page.textContent("#diag-count"), /clean/);
  const source = await page.evaluate(() => window.playground.source());
  const answer = await page.evaluate((t) => window.playground.setSource(t), source.replace("require KB5011487", "require KB5011478"));
  assert.equal(answer.diagnostics[0].code, "P0100");
  assert.match(await page.textContent("#diagnostics"), /unknown update `KB5011478`/);
  assert.match(await page.textContent("#rendered"), /did you mean `KB5011487`\?/);
  // Clicking the diagnostic shows its span, which the editor underlines (CodeMirror's lint decoration).
  await page.click("#diagnostics li button");
  await page.waitForSelector(".cm-lintRange-error");
  assert.equal(await page.textContent(".cm-lintRange-error"), "KB5011478");
  await page.screenshot({ path: join(artifacts, "playground.png") });
  assert.deepEqual(errors, []);
});

/** The playground with `text` in its editor and the cursor at `at` (or at the end). */
async function editing(text, at = text.length) {
  const opened = await open("playground.html");
  const { page } = opened;
  await page.evaluate(() => window.playground.ready);
  await page.evaluate(([t, at]) => {
    window.playground.setSource(t);
    window.playground.view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    window.playground.view.focus();
  }, [text, at]);
  return opened;
}

test("the playground's editor colours the text as the parser reads it", async () => {
  const { page, errors } = await open("playground.html");
  await page.evaluate(() => window.playground.ready);
  await page.waitForSelector(".cm-pf-keyword");
  // A rule further down (the editor draws only what is in view).
  await page.evaluate(() => {
    const at = window.playground.source().indexOf("require KB5011487");
    window.playground.view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
  });
  await page.waitForSelector(".cm-pf-kb");
  const kbs = await page.$$eval(".cm-pf-kb", (els) => els.slice(0, 5).map((e) => e.textContent));
  assert.ok(kbs.length > 0 && kbs.every((k) => /^KB\d+$/.test(k)), kbs.join(", "));
  // A name in a condition, coloured by what it names (an OS version of the shared file).
  const oses = await page.$$eval(".cm-pf-name-os", (els) => els.map((e) => e.textContent));
  assert.ok(oses.includes("win10_21h2"), oses.slice(0, 10).join(", "));
  assert.deepEqual(errors, []);
});

test("the playground completes updates for the rule's OS first, with their titles, and inserts the choice", async () => {
  const acs = readFileSync(join(root, "rules", "acs-2023.preflight"), "utf8");
  const text = `${acs}\nrule r {\n  cite "x"\n  when host.os == win10_21h2\n  require `;
  const { page, errors } = await editing(text);
  await page.keyboard.press("Control+Space");
  await page.waitForSelector(".cm-tooltip-autocomplete li");
  await page.screenshot({ path: join(artifacts, "playground-completion-list.png") });
  const shown = await page.$$eval(".cm-tooltip-autocomplete li", (lis) => lis.map((li) => li.textContent));
  // The ranking the language intelligence gives (preflight-ide), in the same order.
  const expected = await page.evaluate((t) => JSON.parse(window.playground.complete(t, t.length)), text);
  const preferred = expected.items.filter((i) => i.preferred).map((i) => i.label);
  assert.ok(preferred.includes("KB5011487"), preferred.join(", "));
  assert.ok(shown[0].startsWith(preferred[0]), `${shown[0]} first, expected ${preferred[0]}`);
  const ours = shown.find((s) => s.startsWith("KB5011487"));
  assert.match(ours, /19044\.1586/, "the update's title beside it");
  // Narrow by typing, then accept.
  await page.keyboard.type("KB50114");
  await page.waitForFunction(() => document.querySelector(".cm-tooltip-autocomplete li")?.textContent.startsWith("KB5011487"));
  await page.screenshot({ path: join(artifacts, "playground-completion.png") });
  await page.keyboard.press("Enter");
  assert.ok((await page.evaluate(() => window.playground.source())).endsWith("require KB5011487"));
  assert.deepEqual(errors, []);
});

test("the playground's hover shows a name's declaration from the shared file, and its quick fix repairs a misspelt update", async () => {
  const acs = readFileSync(join(root, "rules", "acs-2023.preflight"), "utf8");
  const broken = acs.replace("require KB5011487", "require KB5011478");
  const { page, errors } = await editing(broken, 0);
  // Hover the OS version in `host.os == win10_21h2`.
  const at = broken.indexOf("host.os == win10_21h2") + "host.os == ".length + 3;
  const box = await page.evaluate((at) => {
    const view = window.playground.view;
    view.dispatch({ effects: [], selection: { anchor: at }, scrollIntoView: true });
    const c = view.coordsAtPos(at);
    return c && { x: c.left + 1, y: (c.top + c.bottom) / 2 };
  }, at);
  assert.ok(box, "the position is on screen");
  await page.mouse.move(box.x, box.y);
  await page.waitForSelector(".cm-tooltip-hover .cm-pf-hover", { timeout: 5000 });
  const hover = await page.textContent(".cm-tooltip-hover");
  assert.match(hover, /os win10_21h2/);
  assert.match(hover, /Windows 10 21H2/);
  await page.screenshot({ path: join(artifacts, "playground-hover.png") });
  // The fix: Ctrl-. on the diagnostic applies it.
  const wrong = broken.indexOf("KB5011478") + 2;
  await page.evaluate((at) => window.playground.view.dispatch({ selection: { anchor: at }, scrollIntoView: true }), wrong);
  await page.waitForSelector(".cm-lintRange-error");
  await page.keyboard.press("Control+.");
  assert.equal(await page.evaluate(() => window.playground.source()), acs);
  await page.waitForFunction(() => /clean/.test(document.querySelector("#diag-count").textContent));
  // The panel's fix button does the same.
  await page.evaluate((t) => window.playground.setSource(t), broken);
  await page.click("#diagnostics .fix");
  assert.equal(await page.evaluate(() => window.playground.source()), acs);
  assert.deepEqual(errors, []);
});

test("the playground checks and tests the Secure Boot advisory and the SHA-2 test advisory", async () => {
  const { page, errors } = await open("playground.html");
  await page.evaluate(() => window.playground.ready);
  for (const file of [["rules", "secureboot-2026.preflight"], ["tests", "data", "advisories", "sha2-2019.preflight"]]) {
    const text = readFileSync(join(root, ...file), "utf8");
    const answer = await page.evaluate((t) => window.playground.setSource(t), text);
    assert.deepEqual(answer.diagnostics, [], file.join("/"));
    await page.click("#run-tests");
    const expected = (text.match(/^test "/gm) || []).length;
    assert.ok(expected > 10);
    assert.equal(await page.textContent("#test-summary"), `${expected} passed, 0 failed`, file.join("/"));
  }
  assert.deepEqual(errors, []);
});
