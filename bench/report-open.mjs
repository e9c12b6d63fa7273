// `node bench/report-open.mjs PAGE.html`: how long a fleet report takes to open in Debian's
// Chromium, from navigation to the host table's first page shown (best of three). Run by
// `preflight-bench report`.
import { chromium } from "../web-demo/node_modules/playwright-core/index.mjs";
import { pathToFileURL } from "node:url";

const page = process.argv[2];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
const times = [];
for (let i = 0; i < 3; i++) {
  const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const start = Date.now();
  await tab.goto(pathToFileURL(page).href, { timeout: 120000 });
  await tab.waitForFunction(() => /of \d+ hosts/.test(document.getElementById("count")?.textContent ?? ""), null, { timeout: 120000 });
  times.push(Date.now() - start);
  // A filter on a million rows, once the page is open.
  const filterStart = Date.now();
  await tab.selectOption("#outcome", { index: 1 });
  const filter = Date.now() - filterStart;
  if (i === 2) console.log(`page in Chromium: opens in ${(Math.min(...times) / 1000).toFixed(2)} s (best of 3; ${times.join(", ")} ms), a filter ${filter} ms`);
  await tab.close();
}
await browser.close();
