// Measures the page with the large distributor (demo.Large: 2,000 customer
// organizations, 100,000 licenses): how long the report takes to show its
// overview and first pages, the longest task that blocked the tab, and how
// many rows are in the document. `make bench-web` runs it; the local server
// uses dynalite, as minidyn loads 100,000 licenses too slowly.
//
//   node e2e/large.mjs <dynamodb endpoint>
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launch, newPage, out, repo, signIn, startServer, today } from './harness.mjs';

const endpoint = process.argv[2];
if (!endpoint) throw new Error('usage: node e2e/large.mjs <dynamodb endpoint>');
const data = path.join(out, 'large.json');
execFileSync('go', ['run', './infra/gendata', '-size', 'large', '-today', today, '-o', data], { cwd: repo, stdio: 'inherit' });

let t = Date.now();
const server = await startServer(['-dynamodb-endpoint', endpoint, '-table', 'large', '-data', data], { timeout: 30 * 60_000 });
console.log(`loaded the large data set in ${((Date.now() - t) / 1000).toFixed(0)} s`);
const browser = await launch();
try {
  const page = await newPage(browser);
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
      .observe({ type: 'longtask', buffered: true });
  });
  t = Date.now();
  await signIn(page, server.base, 'dist-1-admin');
  const orgs = await page.locator('.org-tree input[type=checkbox]').count();
  const signedIn = Date.now() - t;
  await page.evaluate(() => { window.longTasks.length = 0; });
  await page.locator('#org-all').check();
  t = Date.now();
  await page.getByRole('button', { name: 'Generate Report' }).click();
  await page.locator('#list-cloud-services tbody tr').first().waitFor({ timeout: 120_000 });
  await page.locator('.pie svg').nth(5).waitFor();
  const report = Date.now() - t;
  const reportTasks = await page.evaluate(() => window.longTasks.splice(0));
  t = Date.now();
  await page.locator('#summary-products [data-metric="Expiring"]').click();
  await page.locator('#list-products .chip', { hasText: 'Status: Expiring' }).waitFor();
  const filter = Date.now() - t;
  const rows = await page.locator('table.licenses tbody tr').count();
  const total = await page.locator('#summary-products [data-metric="Total"] .metric-value').textContent();
  const all = [...reportTasks, ...(await page.evaluate(() => window.longTasks))];
  console.log(`| sign in and list ${orgs} organizations | ${signedIn} ms |`);
  console.log(`| Generate Report over ${total} products: overview, 6 charts, first pages | ${report} ms |`);
  console.log(`| click Expiring: the filtered first page | ${filter} ms |`);
  console.log(`| longest task blocking the tab | ${Math.round(Math.max(0, ...all))} ms (${all.length} over 50 ms) |`);
  console.log(`| rows in the document | ${rows} |`);
  if (page.errors.length) throw new Error(`page errors: ${page.errors.join('; ')}`);
} finally {
  await browser.close();
  await server.stop();
}
