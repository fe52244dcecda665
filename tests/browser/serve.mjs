// Browser test of `xos serve` in headless Chromium (Debian's chromium, driven
// by playwright-core): the pages as a user sees them, their live updates and
// the /try flow. Run by .ci/run after `cargo build`:
//
//   node tests/browser/serve.mjs [path/to/xos]
//
// Screenshots go to target/browser/; the run fails (exit 1) on any failed
// check, any console error or uncaught page exception.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const xos = resolve(process.argv[2] || join(root, 'target', 'debug', 'xos'));
const shots = join(root, 'target', 'browser');
mkdirSync(shots, { recursive: true });

const served = mkdtempSync(join(tmpdir(), 'xos-browser-'));
cpSync(join(root, 'examples'), served, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'xos-chromium-'));

const failures = [];
function check(condition, what) {
  if (condition) {
    console.log(`ok   ${what}`);
  } else {
    console.log(`FAIL ${what}`);
    failures.push(what);
  }
}

const server = spawn(xos, ['serve', served, '--bind', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolveBase, reject) => {
  const timer = setTimeout(() => reject(new Error('xos serve did not start')), 30000);
  createInterface({ input: server.stdout }).on('line', (line) => {
    const match = line.match(/listening on (http:\/\/[^ ]+?)\/?$/);
    if (match) {
      clearTimeout(timer);
      resolveBase(match[1]);
    }
  });
  server.on('exit', (code) => reject(new Error(`xos serve exited with ${code}`)));
});

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
const problems = [];
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console: ${message.text()}`);
});
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

try {
  // The list.
  await page.goto(`${base}/`);
  const rows = await page.locator('tr.experiment').count();
  // One row per experiment spec among the examples.
  const specs = readdirSync(served, { recursive: true })
    .filter((f) => f.endsWith('.xos'))
    .filter((f) => readFileSync(join(served, f), 'utf8').match(/^\s*(\/\/[^\n]*\n\s*)*experiment\s/));
  check(rows === specs.length && rows >= 5, `/ lists the ${specs.length} example experiments (${rows})`);
  check(await page.locator('tr[data-name="checkout_redesign"] .verdict').innerText() === 'LAUNCH',
    'checkout_redesign shows LAUNCH');
  await page.locator('#live-status.on').waitFor({ timeout: 10000 });
  check(true, 'the live status connects to /api/v1/events');
  await page.screenshot({ path: join(shots, 'index.png'), fullPage: true });

  // Follow an experiment.
  await page.click('a[href="/experiments/checkout_redesign"]');
  await page.waitForSelector('#memo article.memo');
  check((await page.locator('#memo h1').first().innerText()).includes('One-page checkout'), 'the memo shows');
  check(await page.locator('#memo svg').count() > 0, 'the memo has its chart');
  await page.screenshot({ path: join(shots, 'experiment.png'), fullPage: true });

  // Edit the CSV on disk: the page updates in place, without a reload.
  await page.evaluate(() => { window.xosMarker = 'not reloaded'; });
  const csv = join(served, 'checkout', 'checkout.csv');
  // The treatment converts at the control's rate: the verdict becomes HOLD.
  const lines = readFileSync(csv, 'utf8').trim().split('\n').map((l) => l.split(','));
  lines[2][2] = String(Math.floor(Number(lines[1][2]) * Number(lines[2][1]) / Number(lines[1][1])));
  writeFileSync(csv, lines.map((l) => l.join(',')).join('\n') + '\n');
  // Polled from here: the page's CSP (no eval) rules out waitForFunction.
  await page.locator('#memo .verdict', { hasText: 'HOLD' }).first().waitFor({ timeout: 15000 });
  check(await page.evaluate(() => window.xosMarker) === 'not reloaded', 'the memo changed to HOLD without a reload');
  await page.screenshot({ path: join(shots, 'experiment-updated.png'), fullPage: true });

  // /try: upload a CSV, see the inferred spec and the memo.
  const upload = join(served, 'two_arm.csv');
  writeFileSync(upload, 'variant,users,conversions,guardrail_cancel,revenue_sum,revenue_sum_sq\n'
    + 'control,10000,1200,120,250000,15000000\ntreatment,10050,1320,118,280000,17500000\n');
  await page.goto(`${base}/try`);
  await page.setInputFiles('#csv_file', upload);
  await Promise.all([page.waitForNavigation(), page.click('#evaluate')]);
  const spec = await page.inputValue('#spec');
  check(spec.includes('experiment two_arm {') && spec.includes('primary conversion = rate(conversions)'),
    '/try shows the inferred spec');
  check(await page.locator('#memo article.memo').count() === 1, '/try shows the memo');
  check(await page.locator('#download').count() === 1, '/try offers "Download spec"');
  await page.screenshot({ path: join(shots, 'try.png'), fullPage: true });

  // Break the spec while typing: the located diagnostic appears without a
  // submit or a reload.
  await page.evaluate(() => { window.xosMarker = 'typing'; });
  await page.fill('#spec', spec.replace('rate(conversions)', 'rate(conversions'));
  await page.locator('#diagnostics .diagnostic.error').first().waitFor({ timeout: 15000 });
  check(await page.evaluate(() => window.xosMarker) === 'typing', 'the diagnostic came while typing, without a reload');
  check(await page.locator('#memo').count() === 0, 'the broken spec shows no memo');
  const location = await page.locator('#diagnostics .diagnostic.error .location').first().innerText();
  check(/^spec\.xos:\d+:\d+$/.test(location), `the broken spec's diagnostic is located (${location})`);
  check(await page.locator('#spec-lines .has-error').count() >= 1, 'the line of the error is marked');
  await page.screenshot({ path: join(shots, 'try-error.png'), fullPage: true });
  // Fix it again by typing: the memo comes back, still without a reload.
  await page.fill('#spec', spec);
  await page.locator('#memo article.memo').waitFor({ timeout: 15000 });
  check(await page.locator('#diagnostics .diagnostic.error').count() === 0, 'the fixed spec has no error');
  check(await page.evaluate(() => window.xosMarker) === 'typing', 'the memo came back while typing, without a reload');
  // The Evaluate button still works (a submit, for scripts and no-JS users).
  await page.fill('#spec', spec.replace('rate(conversions)', 'rate(conversions'));
  await Promise.all([page.waitForNavigation(), page.click('#evaluate')]);
  check(await page.locator('#spec-lines .has-error').count() >= 1, 'a submitted broken spec marks its line');

  // The calculator and the policies.
  await page.goto(`${base}/plan`);
  check(await page.locator('svg.curve polyline.power').count() === 1, '/plan draws the power curve');
  await page.screenshot({ path: join(shots, 'plan.png'), fullPage: true });
  await page.goto(`${base}/policies`);
  check(await page.locator('text=clear_win').count() > 0, '/policies shows the decision table');
  await page.screenshot({ path: join(shots, 'policies.png'), fullPage: true });
} catch (error) {
  failures.push(String(error && error.stack || error));
  console.log(`FAIL ${error}`);
} finally {
  await context.close();
  server.kill();
  rmSync(served, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}

for (const problem of problems) {
  console.log(`FAIL ${problem}`);
}
const failed = failures.length + problems.length;
console.log(failed ? `browser test: ${failed} failure(s)` : `browser test: all checks passed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
