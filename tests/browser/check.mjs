// The book in a real browser: Debian's headless Chromium, driven by Playwright.
// Run by `cargo xtask browser` (crates/xtask/src/browser.rs), which builds the book,
// serves it on 127.0.0.1 and passes the base URL and the pages of SUMMARY.md:
//
//   node check.mjs <chromium> <base-url> <page.html>...
//
// Checks, each failure printed as one line naming the page:
// - every page loads without a console error, an uncaught exception, a failed
//   request or an HTTP error;
// - at a 1400x900 viewport no code block, figure (`pre`) or table is wider than the
//   content column (`main`), and the column itself does not scroll sideways;
// - every collapsed solution block (`details.solution`) is closed on load with its
//   code hidden, and the first one opens on a click and shows its code;
// - search finds "pivot_root" and a result links to chapter 3's pivot_root page;
// - print.html prints to a PDF of about as many pages as its printed height holds.
//
// Playwright rather than a Rust WebDriver client (fantoccini, thirtyfour): console
// messages, failed requests and PDF printing come from the Chrome DevTools Protocol,
// which Playwright exposes directly (WebDriver has no console log or PDF of its own in
// chromedriver without vendor extensions), and playwright-core is one npm package with
// no dependencies to install, where a Rust client adds minutes of compiling on two cores.
// `playwright-core` has no browser download: it drives the Chromium given to it.

import { chromium } from 'playwright-core';

const [executablePath, base, ...pages] = process.argv.slice(2);
if (!executablePath || !base || pages.length === 0) {
  console.error('usage: node check.mjs <chromium> <base-url> <page.html>...');
  process.exit(2);
}

const problems = [];
const passed = [];
const problem = (line) => problems.push(line);

// The part of a line shown in a report: the first non-empty line, cut at 60 characters.
const firstLine = (text) => {
  const line = (text || '').split('\n').map((l) => l.trim()).find((l) => l.length > 0) || '';
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
};

const browser = await chromium.launch({ executablePath });
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });

// Opens `path` in a fresh tab and records what went wrong while it loaded.
async function open(path, { noPrintDialog = false } = {}) {
  const page = await context.newPage();
  // mdBook's print page calls window.print() on load; in headless Chromium that
  // "print" holds the page, and printing it to PDF fails with "already being printed".
  if (noPrintDialog) await page.addInitScript(() => { window.print = () => {}; });
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console error: ${firstLine(msg.text())}`);
  });
  page.on('pageerror', (err) => errors.push(`uncaught exception: ${firstLine(err.message)}`));
  page.on('requestfailed', (req) =>
    errors.push(`request failed: ${req.url().replace(base, '')} (${req.failure()?.errorText})`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()}: ${res.url().replace(base, '')}`);
  });
  const response = await page.goto(base + path, { waitUntil: 'load' });
  if (!response || !response.ok()) errors.push(`HTTP ${response ? response.status() : 'no response'}`);
  // Fonts and late scripts (the search index is fetched on demand) settle.
  await page.waitForLoadState('networkidle');
  return { page, errors };
}

// What a page shows wider than its content column, one line per element.
function tooWide() {
  const main = document.querySelector('main');
  if (!main) return ['no <main> element'];
  const column = main.getBoundingClientRect();
  const found = [];
  const first = (text) => {
    const line = (text || '').split('\n').map((l) => l.trim()).find((l) => l.length > 0) || '';
    return line.length > 60 ? `${line.slice(0, 60)}…` : line;
  };
  const hidden = (el) => !el.checkVisibility();
  for (const pre of main.querySelectorAll('pre')) {
    if (hidden(pre)) continue;
    const code = pre.querySelector('code') || pre;
    const scrolls = code.scrollWidth > code.clientWidth + 1 || pre.scrollWidth > pre.clientWidth + 1;
    const right = pre.getBoundingClientRect().right;
    if (scrolls || right > column.right + 1) {
      const wide = Math.max(code.scrollWidth, pre.scrollWidth);
      found.push(`code block ${wide}px wide in a ${Math.round(column.width)}px column: "${first(pre.textContent)}"`);
    }
  }
  for (const table of main.querySelectorAll('table')) {
    if (hidden(table)) continue;
    const box = table.getBoundingClientRect();
    const wrapper = table.parentElement;
    const scrolls = wrapper && wrapper !== main && wrapper.scrollWidth > wrapper.clientWidth + 1;
    if (box.right > column.right + 1 || scrolls) {
      found.push(`table ${Math.round(box.width)}px wide in a ${Math.round(column.width)}px column: "${first(table.rows[0]?.textContent)}"`);
    }
  }
  for (const figure of main.querySelectorAll('img, svg')) {
    if (hidden(figure) || figure.closest('pre, table, summary')) continue;
    const box = figure.getBoundingClientRect();
    if (box.right > column.right + 1) found.push(`image ${Math.round(box.width)}px wide: ${figure.getAttribute('src') || 'inline svg'}`);
  }
  if (main.scrollWidth > main.clientWidth + 1) found.push(`the column scrolls sideways: ${main.scrollWidth}px of ${main.clientWidth}px`);
  return found;
}

// Solution blocks that are open on load or show their code.
function openSolutions() {
  const found = [];
  for (const details of document.querySelectorAll('details.solution')) {
    const code = details.querySelector('pre');
    if (details.open) found.push(`a solution block is open on load: "${details.textContent.trim().slice(0, 60)}"`);
    else if (code && code.checkVisibility()) found.push(`a closed solution block shows its code: "${code.textContent.trim().slice(0, 60)}"`);
  }
  return found;
}

// 1-3: every page loads cleanly, fits its column, keeps its solutions closed.
let firstSolution = null;
let solutions = 0;
const found = { load: 0, wide: 0, open: 0 };
for (const path of pages) {
  const { page, errors } = await open(path);
  const wide = await page.evaluate(tooWide);
  const opened = await page.evaluate(openSolutions);
  for (const e of errors) problem(`${path}: ${e}`);
  for (const w of wide) problem(`${path}: at 1400x900, ${w}`);
  for (const s of opened) problem(`${path}: ${s}`);
  found.load += errors.length;
  found.wide += wide.length;
  found.open += opened.length;
  const here = await page.locator('details.solution').count();
  solutions += here;
  if (here > 0 && firstSolution === null) firstSolution = path;
  await page.close();
}
if (found.load === 0) passed.push(`${pages.length} pages loaded without console errors or failed requests`);
if (found.wide === 0) passed.push('no code block, figure or table wider than the column at 1400x900');
if (found.open === 0) passed.push(`${solutions} solution blocks closed on load, their code hidden`);

// A closed solution opens on a click and shows its code.
if (firstSolution === null) {
  problem('no page has a solution block (details.solution): is the answers preprocessor running?');
} else {
  const { page } = await open(firstSolution);
  const details = page.locator('details.solution').first();
  const code = details.locator('pre').first();
  if (await code.isVisible()) problem(`${firstSolution}: the first solution's code is visible before a click`);
  await details.locator('summary').click();
  if (!(await details.evaluate((d) => d.open))) problem(`${firstSolution}: a click on "Solution" does not open it`);
  else if (!(await code.isVisible())) problem(`${firstSolution}: the opened solution does not show its code`);
  else passed.push(`the first solution block (${firstSolution}) opens on a click and shows its code`);
  await page.close();
}

// 4: search. Typed as a reader types, into the box the search button opens.
{
  const term = 'pivot_root';
  const want = '03-rootfs/pivot-root.html';
  const { page, errors } = await open(pages[0]);
  await page.locator('#mdbook-search-toggle').click();
  await page.locator('#mdbook-searchbar').pressSequentially(term, { delay: 20 });
  const links = page.locator('#mdbook-searchresults a');
  try {
    await links.first().waitFor({ timeout: 10000 });
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    if (hrefs.some((h) => h.includes(want))) passed.push(`search finds "${term}": ${hrefs.length} results, one on ${want}`);
    else problem(`search for "${term}": ${hrefs.length} results, none on ${want}: ${hrefs.slice(0, 5).join(' ')}`);
  } catch {
    problem(`search for "${term}" shows no results`);
  }
  for (const e of errors) problem(`${pages[0]} (searching): ${e}`);
  await page.close();
}

// 5: print.html to PDF, without mdBook's own window.print() call. Expected pages: the printed height of the page at A4's
// printable width, over A4's printable height, plus one page per page break; the PDF
// may hold fewer (a break falls where a page ends anyway) or more (figures kept whole
// move to the next page), but not half or twice as many.
{
  const { page, errors } = await open('print.html', { noPrintDialog: true });
  for (const e of errors) problem(`print.html: ${e}`);
  await page.emulateMedia({ media: 'print' });
  const margin = 0.4; // inches, each side (Playwright's default is none)
  const width = (8.27 - 2 * margin) * 96;
  const height = (11.69 - 2 * margin) * 96;
  await page.setViewportSize({ width: Math.round(width), height: Math.round(height) });
  const { tall, breaks } = await page.evaluate(() => ({
    tall: document.documentElement.scrollHeight,
    breaks: [...document.querySelectorAll('div')].filter((d) => d.style.breakBefore === 'page').length,
  }));
  const expected = Math.ceil(tall / height) + breaks;
  const pdf = await page.pdf({ format: 'A4', margin: { top: `${margin}in`, bottom: `${margin}in`, left: `${margin}in`, right: `${margin}in` } });
  const printed = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  const kib = Math.round(pdf.length / 1024);
  if (printed === 0 || pdf.length < 10000) problem(`print.html: the PDF is empty (${pdf.length} bytes, ${printed} pages)`);
  else if (printed < expected / 2 || printed > expected * 2) problem(`print.html: the PDF has ${printed} pages, expected about ${expected}`);
  else passed.push(`print.html prints to a ${kib} KiB PDF of ${printed} A4 pages (about ${expected} expected)`);
  await page.close();
}

await browser.close();
for (const line of passed) console.log(`ok: ${line}`);
if (problems.length > 0) {
  console.log(`\n${problems.length} problem(s) in the browser:`);
  for (const line of problems) console.log(`  ${line}`);
  process.exit(1);
}
