// What the end-to-end tests share: the real local server (built from this
// repository, on a free port, with a fixed date so that the demo data is the
// same at every run), Debian's Chromium driven by playwright-core, and a few
// steps every test takes.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
/** out is the gitignored folder of screenshots and downloads. */
export const out = path.resolve(here, '../test-output');
/** today is the date statuses are computed on, for stable demo data. */
export const today = '2026-06-15';
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

mkdirSync(out, { recursive: true });
const bin = path.join(out, 'devserver');
let built = false;

/** startServer runs the local server and resolves its base URL and stop(). */
export async function startServer(args = [], { timeout = 60_000 } = {}) {
  if (!built) {
    execFileSync('go', ['build', '-o', bin, './infra/devserver'], { cwd: repo, stdio: 'inherit' });
    built = true;
  }
  const proc = spawn(bin, ['-addr', '127.0.0.1:0', '-today', today, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local server did not start in ${timeout / 1000} s:\n${log}`)), timeout);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /Partner license portal on (http:\/\/\S+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the local server exited (${code}):\n${log}`)); });
  });
  return {
    base,
    log: () => log,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', resolve);
      proc.kill('SIGTERM');
    }),
  };
}

/** launch starts headless Chromium with a fresh profile. */
export function launch() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}

/** newPage opens a page in a fresh context and fails the test on page errors. */
export async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

/** signIn signs in through the page's user picker. */
export async function signIn(page, base, user) {
  await page.goto(`${base}/`);
  await page.locator('#signin-user').selectOption(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#org-all').waitFor();
}

/** generateAll selects every customer organization and generates the report. */
export async function generateAll(page) {
  await page.locator('#org-all').check();
  await page.getByRole('button', { name: 'Generate Report' }).click();
  await page.locator('#list-products tbody tr').first().waitFor();
}

/** rows returns the shown rows of a list as objects by column header. */
export function rows(page, kind) {
  return page.locator(`#list-${kind} table.licenses`).evaluate((table) => {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    return [...table.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries(
      [...tr.children].map((td, i) => [heads[i], td.textContent.trim()])));
  });
}

/** api calls the API directly as a user, to check what the page shows. */
export async function api(base, user) {
  const res = await fetch(`${base}/dev/token`, { method: 'POST', body: JSON.stringify({ sub: user }) });
  const { token } = await res.json();
  return async (method, p, body) => {
    const r = await fetch(base + p, { method, headers: { Authorization: `Bearer ${token}` }, body: body && JSON.stringify(body) });
    return r.status === 204 ? null : r.json();
  };
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe runs axe-core on the page and returns its serious and critical violations. */
export async function axe(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
}

/** xlsxRows reads a workbook with excelize: {sheet: [[cell...]...]}. */
export function xlsxRows(file) {
  return JSON.parse(execFileSync('go', ['run', './web/e2e/xlsxrows', file], { cwd: repo, encoding: 'utf8' }));
}

/**
 * slicePoint returns the page coordinates inside slice `index` of a pie chart
 * drawn by charts.js (start at 12 o'clock, clockwise, radius 35–90%).
 */
export async function slicePoint(chart, values, index) {
  const box = await chart.boundingBox();
  const total = values.reduce((a, b) => a + b, 0);
  const before = values.slice(0, index).reduce((a, b) => a + b, 0);
  const angle = (2 * Math.PI * (before + values[index] / 2)) / total;
  const r = 0.62 * (Math.min(box.width, box.height) / 2);
  return { x: box.x + box.width / 2 + r * Math.sin(angle), y: box.y + box.height / 2 - r * Math.cos(angle) };
}
