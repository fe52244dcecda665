// Browser test of the HTML memo in headless Chromium (Debian's chromium,
// driven by playwright-core): the memo of every example as a reader sees it
// on screen and on paper. Run by .ci/run after `cargo build`:
//
//   node tests/browser/memo.mjs [path/to/xos]
//
// It fails (exit 1) when a number cell or a badge wraps onto a second line
// (at a desktop and a narrow window width, and in the print layout), when the
// checkout memo prints to more than one A4 or Letter page, or when the page
// logs an error. The PDFs and screenshots go to target/browser/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const xos = resolve(process.argv[2] || join(root, 'target', 'debug', 'xos'));
const out = join(root, 'target', 'browser');
mkdirSync(out, { recursive: true });

const failures = [];
function check(condition, what) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) failures.push(what);
}

// One HTML memo per example, written by `xos run` itself.
const memos = mkdtempSync(join(tmpdir(), 'xos-memos-'));
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const pages = [];
for (const name of examples) {
  const dir = join(root, 'examples', name);
  const spec = readdirSync(dir).find((file) => file.endsWith('.xos'));
  if (!spec) continue;
  const file = join(memos, `${name}.html`);
  execFileSync(xos, ['run', join(dir, spec), '--format', 'html', '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  pages.push({ name, file });
}
check(pages.some((p) => p.name === 'checkout'), `memos of ${pages.length} examples rendered, checkout among them`);

const profile = mkdtempSync(join(tmpdir(), 'xos-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
const problems = [];
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(message.text());
});
page.on('pageerror', (error) => problems.push(String(error)));

// The number cells and badges whose text takes more than one line: a Range
// over the element's contents has one client rect per line fragment, so more
// than one distinct line top means the text wrapped.
async function wrapped() {
  return page.evaluate(() => {
    const lines = (element) => {
      const range = document.createRange();
      range.selectNodeContents(element);
      const tops = new Set();
      for (const rect of range.getClientRects()) {
        if (rect.width > 0 && rect.height > 0) tops.add(Math.round(rect.top));
      }
      return tops.size;
    };
    return [...document.querySelectorAll('td.num, .badge, .verdict')]
      .filter((element) => lines(element) > 1)
      .map((element) => element.textContent.trim());
  });
}

// Pages of a PDF: Chromium writes one `/Type /Page` dictionary per page.
function pageCount(pdf) {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g) || []).length;
}

for (const { name, file } of pages) {
  await page.goto(`file://${file}`);
  for (const width of [1280, 760]) {
    await page.setViewportSize({ width, height: 900 });
    const cells = await wrapped();
    check(cells.length === 0, `${name}: no number or badge wraps at ${width}px${cells.length ? ` (${cells.join(' | ')})` : ''}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(out, `memo-${name}.png`), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  // The printable width of an A4 page at 96 px per inch, less the margins.
  await page.setViewportSize({ width: 720, height: 1000 });
  await page.screenshot({ path: join(out, `memo-${name}-print.png`), fullPage: true });
  const printed = await wrapped();
  check(printed.length === 0, `${name}: no number or badge wraps in print${printed.length ? ` (${printed.join(' | ')})` : ''}`);
  for (const format of ['A4', 'Letter']) {
    const pdf = await page.pdf({ format, printBackground: true });
    writeFileSync(join(out, `memo-${name}-${format}.pdf`), pdf);
    const count = pageCount(pdf);
    if (name === 'checkout') {
      check(count === 1, `checkout memo prints to one ${format} page (got ${count})`);
    } else {
      check(count >= 1 && count <= 2, `${name}: memo prints to at most two ${format} pages (got ${count})`);
    }
  }
  await page.emulateMedia({ media: 'screen' });
}

check(problems.length === 0, `no console errors or page exceptions${problems.length ? `: ${problems.join('; ')}` : ''}`);
await context.close();
rmSync(profile, { recursive: true, force: true });
rmSync(memos, { recursive: true, force: true });
if (failures.length) {
  console.log(`\n${failures.length} memo browser check(s) failed`);
  process.exit(1);
}
console.log('\nall memo browser checks passed');
