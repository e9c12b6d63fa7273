// The fleet report (`preflight report`) in Debian's Chromium, opened from a file as a mail
// attachment would be: its numbers are `batch --summary json`'s, the host table filters and
// exports CSV, nothing is loaded from anywhere else. Needs target/debug/preflight built.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "target", "debug", "preflight");
const artifacts = join(root, "tests", "artifacts");
const work = join(root, "target", "web");
const inventory = join(root, "examples", "inventory", "devices.facts.jsonl");
// The inventory's hosts, each at a site, and one host whose Secure Boot facts are all collected
// (its finding asks for an action, not an update or a certificate).
const facts = join(work, "fleet.facts.jsonl");
const secureBootHost = {
  host: { name: "SB-0001" }, product: { id: "apex_one", version: "14.0.12345" }, hotfixes: [], esu: false,
  os: { platform: "windows", version: "10.0.26100.4946", product_type: "workstation", edition: "enterprise" },
  firmware: { uefi: true }, secure_boot: { enabled: true }, kek: { kek_2k_ca_2023: true },
  db: { windows_uefi_ca_2023: true, microsoft_uefi_ca_2023: true, option_rom_uefi_ca_2023: true, microsoft_uefi_ca_2011: true },
  servicing: { status: "InProgress", available_updates: 256, error: null, windows_uefi_ca_2023_capable: 1 },
};

let browser, summary, verdicts, earlier, page, data, total, requests = [], errors = [];

/** The section of the advisory with this id (headed by its title). */
const sectionOf = (p, id) => p.locator("section[data-advisory]", { has: p.locator(".about code", { hasText: id }) });

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(work, { recursive: true });
  const lines = readFileSync(inventory, "utf8").trim().split("\n").map((l) => JSON.parse(l)).concat([secureBootHost]);
  lines.forEach((h, i) => { h.host.site = i % 2 ? "lyon" : "paris"; });
  writeFileSync(facts, lines.map((h) => JSON.stringify(h)).join("\n") + "\n");
  total = lines.length;
  const answers = join(work, "inventory-answers.jsonl");
  const batch = spawnSync(cli, ["batch", "--as-of", "2026-11-25", "--summary", "json", facts, "-o", answers]);
  assert.equal(batch.status, 0, batch.stderr.toString());
  summary = JSON.parse(batch.stderr.toString().split("\n")[0]);
  verdicts = readFileSync(join(work, "inventory-answers.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  // An earlier run (judged as of 2021-06-01, before most updates were out), as its report.
  const earlierAnswers = join(work, "inventory-answers-2021.jsonl"), earlierPage = join(work, "fleet-2021.html");
  execFileSync(cli, ["batch", "--as-of", "2021-06-01", facts, "-o", earlierAnswers], { stdio: "ignore" });
  execFileSync(cli, ["report", earlierAnswers, "--facts", facts, "-o", earlierPage], { stdio: "ignore" });
  earlier = readFileSync(earlierAnswers, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const html = join(work, "fleet.html");
  execFileSync(cli, ["report", answers, "--facts", facts, "--previous", earlierPage, "--group-by", "host.site", "-o", html], { stdio: "ignore" });
  data = JSON.parse(readFileSync(html, "utf8").match(/id="fleet-data">(.*?)<\/script>/s)[1]);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(html).href);
});

after(async () => { await browser?.close(); });

test("the bars say batch's numbers, and the page loads nothing else", async () => {
  for (const [id, each] of Object.entries(summary.advisories)) {
    const section = sectionOf(page, id);
    assert.equal(await section.locator("h2").textContent(), data.titles[data.advisories.indexOf(id)]);
    const labels = await section.locator(".bar").evaluateAll((bars) =>
      bars.map((b) => [b.querySelector(".label").textContent, b.querySelector(".n").textContent]));
    const shown = Object.fromEntries(labels.map(([label, n]) => [label, Number(n.match(/^(\d+) \(/)[1])]));
    assert.deepEqual(shown, each.outcomes, id);
  }
  assert.deepEqual(errors, []);
  assert.ok(requests.every((u) => u.startsWith("file:")), requests.join("\n"));
  // The first screen at 1280 px (the README's picture), and the whole page.
  await page.screenshot({ path: join(artifacts, "report.png") });
  await page.screenshot({ path: join(artifacts, "report-full.png"), fullPage: true });
});

test("the host table filters and exports what it shows as CSV", async () => {
  const ready = summary.advisories.acs_2023.outcomes.action_required;
  await page.selectOption("#advisory", { value: String(data.advisories.indexOf("acs_2023")) });
  await page.selectOption("#outcome", { label: "action_required" });
  assert.equal(await page.textContent("#count"), `${ready} of ${total} hosts`);
  assert.equal(await page.locator("#hosts tbody tr").count(), ready);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  const csv = readFileSync(await download.path()).toString().trim().split("\n");
  assert.equal(csv[0], "host,Windows version,host.site,outcome,steps");
  assert.equal(csv.length, ready + 1);
  assert.ok(csv.slice(1).every((line) => line.includes(",action_required,")), csv.join("\n"));
  // Versions are named as the rules name them.
  assert.ok(csv.slice(1).every((line) => /,Windows [^,]+,(paris|lyon),/.test(line)), csv.join("\n"));
  await page.selectOption("#outcome", { label: "any" });
  await page.fill("#search", "srv");
  assert.equal(await page.textContent("#count"), `2 of ${total} hosts`);
  await page.fill("#search", "");
});

test("hosts are counted by Windows version and by group, as a recount from the answers", async () => {
  const lines = readFileSync(facts, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const outcome = (v) => v.error ? `error:${v.error.code}` : v.status === "unknown" && v.undetermined?.some((u) => u.needs?.length) ? "undetermined" : v.status;
  for (const id of Object.keys(summary.advisories)) {
    const section = sectionOf(page, id);
    const expected = new Map();
    lines.forEach((h, i) => {
      const key = `${h.host.site}|${outcome(verdicts[i][id])}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    });
    const table = section.locator("table.by").nth(1);
    const shown = await table.evaluate((t) => {
      const heads = [...t.tHead.rows[0].cells].map((c) => c.textContent);
      return [...t.tBodies[0].rows].flatMap((r) => heads.slice(2, -1).map((o, k) => [`${r.cells[0].textContent}|${o}`, Number(r.cells[k + 2].textContent)]));
    });
    assert.deepEqual(new Map(shown.filter(([, n]) => n > 0)), expected, id);
    // The version table names declared versions.
    const versions = await section.locator("table.by").first().locator("tbody tr td:first-child").allTextContents();
    assert.ok(versions.includes("Windows 10 21H2"), versions.join(", "));
  }
  await page.selectOption("#group", { label: "lyon" });
  assert.equal(await page.textContent("#count"), `${lines.filter((h) => h.host.site === "lyon").length} of ${total} hosts`);
  await page.selectOption("#group", { label: "any" });
});

/** A step of a finding in the report's words (as `report` names them). */
function stepName(f) {
  if (f.install_any_of?.length) return `install ${f.install_any_of.join(" or ")}`;
  for (const kind of ["certificate", "component", "setting", "action"]) {
    const v = f[kind];
    if (typeof v === "string") return `${kind}: ${v}`;
    if (v?.name) return `${kind}: ${v.name}`;
  }
  return null;
}

test("'Do this first' ranks every step of every advisory as a recount from the answers does", async () => {
  const rank = { unsupported: 5, limited: 4, action_required: 3, undetermined: 2, unknown: 1 };
  const counts = new Map();
  for (const answer of verdicts) {
    for (const [advisory, verdict] of Object.entries(answer)) {
      if (!verdict.status) continue;
      const status = verdict.status === "unknown" && verdict.undetermined?.some((u) => u.needs?.length) ? "undetermined" : verdict.status;
      const steps = new Set();
      let allHaveSteps = (rank[status] ?? 0) >= 3;
      for (const f of verdict.findings) {
        const holdsBack = f.severity !== "info" && f.severity !== "warning";
        const step = f.any_of?.length ? f.any_of.map(stepName).filter(Boolean).join(" or ") : stepName(f);
        if (step && holdsBack) steps.add(step);
        else if (!step && holdsBack) allHaveSteps = false;
      }
      for (const step of steps) {
        // The table names the advisory by its title.
        const key = `${data.titles[data.advisories.indexOf(advisory)]}|${step}`;
        const c = counts.get(key) ?? { alone: 0, needed: 0, worst: 0 };
        c.needed++; c.worst = Math.max(c.worst, rank[status] ?? 0);
        if (allHaveSteps && steps.size === 1) c.alone++;
        counts.set(key, c);
      }
    }
  }
  const names = ["", "unknown", "undetermined", "action_required", "limited", "unsupported"];
  const expected = [...counts].map(([key, c]) => [...key.split("|"), names[c.worst], String(c.alone), String(c.needed)])
    .sort((x, y) => (Number(y[4]) - Number(x[4])) || 0);
  const rows = await page.locator("#first table tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(new Set(rows.map((r) => r.join("|"))), new Set(expected.map((r) => r.join("|"))));
  assert.ok(rows.length >= 3, rows.join("\n"));
  // Ranked: worst outcome first, then hosts made ready, then hosts that need it.
  for (let i = 1; i < rows.length; i++) {
    const key = (r) => [names.indexOf(r[2]), Number(r[3]), Number(r[4])];
    const [a, b] = [key(rows[i - 1]), key(rows[i])];
    assert.ok(a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] >= b[2]))), `${rows[i - 1]} before ${rows[i]}`);
  }
});

test("a certificate step and an action step list their hosts, and every step is a filter", async () => {
  for (const kind of ["certificate:", "action:"]) {
    const link = page.locator("#first a.step", { hasText: kind }).first();
    const [title, step] = [await link.locator("xpath=../..").locator("td").first().textContent(), await link.textContent()];
    const advisory = data.advisories[data.titles.indexOf(title)];
    const needed = Number(await link.locator("xpath=../..").locator("td").nth(4).textContent());
    await link.click();
    assert.equal(await page.textContent("#count"), `${needed} of ${total} hosts`);
    const shown = await page.locator("#hosts tbody tr td:nth-child(5)").allTextContents();
    assert.ok(shown.length === needed && shown.every((s) => s.split("; ").includes(step)), shown.join("\n"));
    const expected = verdicts.filter((a) => a[advisory]?.findings?.some((f) => stepName(f) === step)).length;
    assert.ok(needed > 0);
    assert.equal(needed, expected);
  }
  const options = await page.locator("#step option").allTextContents();
  assert.ok(options.some((o) => o.startsWith("install KB")) && options.some((o) => o.startsWith("certificate:")), options.join(", "));
  await page.selectOption("#step", { label: "any" });
});

test("what changed since the earlier run is a recount of the two runs' answers", async () => {
  const names = readFileSync(facts, "utf8").trim().split("\n").map((l) => JSON.parse(l).host.name);
  for (const advisory of Object.keys(summary.advisories)) {
    const outcome = (v) => v.status === "unknown" && v.undetermined?.some((u) => u.needs?.length) ? "undetermined" : v.status;
    const moved = new Map();
    names.forEach((_, i) => {
      const [then, now] = [outcome(earlier[i][advisory]), outcome(verdicts[i][advisory])];
      if (then !== now) moved.set(`${then}|${now}`, (moved.get(`${then}|${now}`) ?? 0) + 1);
    });
    const section = sectionOf(page, advisory);
    assert.match(await section.locator("h3", { hasText: "Since" }).textContent(), /Since fleet-2021\.html/);
    const rows = await section.locator("table.moved tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(new Map(rows.map(([a, b, n]) => [`${a}|${b}`, Number(n)])), moved, advisory);
    // One stacked bar per run: the earlier one, then this one.
    assert.equal(await section.locator(".runs .run").count(), 2);
  }
  assert.ok([...page.url()].length > 0);
});

test("a host's own view shows every finding of every advisory and the facts it was judged on", async () => {
  const lines = readFileSync(facts, "utf8").trim().split("\n");
  // The host with the most findings and undetermined rules, across advisories.
  const size = (answer) => Object.values(answer).reduce((n, v) => n + (v.findings?.length ?? 0) + (v.undetermined?.length ?? 0) + (v.error ? 1 : 0), 0);
  const i = verdicts.map(size).reduce((best, n, k, all) => (n > all[best] ? k : best), 0);
  const name = JSON.parse(lines[i]).host.name;
  await page.selectOption("#advisory", { index: 0 });
  await page.fill("#search", name);
  await page.click(`#hosts tbody a[href="#host=${encodeURIComponent(name)}"]`);
  await page.waitForSelector("#host-detail:not([hidden])");
  assert.equal(await page.textContent("#host-name"), name);
  assert.equal(await page.locator("#host-body .finding").count(), size(verdicts[i]));
  const text = await page.textContent("#host-body");
  for (const verdict of Object.values(verdicts[i])) {
    for (const f of verdict.findings ?? []) assert.ok(text.includes(f.message), f.message);
    for (const f of verdict.findings ?? []) for (const kb of f.install_any_of ?? []) assert.ok(text.includes(kb), kb);
  }
  assert.ok((await page.textContent("#host-detail pre")).includes(name));
  // Deep links work on their own.
  const other = await browser.newPage();
  await other.goto(page.url().replace(/#.*$/, "") + "#host=" + encodeURIComponent(name));
  assert.equal(await other.textContent("#host-name"), name);
  await other.close();
  await page.fill("#search", "");
  await page.evaluate(() => { location.hash = ""; });
});

test("on a phone the page fits its width and still filters", async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(page.url());
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  // Labels stay readable and counts are never cut; the hosts are cards.
  const bars = await phone.locator(".bar").evaluateAll((els) => els.map((b) => ({
    size: parseFloat(getComputedStyle(b.querySelector(".label")).fontSize),
    right: b.querySelector(".n").getBoundingClientRect().right,
  })));
  assert.ok(bars.length > 0 && bars.every((b) => b.size >= 12 && b.right <= 390), JSON.stringify(bars));
  await phone.selectOption("#outcome", { label: "ready" });
  assert.match(await phone.textContent("#count"), new RegExp(`^\\d+ of ${total} hosts$`));
  assert.equal(await phone.locator("#hosts thead").evaluate((t) => getComputedStyle(t).display), "none");
  assert.ok(!(await phone.locator("#outcome option").allTextContents()).includes(""), "no blank outcome");
  await phone.screenshot({ path: join(artifacts, "report-phone.png"), fullPage: true });
  await phone.locator(".about").first().scrollIntoViewIfNeeded();
  await phone.screenshot({ path: join(artifacts, "report-phone-section.png") });
  await phone.close();
});

// Host names that hit every trigger of the HTML tokenizer inside a script element (`</script>`,
// `<!--` with `<script>` into the double-escaped state, `-->`, `]]>`), line separators, NUL, and
// CSV formula and row-forging characters: the page still shows every host, and the export
// neutralises formulas and quotes line ends.
test("hostile host names stay data in the page and in its CSV", async () => {
  const names = ["<!--<script>", "</script><img src=x onerror=alert(1)>", "-->", "]]>", "a\u2028b\u2029c",
    "nul\u0000x", "=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "lone\rCR", "a&amp;b"];
  const lines = names.map((name) => JSON.stringify({ host: { name }, os: { version: "10.0.19044.1466", product_type: "workstation" } }));
  const factsFile = join(work, "hostile.facts.jsonl");
  const answersFile = join(work, "hostile.answers.jsonl");
  const htmlFile = join(work, "hostile.html");
  writeFileSync(factsFile, lines.join("\n") + "\n");
  const batch = spawnSync(cli, ["batch", "--as-of", "2026-11-25", factsFile, "-o", answersFile]);
  assert.equal(batch.status, 0, batch.stderr.toString());
  execFileSync(cli, ["report", answersFile, "--facts", factsFile, "-o", htmlFile], { stdio: "ignore" });
  const hostile = await browser.newPage({ acceptDownloads: true });
  const pageErrors = [];
  hostile.on("pageerror", (e) => pageErrors.push(e.message));
  hostile.on("dialog", (d) => { pageErrors.push("dialog: " + d.message()); d.dismiss(); });
  await hostile.goto(pathToFileURL(htmlFile).href);
  assert.equal(await hostile.textContent("#count"), `${names.length} of ${names.length} hosts`);
  assert.equal(await hostile.locator("#hosts tbody tr").count(), names.length);
  assert.equal(await hostile.locator("img").count(), 0);
  const shown = await hostile.locator("#hosts tbody tr td:first-child").allTextContents();
  assert.deepEqual(shown, names);
  const [download] = await Promise.all([hostile.waitForEvent("download"), hostile.click("#export")]);
  const csv = readFileSync(await download.path()).toString();
  const rows = parseCsv(csv);
  assert.equal(rows.length, names.length + 1, csv);
  for (const [i, name] of names.entries()) {
    const cell = rows[i + 1][0];
    const expected = /^[=+\-@\t\r]/.test(name) ? "'" + name : name;
    assert.equal(cell, expected);
    assert.ok(!/^[=+\-@\t\r]/.test(cell), cell);
  }
  assert.deepEqual(pageErrors, []);
  await hostile.close();
});

// RFC 4180: quoted cells may hold separators, quotes (doubled) and line ends.
function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
