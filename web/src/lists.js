// The Products and Cloud Services lists: every column of the row, paged by
// the server (never more rows in the DOM than a page), searched with q,
// filtered by what was clicked in the overview, pinned rows first.
import { announce, h, num, replace, when } from './dom.js';
import { ApiError } from './errors.js';
import { openDrawer } from './drawer.js';

const statusLabel = { active: 'Active', expiring: 'Expiring', expired: 'Expired' };
const typeLabel = { evaluation: 'Evaluation', purchased: 'Purchased' };
const pageSizes = [25, 50, 100];
const noteLimit = 2000;

/** LicenseList is one list of the report, with its filter and page. */
export class LicenseList {
  constructor({ kind, title, first, reseller, full, api, report, onError }) {
    Object.assign(this, { kind, title, reseller, full, api, report, onError });
    this.onPrem = kind === 'products';
    this.filter = {};
    this.q = '';
    this.includeExpired = false;
    this.limit = 100;
    this.cursors = [null];
    this.rows = first.items;
    this.next = first.nextCursor;
    this.build();
    this.renderRows();
  }

  build() {
    const id = `list-${this.kind}`;
    this.heading = h('h2', { id: `${id}-title`, tabindex: '-1' }, this.title);
    this.search = h('input', { type: 'search', id: `${id}-q`, placeholder: 'Key, organization, product or note', autocomplete: 'off' });
    this.expired = h('input', { type: 'checkbox', id: `${id}-expired` });
    this.size = h('select', { id: `${id}-size` }, pageSizes.map((n) => h('option', { value: n, selected: n === this.limit }, n)));
    this.chips = h('div', { class: 'chips', 'aria-live': 'polite' });
    this.body = h('tbody');
    this.pager = h('nav', { class: 'pager', 'aria-label': `${this.title} pages` });
    this.message = h('p', { class: 'muted list-message', role: 'status' });
    let timer;
    this.search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => { this.q = this.search.value.trim(); this.reload(); }, 300);
    });
    this.expired.addEventListener('change', () => { this.includeExpired = this.expired.checked; this.reload(); });
    this.size.addEventListener('change', () => { this.limit = Number(this.size.value); this.reload(); });
    const cols = this.columns();
    this.table = h('table', { class: 'licenses', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-msg` },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.cls ?? '' }, c.label)))), this.body);
    this.message.id = `${id}-msg`;
    this.el = h('section', { class: 'card list', id, 'aria-labelledby': `${id}-title`, dataset: { kind: this.kind } },
      h('div', { class: 'list-head' }, this.heading,
        h('div', { class: 'list-tools' },
          h('label', { for: `${id}-q`, class: 'visually-hidden' }, `Search ${this.title}`), this.search,
          h('span', { class: 'check' }, this.expired, h('label', { for: `${id}-expired` }, 'See full license history')),
          h('span', {}, h('label', { for: `${id}-size` }, 'Rows per page '), this.size))),
      this.chips, h('div', { class: 'table-wrap' }, this.table), this.message, this.pager);
  }

  columns() {
    return [
      { label: 'Pin', cls: 'col-pin' },
      { label: 'License key' },
      { label: 'Organization' },
      this.reseller ? { label: 'Reseller' } : null,
      { label: 'Product' },
      { label: 'Status' },
      { label: 'Type' },
      { label: 'Start date' },
      { label: 'Expiration date' },
      ...(this.onPrem
        ? [{ label: 'Deployed', cls: 'num' }, { label: 'Purchased', cls: 'num' }]
        : [{ label: 'Scan limit', cls: 'num' }, { label: 'Scans used', cls: 'num' }]),
      { label: 'Customer note' },
      { label: 'Partner note' },
      { label: 'Details' },
    ].filter(Boolean);
  }

  /** show applies a filter from the overview and brings the list into view. */
  show(filter) {
    this.filter = { status: filter.status, type: filter.type, productId: filter.productId };
    this.includeExpired = Boolean(filter.includeExpired);
    this.expired.checked = this.includeExpired;
    this.q = '';
    this.search.value = '';
    this.el.scrollIntoView({ behavior: 'instant', block: 'start' });
    this.heading.focus({ preventScroll: true });
    return this.reload();
  }

  params(cursor) {
    const p = new URLSearchParams();
    for (const [k, values] of Object.entries(this.filter)) for (const v of values ?? []) p.append(k, v);
    if (this.includeExpired) p.set('includeExpired', 'true');
    if (this.q) p.set('q', this.q);
    p.set('limit', String(this.limit));
    if (cursor) p.set('cursor', cursor);
    return p;
  }

  /** reload goes back to the first page with the current filter. */
  reload() {
    this.cursors = [null];
    return this.load();
  }

  async load() {
    const cursor = this.cursors.at(-1);
    this.el.setAttribute('aria-busy', 'true');
    const seq = (this.seq = (this.seq ?? 0) + 1);
    try {
      const page = await this.api.page(this.report.id, this.kind, this.params(cursor));
      if (seq !== this.seq) return; // a later request has the say
      this.rows = page.items;
      this.next = page.nextCursor;
    } catch (err) {
      if (seq !== this.seq) return;
      if (err instanceof ApiError && err.code === 'not_found') {
        this.onError(err, `Loading the ${this.title} list`);
        this.message.textContent = 'This report is no longer available: generate it again.';
      } else this.onError(err, `Loading the ${this.title} list`);
      return;
    } finally {
      if (seq === this.seq) this.el.removeAttribute('aria-busy');
    }
    this.renderRows();
    announce(`${this.title}: ${this.rows.length} rows shown`);
  }

  renderChips() {
    const chips = [];
    const remove = (k) => { delete this.filter[k]; this.reload(); };
    for (const v of this.filter.status ?? []) chips.push([`Status: ${statusLabel[v]}`, () => remove('status')]);
    for (const v of this.filter.type ?? []) chips.push([`Type: ${typeLabel[v]}`, () => remove('type')]);
    for (const v of this.filter.productId ?? []) {
      const p = this.report.overview[this.onPrem ? 'products' : 'cloudServices'].byProduct.find((x) => x.productId === v);
      chips.push([`Product: ${p?.productName ?? v}`, () => remove('productId')]);
    }
    replace(this.chips, chips.length ? [h('span', { class: 'muted' }, 'Filtered by'),
      chips.map(([label, clear]) => h('button', { type: 'button', class: 'chip', 'aria-label': `Remove filter ${label}`, onclick: clear }, label, ' ×')),
      h('button', { type: 'button', class: 'link', onclick: () => { this.filter = {}; this.reload(); } }, 'Clear filters')] : null);
  }

  renderRows() {
    this.renderChips();
    replace(this.body, this.rows.map((row) => this.rowEl(row)));
    const page = this.cursors.length;
    const from = (page - 1) * this.limit + 1;
    this.message.textContent = this.rows.length
      ? `Rows ${num(from)}–${num(from + this.rows.length - 1)}${this.next ? '' : ' (the last page)'}`
      : (this.q || Object.keys(this.filter).length ? 'No license matches this filter.' : `No ${this.title.toLowerCase()} licenses to show.`);
    const prev = h('button', { type: 'button', disabled: page === 1, onclick: () => { this.cursors.pop(); this.load(); } }, '‹ Previous page');
    const next = h('button', { type: 'button', disabled: !this.next, onclick: () => { this.cursors.push(this.next); this.load(); } }, 'Next page ›');
    replace(this.pager, prev, h('span', { class: 'muted' }, `Page ${page}`), next);
  }

  rowEl(row) {
    const tr = h('tr', { dataset: { key: row.licenseKey }, class: row.pinned ? 'pinned' : '' });
    const pin = h('button', {
      type: 'button', class: 'icon-button pin', 'aria-pressed': String(row.pinned),
      'aria-label': `${row.pinned ? 'Unpin' : 'Pin'} ${row.licenseKey}`, title: row.pinned ? 'Unpin' : 'Pin to the top',
      onclick: () => this.togglePin(row, pin),
    }, row.pinned ? '★' : '☆');
    const cells = [
      h('td', { class: 'col-pin' }, pin),
      h('td', { class: 'key' }, row.licenseKey),
      h('td', {}, row.organizationName),
      this.reseller ? h('td', {}, row.reseller?.name ?? h('span', { class: 'muted' }, 'Direct')) : null,
      h('td', {}, row.productName),
      h('td', {}, h('span', { class: `badge ${row.status}` }, statusLabel[row.status] ?? row.status)),
      h('td', {}, typeLabel[row.type] ?? row.type),
      h('td', { class: 'date' }, row.startDate),
      h('td', { class: 'date' }, row.expirationDate),
      ...(this.onPrem
        ? [h('td', { class: 'num', dataset: { col: 'deployed' } }, num(row.deployed)), h('td', { class: 'num', dataset: { col: 'purchased' } }, num(row.purchased))]
        : [h('td', { class: 'num' }, num(row.scanLimit)), h('td', { class: 'num' }, row.scansUsed == null ? '–' : num(row.scansUsed))]),
      h('td', { class: 'note customer-note' }, row.customerNote ?? ''),
      this.noteCell(row),
      h('td', {}, h('button', { type: 'button', class: 'link details', 'aria-label': `Details and history of ${row.licenseKey}`,
        onclick: () => openDrawer({ api: this.api, row, onPrem: this.onPrem, onError: this.onError, onChange: (c) => this.changed(row, c),
          refocus: () => this.body.querySelector(`tr[data-key="${CSS.escape(row.licenseKey)}"] .details`)?.focus() }) }, 'History')),
    ];
    tr.append(...cells.filter(Boolean));
    return tr;
  }

  async togglePin(row, button) {
    button.disabled = true;
    try {
      if (row.pinned) await this.api.unpin(row.licenseKey); else await this.api.pin(row.licenseKey);
    } catch (err) {
      button.disabled = false;
      this.onError(err, row.pinned ? 'Unpinning the license' : 'Pinning the license');
      return;
    }
    announce(`${row.licenseKey} ${row.pinned ? 'unpinned' : 'pinned'}`);
    // Pinned rows come first: the first page shows where it went.
    await this.reload();
    this.body.querySelector(`tr[data-key="${CSS.escape(row.licenseKey)}"] .pin`)?.focus();
  }

  /** changed takes what the drawer did to a license into the shown row. */
  changed(row, change) {
    Object.assign(row, change);
    const tr = this.body.querySelector(`tr[data-key="${CSS.escape(row.licenseKey)}"]`);
    if (tr) tr.replaceWith(this.rowEl(row));
  }

  noteCell(row) {
    const td = h('td', { class: 'note partner-note' });
    const view = () => {
      replace(td, h('span', { class: 'note-text' }, row.partnerNote?.text ?? ''),
        this.full ? h('button', { type: 'button', class: 'link edit-note', 'aria-label': `Edit the partner note of ${row.licenseKey}`, onclick: edit }, 'Edit') : null);
    };
    const edit = () => {
      const base = row.partnerNote;
      this.noteEditor(td, row, base?.text ?? '', base?.version ?? 0, view);
    };
    view();
    return td;
  }

  noteEditor(td, row, text, version, done) {
    const id = `note-${row.licenseKey}`;
    const area = h('textarea', { id, rows: 3, maxlength: noteLimit, 'aria-describedby': `${id}-count` });
    area.value = text;
    const counter = h('span', { id: `${id}-count`, class: 'muted' });
    const count = () => { counter.textContent = `${area.value.length} / ${noteLimit}`; };
    area.addEventListener('input', count);
    count();
    const problem = h('div', { class: 'conflict', role: 'alert' });
    const save = h('button', { type: 'button', class: 'primary' }, 'Save');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    let editingVersion = version;
    cancel.addEventListener('click', () => { done(); td.querySelector('.edit-note')?.focus(); });
    area.addEventListener('keydown', (e) => { if (e.key === 'Escape') cancel.click(); });
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        row.partnerNote = await this.api.saveNote(row.licenseKey, area.value, editingVersion);
        announce('The partner note is saved');
        done();
        td.querySelector('.edit-note')?.focus();
      } catch (err) {
        save.disabled = false;
        if (err instanceof ApiError && err.code === 'version_conflict') {
          // Keep what the user wrote; show what is there now; saving again
          // replaces it knowingly.
          const current = err.body.current ?? null;
          row.partnerNote = current;
          editingVersion = current?.version ?? 0;
          save.textContent = 'Save my text anyway';
          replace(problem,
            h('p', {}, h('strong', {}, 'Someone else changed this note while you were editing it. '),
              'Your text is kept in the box above. Save it again to replace theirs, or cancel to keep theirs.'),
            h('p', { class: 'muted' }, current
              ? `Current note (version ${current.version}, by ${current.updatedBy}, ${when(current.updatedAt)}):`
              : 'The note has been cleared in the meantime.'),
            current ? h('blockquote', { class: 'current-note' }, current.text || '(empty)') : null);
          area.focus();
          return;
        }
        this.onError(err, 'Saving the partner note');
      }
    });
    replace(td, h('label', { for: id, class: 'visually-hidden' }, `Partner note of ${row.licenseKey}`), area, counter, problem,
      h('div', { class: 'actions' }, save, cancel));
    area.focus();
  }
}
