// browser.mjs drives pbisync's estate UI in headless Chromium (Debian's, through
// playwright-core) as a person would: search, open a node, expand its graph, run an impact
// query and download its CSV, open the refresh view. It checks what each step shows
// against the API the UI reads, saves screenshots when asked, and on a large estate
// measures search and layout. Usage:
//   node browser.mjs --sample URL [--large URL --hub KEY] [--screenshots DIR]
// It prints one JSON object with its figures and exits 1 on the first failed check.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const figures = {};

function check(ok, what) {
  if (!ok) {
    console.error("FAIL: " + what);
    process.exitCode = 1;
    throw new Error(what);
  }
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page.on("pageerror", (e) => check(false, "page error: " + e.message));
  const base = args.sample;
  const shot = async (name) => { if (args.screenshots) await page.screenshot({ path: join(args.screenshots, name + ".png"), fullPage: false }); };
  const api = async (path) => (await page.request.get(base + "/api/" + path)).json();

  // Home: the counts the API reports.
  await page.goto(base + "/#/");
  await page.waitForSelector('body[data-ready="/"]');
  const est = await api("estate");
  for (const [type, n] of Object.entries(est.counts)) {
    const text = await page.textContent(`[data-testid="count-${type}"] b`);
    check(Number(text) === n, `home shows ${text} ${type}, the API ${n}`);
  }
  await shot("home");

  // Search as you type: the suggestions are the API's hits.
  await page.fill('[data-testid="search"]', "sales model");
  await page.waitForSelector('[data-testid="hit"]');
  const hits = await page.$$eval('[data-testid="hit"]', (els) => els.map((e) => e.textContent));
  check(hits[0].includes("Sales Model"), "first suggestion for 'sales model' is " + hits[0]);
  await shot("search");
  await page.click('[data-testid="hit"] >> nth=0');

  // The node's page and its graph.
  await page.waitForSelector('body[data-ready="/node"]');
  check((await page.textContent('[data-testid="node-name"]')) === "Sales Model", "node page title");
  await page.waitForFunction(() => window.__pbisync && window.__pbisync.nodes > 0);
  const drawn = await page.evaluate(() => window.__pbisync);
  const sg = await api("graph?limit=200&up=2&down=2&key=" + encodeURIComponent("semantic_model/Sales_Model"));
  check(drawn.nodes === sg.nodes.length, `graph draws ${drawn.nodes} nodes, the API has ${sg.nodes.length}`);
  check(await page.isVisible('[data-testid="columns"]') && await page.isVisible('[data-testid="measures"]'), "columns and measures shown");
  await shot("node");

  // Expand on double-click: a node's hidden neighbours join the graph.
  const before = await page.evaluate(() => window.__cy.nodes().length);
  const target = await page.evaluate(() => {
    const n = window.__cy.nodes().filter((n) => /\+\d+\)$/.test(n.data("label")))[0];
    if (!n) return null;
    const p = n.renderedPosition(), box = window.__cy.container().getBoundingClientRect();
    return { id: n.id(), x: box.left + p.x, y: box.top + p.y };
  });
  check(target, "a node with hidden neighbours to expand");
  await page.mouse.dblclick(target.x, target.y);
  await page.waitForFunction((n) => window.__cy.nodes().length > n, before);
  const after = await page.evaluate(() => window.__cy.nodes().length);
  const around = await api("graph?limit=60&up=1&down=1&key=" + encodeURIComponent(target.id));
  const want = new Set([...sg.nodes, ...around.nodes].map((n) => n.key.join("/")));
  check(after >= want.size, `after expanding ${target.id}: ${after} nodes, want at least ${want.size}`);
  await page.mouse.click(target.x, target.y);
  await page.waitForSelector('[data-testid="selected-link"]');
  await shot("graph-expanded");

  // Impact from the node page, and its CSV.
  await page.click('[data-testid="impact-link"]');
  await page.waitForSelector('[data-testid="impact-count"]');
  const res = await api("impact?name=" + encodeURIComponent("semantic_model/Sales_Model"));
  const count = Number(await page.textContent('[data-testid="impact-count"]'));
  check(count === res.impacted.length && count > 0, `impact shows ${count}, the API ${res.impacted.length}`);
  check((await page.$$('[data-testid="impact-row"]')).length === count, "one row per impacted asset");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="impact-csv"]')]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  check(csv[0].startsWith("depth,type,name,key"), "CSV header: " + csv[0]);
  check(csv.length === count + 1, `CSV has ${csv.length - 1} rows, want ${count}`);
  for (const im of res.impacted) check(csv.some((l) => l.includes(im.key.join("/"))), "CSV lists " + im.key.join("/"));
  await shot("impact");

  // A column-level impact query typed into the form.
  await page.fill('[data-testid="impact-names"]', "SALES_DB.PUBLIC.ORDERS.Amount");
  await page.click('[data-testid="impact-run"]');
  await page.waitForFunction(() => location.hash.includes("Amount") && document.querySelector('[data-testid="impact-count"]'));
  check((await page.textContent('[data-testid="impact-out"]')).includes("Orders.Amount"), "column impact names the model column");

  // Refreshes, failures with the service's message.
  await page.click('[data-testid="nav-refreshes"]');
  await page.waitForSelector('body[data-ready="/refreshes"]');
  const rf = await api("refreshes?limit=200");
  const failed = rf.refreshes.filter((r) => r.state === "failed");
  for (const f of failed) check((await page.textContent("main")).includes(f.error), "refresh view shows the failure: " + f.error);
  await shot("refreshes");

  if (args.large) {
    // Search: the round trip the page pays for each keystroke, on the large estate.
    const lp = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await lp.goto(args.large + "/#/");
    await lp.waitForSelector('body[data-ready="/"]');
    figures.search = await lp.evaluate(async () => {
      const out = [];
      for (const q of ["sales", "finance 0421", "model 7", "orders", "zzz-nothing", "report", "dash"]) {
        const t0 = performance.now();
        const r = await (await fetch("/api/search?limit=12&q=" + encodeURIComponent(q))).json();
        out.push({ q, ms: +(performance.now() - t0).toFixed(1), serverMs: r.micros / 1000, hits: r.hits.length });
      }
      return out;
    });
    // Layout of a 200-node neighbourhood.
    await lp.goto(args.large + "/#/node?key=" + encodeURIComponent(args.hub));
    await lp.waitForSelector('body[data-ready="/node"]');
    // The answer to the first change (up 6, down still 2) is held back so that it arrives
    // after the second one's: the page must keep drawing the newest neighbourhood.
    await lp.route(/\/api\/graph\?.*up=6&down=2&/, async (route) => {
      await new Promise((done) => setTimeout(done, 1500));
      await route.continue();
    });
    const answered = await lp.evaluate(() => window.__pbisyncGraphAnswers || 0);
    await lp.selectOption("#up", "6");
    await lp.selectOption("#down", "6");
    // Once both answers are in, the graph drawn must still be the newest one.
    await lp.waitForFunction((n) => window.__pbisyncGraphAnswers >= n + 2, answered);
    figures.layout = await lp.evaluate(() => window.__pbisync);
    if (args.screenshots) await lp.screenshot({ path: join(args.screenshots, "large-graph.png") });
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(figures));
