// The Customer Organizations page in headless Chromium against the real
// local server: what a partner does on it, and what each kind of user sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  api, axe, generateAll, launch, newPage, out, rows, signIn, slicePoint, startServer, xlsxRows,
} from './harness.mjs';

let server;
let browser;
before(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** withPage runs a test on a fresh page and checks it raised no error. */
async function withPage(fn, viewport) {
  const page = await newPage(browser, viewport);
  try {
    await fn(page);
    assert.deepEqual(page.errors, [], 'the page raised errors');
  } finally {
    await page.context().close();
  }
}

describe('Customer Organizations page', () => {
  test("a distributor's report: overview numbers, charts and the first page, at 1280 px and on a tablet", () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    await generateAll(page);
    const call = await api(server.base, 'dist-1-admin');
    const report = await call('POST', '/v1/reports', { all: true });
    const s = report.overview.products;
    const metric = (kind, label) => page.locator(`#summary-${kind} [data-metric="${label}"] .metric-value`).textContent();
    assert.equal(await metric('products', 'Total'), s.total.toLocaleString('en-US'));
    assert.equal(await metric('products', 'Expiring'), s.byStatus.expiring.toLocaleString('en-US'));
    assert.equal(await metric('cloud-services', 'Purchased'), report.overview.cloudServices.byType.purchased.toLocaleString('en-US'));
    assert.equal(await page.locator('.pie svg').count(), 6, 'six pie charts');
    const shown = await rows(page, 'products');
    assert.equal(shown.length, report.products.items.length);
    assert.ok(shown.length <= 100, 'no more rows than a page');
    assert.deepEqual(shown.map((r) => r['License key']), report.products.items.map((r) => r.licenseKey));
    const heads = await page.locator('#list-products thead th').allTextContents();
    assert.deepEqual(heads, ['Pin', 'License key', 'Organization', 'Reseller', 'Product', 'Status', 'Type', 'Start date',
      'Expiration date', 'Deployed', 'Purchased', 'Customer note', 'Partner note', 'Details']);
    const cloudHeads = await page.locator('#list-cloud-services thead th').allTextContents();
    assert.ok(cloudHeads.includes('Scan limit') && cloudHeads.includes('Scans used') && cloudHeads.includes('Reseller'));
    await page.screenshot({ path: path.join(out, 'report-1280.png') });
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(out, 'report-tablet-820.png') });
    // Nothing is wider than the tablet's screen but the table, which scrolls in its box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the tablet`);
  }));

  test('hovering the Expiring slice shows its count and share; clicking it shows only expiring rows', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    await generateAll(page);
    const counts = await page.locator('#summary-products figure').first().locator('.legend-count').allTextContents();
    const values = counts.map((c) => Number(c.replace(/,/g, '')));
    const chart = page.locator('#summary-products .pie').first();
    const point = await slicePoint(chart, values, 1);
    await page.mouse.move(point.x, point.y);
    const share = ((100 * values[1]) / values.reduce((a, b) => a + b, 0)).toFixed(1);
    await page.locator('#summary-products .pie div', { hasText: `${values[1]} licenses · ${share}%` }).waitFor();
    await page.mouse.click(point.x, point.y);
    await page.locator('#list-products .chip', { hasText: 'Status: Expiring' }).waitFor();
    const shown = await rows(page, 'products');
    assert.equal(shown.length, Math.min(values[1], 100));
    assert.deepEqual([...new Set(shown.map((r) => r.Status))], ['Expiring']);
    assert.ok(await page.locator('#list-products-title').evaluate((el) => el === document.activeElement), 'the list has the focus');
    const top = await page.locator('#list-products').evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(top >= -1 && top < 50, `the list is scrolled to (top at ${top})`);
    // A number does the same from the keyboard.
    await page.locator('#summary-products [data-metric="Expired"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('#list-products .chip', { hasText: 'Status: Expired' }).waitFor();
    assert.deepEqual([...new Set((await rows(page, 'products')).map((r) => r.Status))], ['Expired']);
  }));

  test('search and paging are the server’s', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    await generateAll(page);
    await page.locator('#list-products-size').selectOption('25');
    await page.locator('#list-products .list-message', { hasText: 'Rows 1–25' }).waitFor();
    const first = (await rows(page, 'products')).map((r) => r['License key']);
    await page.getByRole('button', { name: 'Next page ›' }).first().click();
    await page.locator('#list-products .list-message', { hasText: 'Rows 26–50' }).waitFor();
    const second = (await rows(page, 'products')).map((r) => r['License key']);
    assert.equal(second.length, 25);
    assert.equal(second.filter((k) => first.includes(k)).length, 0, 'the second page repeats no row of the first');
    const key = second[3];
    await page.locator('#list-products-q').fill(key.slice(4, 13).toLowerCase());
    await page.locator('#list-products .list-message', { hasText: 'Rows 1–1' }).waitFor();
    assert.deepEqual((await rows(page, 'products')).map((r) => r['License key']), [key]);
  }));

  test('a pin moves the row to the top', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    await generateAll(page);
    const before = await rows(page, 'products');
    const key = before[7]['License key'];
    await page.getByRole('button', { name: `Pin ${key}`, exact: true }).click();
    await page.locator('#list-products tbody tr').first().and(page.locator(`tr[data-key="${key}"]`)).waitFor();
    assert.equal(await page.getByRole('button', { name: `Unpin ${key}` }).getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: `Unpin ${key}` }).click();
    await page.getByRole('button', { name: `Pin ${key}`, exact: true }).waitFor();
    assert.deepEqual((await rows(page, 'products')).map((r) => r['License key']), before.map((r) => r['License key']));
  }));

  test('a partner note edit survives a reload', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    await generateAll(page);
    const key = (await rows(page, 'products'))[2]['License key'];
    const text = `Renewal call on ${new Date().toISOString()}\nsecond line`;
    await page.getByRole('button', { name: `Edit the partner note of ${key}` }).click();
    await page.getByLabel(`Partner note of ${key}`).fill(text);
    await page.locator(`tr[data-key="${key}"]`).getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: `Edit the partner note of ${key}` }).waitFor();
    await page.reload();
    await page.locator(`#list-products tr[data-key="${key}"]`).waitFor();
    assert.equal(await page.locator(`tr[data-key="${key}"] .note-text`).textContent(), text);
  }));

  test('a conflicting edit from a second browser shows the conflict and loses nothing', () => withPage(async (first) => {
    const second = await newPage(browser);
    try {
      await signIn(first, server.base, 'dist-1-admin');
      await generateAll(first);
      await signIn(second, server.base, 'dist-1-admin');
      await generateAll(second);
      const key = (await rows(first, 'products'))[3]['License key'];
      for (const p of [first, second]) await p.getByRole('button', { name: `Edit the partner note of ${key}` }).click();
      await first.getByLabel(`Partner note of ${key}`).fill('Written in the first browser');
      await first.locator(`tr[data-key="${key}"]`).getByRole('button', { name: 'Save' }).click();
      await first.getByRole('button', { name: `Edit the partner note of ${key}` }).waitFor();

      await second.getByLabel(`Partner note of ${key}`).fill('Written in the second browser');
      await second.locator(`tr[data-key="${key}"]`).getByRole('button', { name: 'Save' }).click();
      const conflict = second.locator(`tr[data-key="${key}"] .conflict`);
      await conflict.getByText('Someone else changed this note').waitFor();
      assert.equal(await conflict.locator('.current-note').textContent(), 'Written in the first browser');
      assert.equal(await second.getByLabel(`Partner note of ${key}`).inputValue(), 'Written in the second browser', 'the user’s text is kept');
      await second.locator(`tr[data-key="${key}"]`).getByRole('button', { name: 'Save my text anyway' }).click();
      await second.getByRole('button', { name: `Edit the partner note of ${key}` }).waitFor();
      assert.equal(await second.locator(`tr[data-key="${key}"] .note-text`).textContent(), 'Written in the second browser');
      assert.deepEqual(second.errors, []);
    } finally {
      await second.context().close();
    }
  }));

  test('activation and deactivation change deployed/purchased', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-viewer'); // activation needs read access only
    await generateAll(page);
    const row = (await rows(page, 'products')).find((r, i) => i > 10 && r.Status !== 'Expired' && Number(r.Deployed) < Number(r.Purchased));
    assert.ok(row, 'a license with a free instance');
    const key = row['License key'];
    const deployed = Number(row.Deployed);
    await page.getByRole('button', { name: `Details and history of ${key}` }).click();
    const drawer = page.getByRole('dialog', { name: `License ${key}` });
    await drawer.locator('.deployed-count').waitFor();
    await drawer.getByRole('button', { name: 'Activate a deployment' }).click();
    const dialog = page.getByRole('dialog', { name: `Activate ${key}` });
    await dialog.getByLabel('Deployment id').fill('e2e-scanner-01');
    await dialog.getByLabel('Name (optional)').fill('Scanner in the lab');
    await dialog.getByRole('button', { name: 'Activate' }).click();
    await drawer.locator('.deployed-count', { hasText: `${deployed + 1} of ${row.Purchased}` }).waitFor();
    await drawer.locator('.events li', { hasText: 'Activated' }).first().waitFor();
    assert.equal(await page.locator(`tr[data-key="${key}"] [data-col="deployed"]`).textContent(), String(deployed + 1));

    await drawer.getByRole('button', { name: 'Deactivate e2e-scanner-01' }).click();
    await page.getByRole('dialog', { name: 'Deactivate e2e-scanner-01?' }).getByRole('button', { name: 'Deactivate' }).click();
    await drawer.locator('.deployed-count', { hasText: `${deployed} of ${row.Purchased}` }).waitFor();
    await drawer.locator('.events li', { hasText: 'Deactivated' }).first().waitFor();
    assert.equal(await page.locator(`tr[data-key="${key}"] [data-col="deployed"]`).textContent(), String(deployed));
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    assert.ok(await page.getByRole('button', { name: `Details and history of ${key}` }).evaluate((el) => el === document.activeElement),
      'closing the drawer gives the focus back');
  }));

  test('a read user sees no edit, download or settings controls', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-viewer');
    await generateAll(page);
    assert.equal(await page.locator('#who').textContent().then((t) => t.includes('read-only access')), true);
    assert.equal(await page.locator('.edit-note').count(), 0);
    assert.equal(await page.locator('#download-report').count(), 0);
    assert.equal(await page.locator('#notification-settings').count(), 0);
    assert.ok((await page.locator('.partner-note').count()) > 0, 'the notes are shown, read-only');
  }));

  test('the download is an xlsx whose rows match the list', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    const orgs = await (await api(server.base, 'dist-1-admin'))('GET', '/v1/customer-organizations');
    const org = orgs.items.find((o) => o.licenseCount > 10 && o.licenseCount < 90);
    await page.locator(`#org-${org.id}`).check();
    await page.getByRole('button', { name: 'Generate Report' }).click();
    await page.locator('#list-products tbody tr').first().waitFor();
    for (const kind of ['products', 'cloud-services']) {
      await page.locator(`#list-${kind}-expired`).check();
      await page.locator(`#list-${kind}[aria-busy]`).waitFor({ state: 'detached' });
    }
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download Active Deployment Report' }).click();
    const file = path.join(out, 'active-deployment-report.xlsx');
    await (await download).saveAs(file);
    await page.locator('.export-status', { hasText: 'Your download has started' }).waitFor();
    const book = xlsxRows(file);
    for (const [kind, sheet] of [['products', 'Licenses'], ['cloud-services', 'Cloud Services']]) {
      const list = await rows(page, kind);
      const [head, ...data] = book[sheet];
      assert.ok(list.length > 0, `${kind}: rows`);
      assert.deepEqual(data.map((r) => r[head.indexOf('License Key')]), list.map((r) => r['License key']), `${sheet}: the keys, in order`);
      assert.deepEqual(data.map((r) => r[head.indexOf('Organization')]), list.map((r) => r.Organization), `${sheet}: organizations`);
      assert.deepEqual(data.map((r) => r[head.indexOf('Status')].toLowerCase()), list.map((r) => r.Status.toLowerCase()), `${sheet}: statuses`);
      assert.deepEqual(data.map((r) => r[head.indexOf('Reseller')] ?? ''), list.map((r) => (r.Reseller === 'Direct' ? '' : r.Reseller)), `${sheet}: resellers`);
    }
  }));

  test('a reseller sees its customers and no reseller column', () => withPage(async (page) => {
    await signIn(page, server.base, 'res-1-admin');
    await generateAll(page);
    for (const kind of ['products', 'cloud-services']) {
      const heads = await page.locator(`#list-${kind} thead th`).allTextContents();
      assert.ok(!heads.includes('Reseller'), `${kind}: ${heads}`);
      assert.ok(heads.includes('License key'));
    }
    assert.equal(await page.locator('.org-tree .muted', { hasText: 'via' }).count(), 0);
  }));

  test('a user without access is told why; an ended session asks to sign in again', () => withPage(async (page) => {
    await signIn(page, server.base, 'dist-1-admin');
    await page.evaluate(() => {
      const t = JSON.parse(sessionStorage.getItem('portal.devToken'));
      sessionStorage.setItem('portal.devToken', JSON.stringify({ ...t, token: `${t.token}x` }));
    });
    await page.reload();
    await page.getByText('Your session has ended. Please sign in again.').waitFor();
    await page.locator('#signin-user').selectOption('dist-1-none');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Your roles grant no access to customer organizations').waitFor();
  }));

  test('an accessibility scan (axe-core) finds no serious or critical violations', () => withPage(async (page) => {
    await page.goto(`${server.base}/`);
    await page.locator('#signin-user').waitFor();
    assert.deepEqual(await axe(page), [], 'sign-in');
    await signIn(page, server.base, 'dist-1-admin');
    await generateAll(page);
    await page.waitForTimeout(300);
    assert.deepEqual(await axe(page), [], 'report');
    const key = (await rows(page, 'products'))[0]['License key'];
    await page.getByRole('button', { name: `Edit the partner note of ${key}` }).click();
    assert.deepEqual(await axe(page), [], 'note editor');
    await page.getByRole('button', { name: `Details and history of ${key}` }).click();
    await page.getByRole('dialog', { name: `License ${key}` }).locator('.events li').first().waitFor();
    assert.deepEqual(await axe(page), [], 'drawer');
  }));
});
