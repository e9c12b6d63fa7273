// The fleet report (`preflight report`) in Debian's Chromium, opened from a file as a mail
// attachment would be: its numbers are `batch --summary json`'s, the host table filters and
// exports CSV, nothing is loaded from anywhere else. Needs target/debug/preflight built.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "target", "debug", "preflight");
const artifacts = join(root, "tests", "artifacts");
const work = join(root, "target", "web");
const facts = join(root, "examples", "inventory", "devices.facts.jsonl");

let browser, summary, page, requests = [], errors = [];

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(work, { recursive: true });
  const answers = join(work, "inventory-answers.jsonl");
  const batch = spawnSync(cli, ["batch", "--as-of", "2026-11-25", "--summary", "json", facts, "-o", answers]);
  assert.equal(batch.status, 0, batch.stderr.toString());
  summary = JSON.parse(batch.stderr.toString().split("\n")[0]);
  const html = join(work, "fleet.html");
  execFileSync(cli, ["report", answers, "--facts", facts, "-o", html], { stdio: "ignore" });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1000, height: 1400 } });
  page = await context.newPage();
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(html).href);
});

after(async () => { await browser?.close(); });

test("the bars say batch's numbers, and the page loads nothing else", async () => {
  for (const [id, each] of Object.entries(summary.advisories)) {
    const section = page.locator("section", { has: page.locator("h2", { hasText: id }) });
    const labels = await section.locator("svg g").allTextContents();
    const shown = Object.fromEntries(labels.map((t) => {
      const m = t.match(/^(\S+?)(\d+) \(/);
      return [m[1], Number(m[2])];
    }));
    assert.deepEqual(shown, each.outcomes, id);
  }
  assert.deepEqual(errors, []);
  assert.ok(requests.every((u) => u.startsWith("file:")), requests.join("\n"));
  await page.screenshot({ path: join(artifacts, "report.png"), fullPage: true });
});

test("the host table filters and exports what it shows as CSV", async () => {
  const ready = summary.advisories.acs_2023.outcomes.action_required;
  await page.selectOption("#advisory", { label: "acs_2023" });
  await page.selectOption("#outcome", { label: "action_required" });
  assert.equal(await page.textContent("#count"), `${ready} of 6 hosts`);
  assert.equal(await page.locator("#hosts tbody tr").count(), ready);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  const csv = readFileSync(await download.path()).toString().trim().split("\n");
  assert.equal(csv[0], "host,build,outcome,missing updates");
  assert.equal(csv.length, ready + 1);
  assert.ok(csv.slice(1).every((line) => line.includes(",action_required,")), csv.join("\n"));
  await page.selectOption("#outcome", { label: "any" });
  await page.fill("#search", "srv");
  assert.equal(await page.textContent("#count"), "2 of 6 hosts");
});

test("on a phone the page fits its width and still filters", async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(page.url());
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await phone.selectOption("#outcome", { label: "ready" });
  assert.match(await phone.textContent("#count"), /^\d+ of 6 hosts$/);
  await phone.screenshot({ path: join(artifacts, "report-phone.png"), fullPage: true });
  await phone.close();
});
