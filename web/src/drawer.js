// The license drawer: the license with its deployments, activation and
// deactivation for on-prem licenses, and its history, newest first.
import { announce, h, num, replace, when } from './dom.js';
import { describe } from './errors.js';
import { confirmDialog, openDialog } from './dialog.js';

const eventLabel = {
  created: 'Created', renewed: 'Renewed', activated: 'Activated', deactivated: 'Deactivated',
  partner_note_updated: 'Partner note updated', removed: 'Removed',
};

/** openDrawer shows a license; onChange gets what changed in its row. */
export function openDrawer({ api, row, onPrem, onError, onChange, refocus }) {
  const summary = h('dl', { class: 'facts' },
    fact('Organization', row.organizationName), fact('Product', row.productName),
    fact('Status', row.status), fact('Type', row.type),
    fact('Start date', row.startDate), fact('Expiration date', row.expirationDate),
    row.reseller ? fact('Reseller', row.reseller.name) : null,
    row.customerNote ? fact('Customer note', row.customerNote) : null);
  const deployments = h('section', { class: 'deployments', 'aria-labelledby': 'drawer-deployments' });
  const history = h('section', { class: 'history', 'aria-labelledby': 'drawer-history' });
  const d = openDialog({ title: `License ${row.licenseKey}`, kind: 'drawer', body: [summary, deployments, history], refocus });

  async function loadLicense() {
    replace(deployments, h('h3', { id: 'drawer-deployments' }, 'Deployments'), h('p', { class: 'loading' }, 'Loading…'));
    let lic;
    try {
      lic = await api.license(row.licenseKey);
    } catch (err) {
      replace(deployments, h('h3', { id: 'drawer-deployments' }, 'Deployments'), errorText(err, 'Loading the license'));
      return;
    }
    if (!onPrem) {
      replace(deployments, h('h3', { id: 'drawer-deployments' }, 'Usage'),
        h('p', {}, `Scan limit ${num(lic.scanLimit)} a day, ${lic.scansUsed == null ? 'no usage reported' : `${num(lic.scansUsed)} used`}. Cloud-service licenses are not activated on deployments.`));
      return;
    }
    const active = lic.deployments.filter((x) => x.active);
    const activate = h('button', { type: 'button', class: 'primary', disabled: lic.status === 'expired' || lic.deployed >= lic.purchased,
      onclick: () => activationDialog() }, 'Activate a deployment');
    replace(deployments, h('h3', { id: 'drawer-deployments' }, 'Deployments'),
      h('p', { class: 'deployed-count' }, `${num(lic.deployed)} of ${num(lic.purchased)} purchased instances deployed.`),
      lic.status === 'expired' ? h('p', { class: 'muted' }, 'The license has expired: it cannot be activated.') : null,
      lic.status !== 'expired' && lic.deployed >= lic.purchased ? h('p', { class: 'muted' }, 'Every purchased instance is in use: deactivate one to activate another.') : null,
      h('div', { class: 'actions' }, activate),
      lic.deployments.length === 0 ? h('p', { class: 'muted' }, 'No deployments yet.') : h('div', { class: 'table-wrap' }, h('table', { class: 'small' },
        h('thead', {}, h('tr', {}, ['Deployment', 'Name', 'Activated', 'Last seen', 'State', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, [...active, ...lic.deployments.filter((x) => !x.active)].map((x) => h('tr', {},
          h('td', { class: 'key' }, x.deploymentId), h('td', {}, x.name ?? ''), h('td', {}, when(x.activatedAt)),
          h('td', {}, when(x.lastSeenAt)), h('td', {}, x.active ? 'Active' : 'Inactive'),
          h('td', {}, x.active ? h('button', { type: 'button', 'aria-label': `Deactivate ${x.deploymentId}`, onclick: () => deactivate(x) }, 'Deactivate') : null)))))));
  }

  function activationDialog() {
    const idInput = h('input', { id: 'activate-id', required: true, maxlength: 200, autocomplete: 'off' });
    const nameInput = h('input', { id: 'activate-name', maxlength: 200, autocomplete: 'off' });
    const problem = h('p', { class: 'error', role: 'alert' });
    const a = openDialog({ title: `Activate ${row.licenseKey}`, body: h('form', { onsubmit: async (e) => {
      e.preventDefault();
      problem.textContent = '';
      if (!idInput.value.trim()) { problem.textContent = 'Enter the deployment id.'; idInput.focus(); return; }
      try {
        const res = await api.activate(row.licenseKey, idInput.value.trim(), nameInput.value.trim());
        a.close();
        announce(`Activated: ${res.deployed} of ${res.purchased} instances deployed`);
        onChange({ deployed: res.deployed, purchased: res.purchased });
        await Promise.all([loadLicense(), loadHistory()]);
      } catch (err) {
        const m = describe(err);
        problem.textContent = `${m.title}${m.detail ? ` ${m.detail}` : ''}`;
      }
    } },
    h('label', { for: 'activate-id' }, 'Deployment id'), idInput,
    h('label', { for: 'activate-name' }, 'Name (optional)'), nameInput, problem,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Activate'),
      h('button', { type: 'button', onclick: () => a.close() }, 'Cancel'))) });
  }

  async function deactivate(x) {
    const ok = await confirmDialog({ title: `Deactivate ${x.deploymentId}?`, confirm: 'Deactivate', danger: true,
      text: 'The instance becomes free for another deployment. The deployment and its history are kept.' });
    if (!ok) return;
    try {
      await api.deactivate(row.licenseKey, x.deploymentId);
      const lic = await api.license(row.licenseKey);
      announce(`Deactivated: ${lic.deployed} of ${lic.purchased} instances deployed`);
      onChange({ deployed: lic.deployed, purchased: lic.purchased });
    } catch (err) {
      onError(err, 'Deactivating the deployment');
    }
    await Promise.all([loadLicense(), loadHistory()]);
  }

  async function loadHistory(cursor) {
    const list = cursor ? history.querySelector('ol') : h('ol', { class: 'events' });
    if (!cursor) replace(history, h('h3', { id: 'drawer-history' }, 'History'), list);
    history.querySelector('.more')?.remove();
    let page;
    try {
      page = await api.history(row.licenseKey, cursor);
    } catch (err) {
      history.append(errorText(err, 'Loading the history'));
      return;
    }
    if (!cursor && page.items.length === 0) list.append(h('li', { class: 'muted' }, 'No history yet.'));
    for (const e of page.items) {
      list.append(h('li', {}, h('span', { class: 'event-type' }, eventLabel[e.type] ?? e.type),
        h('span', { class: 'muted' }, ` ${when(e.at)} · ${e.actor}`), details(e.data)));
    }
    if (page.nextCursor) {
      history.append(h('button', { type: 'button', class: 'more', onclick: () => loadHistory(page.nextCursor) }, 'Show older events'));
    }
  }

  loadLicense();
  loadHistory();
  return d;
}

function fact(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function details(data) {
  if (!data || Object.keys(data).length === 0) return null;
  return h('div', { class: 'event-data' }, Object.entries(data).map(([k, v]) => h('span', {}, `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)));
}

function errorText(err, context) {
  const m = describe(err, context);
  return h('p', { class: 'error', role: 'alert' }, m.title, m.detail ? ` ${m.detail}` : '');
}
