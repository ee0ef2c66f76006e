// Expiration notification settings (PRODUCT.md §8), for full users. The
// panel stays hidden where the API has no such endpoint yet (404 not_found).
import { announce, h, replace, when } from './dom.js';
import { ApiError, describe } from './errors.js';

export function settingsPanel(api, onError) {
  const panel = h('section', { class: 'card settings', id: 'notification-settings', hidden: true, 'aria-labelledby': 'settings-title' });
  load();
  return panel;

  async function load() {
    let s;
    try {
      s = await api.notificationSettings();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'not_found') return; // not offered by this API
      panel.hidden = false;
      replace(panel, h('h2', { id: 'settings-title' }, 'Expiration e-mails'), h('p', { class: 'error' }, describe(err, 'Loading the settings').title));
      return;
    }
    render(s);
  }

  function render(s) {
    panel.hidden = false;
    const enabled = h('input', { type: 'checkbox', id: 'settings-enabled', checked: s.enabled });
    const recipients = h('textarea', { id: 'settings-recipients', rows: 3, 'aria-describedby': 'settings-recipients-help' });
    recipients.value = (s.recipients ?? []).join('\n');
    const days = h('input', { id: 'settings-days', inputmode: 'numeric', 'aria-describedby': 'settings-days-help', value: (s.thresholdDays ?? []).join(', ') });
    const problem = h('p', { class: 'error', role: 'alert' });
    const saved = h('p', { class: 'muted', role: 'status' }, s.updatedAt ? `Last changed ${when(s.updatedAt)} by ${s.updatedBy}` : 'Never changed: these are the defaults.');
    const form = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      problem.textContent = '';
      const list = recipients.value.split(/[\s,;]+/).filter(Boolean);
      const thresholds = days.value.split(/[\s,;]+/).filter(Boolean).map(Number);
      if (thresholds.some((n) => !Number.isInteger(n))) { problem.textContent = 'Days must be whole numbers, e.g. 60, 30.'; days.focus(); return; }
      try {
        const next = await api.saveNotificationSettings({ enabled: enabled.checked, recipients: list, thresholdDays: thresholds });
        announce('The notification settings are saved');
        render(next);
        document.getElementById('settings-save')?.focus();
      } catch (err) {
        const m = describe(err, 'Saving the settings');
        problem.textContent = `${m.title}${m.detail ? ` ${m.detail}` : ''}`;
        if (!(err instanceof ApiError) || err.code !== 'invalid_request') onError(err, 'Saving the settings');
      }
    } },
    h('div', { class: 'check' }, enabled, h('label', { for: 'settings-enabled' }, 'E-mail a daily digest of licenses about to expire')),
    h('label', { for: 'settings-recipients' }, 'Recipients'), recipients,
    h('p', { id: 'settings-recipients-help', class: 'muted' }, 'One to 50 addresses, one a line or separated by commas.'),
    h('label', { for: 'settings-days' }, 'Days before expiry'), days,
    h('p', { id: 'settings-days-help', class: 'muted' }, 'Up to five numbers from 0 to 365, e.g. 60, 30.'),
    problem, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, 'Save settings')), saved);
    replace(panel, h('h2', { id: 'settings-title' }, 'Expiration e-mails'), form);
  }
}
