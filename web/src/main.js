// The Customer Organizations page (PRODUCT.md §10): sign in, select customer
// organizations, generate a report, and act on its licenses.
import './styles.css';
import { Api } from './api.js';
import { startSession } from './auth.js';
import { announce, h, num, replace, when } from './dom.js';
import { describe } from './errors.js';
import { disposeCharts, pie } from './charts.js';
import { LicenseList } from './lists.js';
import { settingsPanel } from './settings.js';
import { downloadButton } from './export.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
const alerts = document.getElementById('alerts');
const lastSelection = 'portal.selection';

/** app is what the page knows about the signed-in user. */
const app = { config: null, session: null, api: null, me: null, orgs: [], report: null, selection: null, lists: {} };

/** showError puts a message a person understands at the top of the page. */
export function showError(err, context) {
  const { title, detail } = describe(err, context);
  const box = h('div', { class: 'alert' },
    h('p', {}, h('strong', {}, title), detail ? ` ${detail}` : ''),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', onclick: () => box.remove() }, '×'));
  alerts.append(box);
  while (alerts.children.length > 3) alerts.firstElementChild.remove();
}

function clearErrors() { alerts.replaceChildren(); }

async function boot() {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`config.json answered ${res.status}`);
    app.config = await res.json();
  } catch (e) {
    replace(main, h('p', { class: 'error' }, `The page is not configured: ${e.message}.`));
    return;
  }
  try {
    app.session = await startSession(app.config);
  } catch (e) {
    replace(main, h('p', { class: 'error' }, `Sign-in failed: ${e.message}.`));
    return;
  }
  app.api = new Api(app.config.apiUrl ?? '', () => app.session.token(), () => signedOut('Your session has ended. Please sign in again.'));
  if (app.session.signedIn) await portal();
  else signInView();
}

async function signedOut(message) {
  await app.session.signOut();
  sessionStorage.removeItem(lastSelection);
  signInView(message);
}

function signInView(message) {
  replace(who);
  const heading = h('h2', { tabindex: '-1' }, 'Sign in');
  const notice = message ? h('p', { class: 'notice', role: 'alert' }, message) : null;
  if (app.session.mode === 'oidc') {
    replace(main, h('section', { class: 'card signin' }, heading, notice,
      h('p', {}, 'Sign in with your partner account to see your customers’ licenses.'),
      h('button', { type: 'button', class: 'primary', onclick: () => app.session.signIn() }, 'Sign in')));
    heading.focus();
    return;
  }
  // The local server: pick a user of its data set, or type any user id.
  const users = app.session.users;
  const select = h('select', { id: 'signin-user', name: 'user' },
    groupUsers(users).map(([org, list]) => h('optgroup', { label: org },
      list.map((u) => h('option', { value: u.id }, `${u.name} (${u.id}) · ${u.access}`)))));
  const typed = h('input', { id: 'signin-id', name: 'id', autocomplete: 'off', placeholder: 'e.g. dist-1-admin' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card signin', onsubmit: async (e) => {
    e.preventDefault();
    const sub = typed.value.trim() || select.value;
    if (!sub) { error.textContent = 'Choose a user or type a user id.'; return; }
    try {
      await app.session.signIn(sub);
      app.session.signedIn = true;
      clearErrors();
      await portal();
    } catch (err) {
      error.textContent = `Sign-in failed: ${err.message}`;
    }
  } },
  heading, notice,
  h('p', {}, 'This is the local server: sign in as any user of its data set.'),
  users.length ? [h('label', { for: 'signin-user' }, 'User'), select] : null,
  h('label', { for: 'signin-id' }, users.length ? 'Or a user id' : 'User id'), typed,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')), error);
  replace(main, form);
  heading.focus();
}

function groupUsers(users) {
  const groups = new Map();
  for (const u of users) {
    const key = `${u.organization} (${u.organizationType})`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(u);
  }
  return [...groups];
}

async function portal() {
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    app.me = await app.api.me();
  } catch (err) {
    if (err.code !== 'unauthenticated') {
      replace(main);
      showError(err, 'Loading your account');
    }
    return;
  }
  const { user, organization, customerOrganizations: co } = app.me;
  replace(who, h('span', { class: 'who-name' }, user.name), h('span', { class: 'who-org' }, `${organization.name} · ${accessLabel(co.access)}`),
    h('button', { type: 'button', onclick: () => signedOut('You are signed out.') }, 'Sign out'));
  if (!co.visible) {
    replace(main, h('section', { class: 'card' }, h('h2', {}, 'Customer organizations are not available'),
      h('p', {}, notVisibleReason(app.me))));
    return;
  }
  try {
    app.orgs = (await app.api.customerOrganizations()).items;
  } catch (err) {
    replace(main);
    showError(err, 'Loading your customer organizations');
    return;
  }
  const picker = selectionPanel();
  const reportEl = h('div', { id: 'report', class: 'report' });
  const side = h('aside', { class: 'side' }, picker);
  if (co.access === 'full') side.append(settingsPanel(app.api, showError));
  replace(main, h('div', { class: 'layout' }, side, reportEl));
  const saved = JSON.parse(sessionStorage.getItem(lastSelection) ?? 'null');
  if (saved && saved.user === user.id) {
    picker.restore(saved.selection);
    await generate(saved.selection);
  }
}

function accessLabel(level) {
  return { full: 'full access', read: 'read-only access', none: 'no access' }[level] ?? level;
}

function notVisibleReason(me) {
  if (me.organization.type !== 'distributor' && me.organization.type !== 'reseller') {
    return 'This page is for distributors and resellers: your organization is a customer.';
  }
  if (me.customerOrganizations.access === 'none') {
    return 'Your roles grant no access to customer organizations. Ask an administrator of your organization for read or full access.';
  }
  return 'Your organization has no customer organizations yet.';
}

const isDistributor = () => app.me.organization.type === 'distributor';

// ------------------------------------------------------------- selection

function selectionPanel() {
  const orgs = app.orgs;
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const children = new Map();
  const roots = [];
  for (const o of orgs) {
    if (o.parentId && byId.has(o.parentId)) {
      if (!children.has(o.parentId)) children.set(o.parentId, []);
      children.get(o.parentId).push(o);
    } else roots.push(o);
  }
  const selected = new Set();
  const boxes = new Map();
  const descendants = (id) => (children.get(id) ?? []).flatMap((c) => [c.id, ...descendants(c.id)]);

  const search = h('input', { type: 'search', id: 'org-search', placeholder: 'Search organizations', autocomplete: 'off' });
  const all = h('input', { type: 'checkbox', id: 'org-all' });
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const list = h('ul', { class: 'org-tree', 'aria-label': 'Customer organizations' });
  const generateButton = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Generate Report');
  const message = h('p', { class: 'error', role: 'alert' });

  function shown() {
    const q = search.value.trim().toLowerCase();
    if (!q) return null;
    const keep = new Set();
    const visit = (o) => {
      const hit = o.name.toLowerCase().includes(q) || o.id.toLowerCase().includes(q);
      const childHit = (children.get(o.id) ?? []).map(visit).some(Boolean);
      if (hit || childHit) keep.add(o.id);
      return hit || childHit;
    };
    roots.forEach(visit);
    return keep;
  }

  function render() {
    const keep = shown();
    boxes.clear();
    const item = (o, depth) => {
      if (keep && !keep.has(o.id)) return null;
      const id = `org-${o.id}`;
      const box = h('input', { type: 'checkbox', id, checked: selected.has(o.id), dataset: { org: o.id } });
      boxes.set(o.id, box);
      const kids = (children.get(o.id) ?? []).map((c) => item(c, depth + 1)).filter(Boolean);
      return h('li', {},
        h('div', { class: 'org-row' }, box,
          h('label', { for: id }, h('span', { class: 'org-name' }, o.name),
            h('span', { class: 'muted' }, ` ${num(o.licenseCount)} licenses`),
            isDistributor() && o.reseller ? h('span', { class: 'muted' }, ` · via ${o.reseller.name}`) : null)),
        kids.length ? h('ul', { 'aria-label': `Sub-organizations of ${o.name}` }, kids) : null);
    };
    const items = roots.map((o) => item(o, 0)).filter(Boolean);
    replace(list, items.length ? items : h('li', { class: 'muted' }, 'No organization matches the search.'));
    sync();
  }

  function sync() {
    for (const [id, box] of boxes) {
      box.checked = selected.has(id);
      const kids = descendants(id);
      box.indeterminate = !box.checked && kids.some((k) => selected.has(k));
    }
    const visible = [...boxes.keys()];
    all.checked = visible.length > 0 && visible.every((id) => selected.has(id));
    all.indeterminate = !all.checked && visible.some((id) => selected.has(id));
    count.textContent = `${num(selected.size)} of ${num(orgs.length)} selected`;
    generateButton.disabled = selected.size === 0;
  }

  list.addEventListener('change', (e) => {
    const id = e.target.dataset?.org;
    if (!id) return;
    // A main organization takes its sub-organizations with it.
    for (const x of [id, ...descendants(id)]) {
      if (e.target.checked) selected.add(x); else selected.delete(x);
    }
    sync();
  });
  all.addEventListener('change', () => {
    for (const id of boxes.keys()) {
      if (all.checked) selected.add(id); else selected.delete(id);
    }
    sync();
  });
  let timer;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(render, 120); });

  const form = h('form', { class: 'card selection', 'aria-labelledby': 'selection-title', onsubmit: (e) => {
    e.preventDefault();
    message.textContent = '';
    let selection;
    if (selected.size === orgs.length) selection = { all: true };
    else if (selected.size > 1000) {
      message.textContent = `A report covers at most 1,000 organizations, or all of them: ${num(selected.size)} are selected.`;
      return;
    } else selection = { organizationIds: orgs.filter((o) => selected.has(o.id)).map((o) => o.id) };
    generate(selection);
  } },
  h('h2', { id: 'selection-title' }, 'Customer organizations'),
  h('label', { for: 'org-search', class: 'visually-hidden' }, 'Search organizations'), search,
  h('div', { class: 'org-all' }, all, h('label', { for: 'org-all' }, 'Select all'), count),
  list, message, h('div', { class: 'actions' }, generateButton));
  form.restore = (selection) => {
    selected.clear();
    for (const o of orgs) if (selection.all || selection.organizationIds?.includes(o.id)) selected.add(o.id);
    sync();
  };
  render();
  return form;
}

// ---------------------------------------------------------------- report

async function generate(selection) {
  const el = document.getElementById('report');
  disposeCharts(el);
  replace(el, h('section', { class: 'card', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Generating the report…')));
  announce('Generating the report');
  let report;
  try {
    report = await app.api.createReport(selection);
  } catch (err) {
    replace(el);
    showError(err, 'Generating the report');
    return;
  }
  app.report = report;
  app.selection = selection;
  sessionStorage.setItem(lastSelection, JSON.stringify({ user: app.me.user.id, selection }));
  renderReport(el, report);
}

function renderReport(el, report) {
  const full = app.me.customerOrganizations.access === 'full';
  const heading = h('h2', { id: 'report-title', tabindex: '-1' }, 'License report');
  const names = report.organizations.length <= 3
    ? report.organizations.map((o) => o.name).join(', ')
    : `${num(report.organizations.length)} organizations`;
  const options = { reseller: isDistributor(), full, api: app.api, report, onError: showError };
  app.lists = {
    products: new LicenseList({ ...options, kind: 'products', title: 'Products', first: report.products }),
    'cloud-services': new LicenseList({ ...options, kind: 'cloud-services', title: 'Cloud Services', first: report.cloudServices }),
  };
  const head = h('section', { class: 'card report-head', 'aria-labelledby': 'report-title' },
    h('div', {}, heading,
      h('p', { class: 'muted' }, `${names} · generated ${when(report.generatedAt)} · expiring means within ${report.expiringWindowDays} days`)),
    full ? downloadButton(app.api, () => app.selection, showError) : null);
  replace(el, head,
    h('div', { class: 'overview' },
      summary('Products', report.overview.products, 'products'),
      summary('Cloud Services', report.overview.cloudServices, 'cloud-services')),
    app.lists.products.el, app.lists['cloud-services'].el);
  heading.focus();
  announce('The report is ready');
}

function summary(title, s, kind) {
  const pick = (filter) => app.lists[kind].show(filter);
  const id = `summary-${kind}`;
  const metric = (label, value, filter) => h('li', {},
    h('button', { type: 'button', class: 'metric', dataset: { metric: label }, onclick: () => pick(filter),
      title: `Show the ${label.toLowerCase()} licenses in the list` },
    h('span', { class: 'metric-value' }, num(value)), h('span', { class: 'metric-label' }, label)));
  const numbers = h('ul', { class: 'metrics', 'aria-label': `${title} in numbers` },
    metric('Total', s.total, { includeExpired: true }),
    metric('Active', s.byStatus.active, { status: ['active'] }),
    metric('Expiring', s.byStatus.expiring, { status: ['expiring'] }),
    metric('Expired', s.byStatus.expired, { status: ['expired'] }),
    metric('Evaluation', s.byType.evaluation, { type: ['evaluation'], includeExpired: true }),
    metric('Purchased', s.byType.purchased, { type: ['purchased'], includeExpired: true }),
    s.deployed != null ? h('li', { class: 'metric static' },
      h('span', { class: 'metric-value' }, `${num(s.deployed)} / ${num(s.purchased)}`),
      h('span', { class: 'metric-label' }, 'Instances deployed / purchased')) : null);
  const charts = s.total === 0 ? h('p', { class: 'muted' }, `No ${title.toLowerCase()} licenses in this selection.`) : h('div', { class: 'charts' },
    pie(`${title} by status`, [
      { label: 'Active', value: s.byStatus.active, filter: { status: ['active'] }, color: '#1a7f37' },
      { label: 'Expiring', value: s.byStatus.expiring, filter: { status: ['expiring'] }, color: '#d4a72c' },
      { label: 'Expired', value: s.byStatus.expired, filter: { status: ['expired'] }, color: '#cf222e' },
    ], pick),
    pie(`${title} by type`, [
      { label: 'Evaluation', value: s.byType.evaluation, filter: { type: ['evaluation'], includeExpired: true }, color: '#8250df' },
      { label: 'Purchased', value: s.byType.purchased, filter: { type: ['purchased'], includeExpired: true }, color: '#1f6feb' },
    ], pick),
    pie(`${title} by product`, s.byProduct.map((p) => ({
      label: p.productName, value: p.total, filter: { productId: [p.productId], includeExpired: true },
    })), pick));
  return h('section', { class: 'card summary', id, 'aria-labelledby': `${id}-title`, dataset: { kind } },
    h('h3', { id: `${id}-title` }, title), numbers, charts);
}

boot();
