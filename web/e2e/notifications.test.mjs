// Expiration notification settings (PRODUCT.md §8) on the page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, axe, launch, newPage, signIn, startServer } from './harness.mjs';

let server;
let browser;
before(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('expiration notification settings', () => {
  test('a full user sees the defaults, saves settings, and finds them after a reload', async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, 'dist-2-admin');
    const panel = page.locator('#notification-settings');
    await panel.getByLabel('Days before expiry').waitFor();
    assert.equal(await panel.getByLabel('Days before expiry').inputValue(), '60, 30');
    assert.equal(await panel.getByLabel('E-mail a daily digest of licenses about to expire').isChecked(), false);
    assert.deepEqual(await axe(page), []);

    await panel.getByLabel('E-mail a daily digest of licenses about to expire').check();
    await panel.getByLabel('Recipients').fill('alerts@example.com\nops@example.org');
    await panel.getByLabel('Days before expiry').fill('45, 14, 0');
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.getByText('Last changed').waitFor();
    const saved = await (await api(server.base, 'dist-2-admin'))('GET', '/v1/notification-settings');
    assert.deepEqual({ enabled: saved.enabled, recipients: saved.recipients, thresholdDays: saved.thresholdDays },
      { enabled: true, recipients: ['alerts@example.com', 'ops@example.org'], thresholdDays: [45, 14, 0] });

    await page.reload();
    await panel.getByLabel('Recipients').waitFor();
    assert.equal(await panel.getByLabel('Recipients').inputValue(), 'alerts@example.com\nops@example.org');
    assert.equal(await panel.getByLabel('Days before expiry').inputValue(), '45, 14, 0');
    await page.context().close();
  });

  test('an address the API refuses is shown as a message, and the form keeps what was typed', async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, 'dist-1-admin');
    const panel = page.locator('#notification-settings');
    await panel.getByLabel('Recipients').fill('not an address');
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.locator('.error', { hasText: 'Saving the settings failed' }).waitFor();
    assert.equal(await panel.getByLabel('Recipients').inputValue(), 'not an address');
    await page.context().close();
  });

  test('a read user sees no settings', async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, 'dist-1-viewer');
    assert.equal(await page.locator('#notification-settings').count(), 0);
    await page.context().close();
  });
});
