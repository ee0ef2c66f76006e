// A few helpers to build the DOM from data. Text always goes in as text
// nodes, never as HTML, so nothing from the API can inject markup.

/**
 * h creates an element: h('button', {class: 'x', onclick: fn}, 'Label', child).
 * Attributes that are functions become event listeners ("onclick" → click);
 * false, null and undefined attributes and children are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** replace empties el and appends the children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** uid returns an id unique in the page, for label and aria references. */
export function uid(prefix = 'id') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** announce tells screen readers something without moving the focus. */
export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

const numberFormat = new Intl.NumberFormat('en-US');
/** num formats a count: 12,345. */
export const num = (n) => (n == null ? '–' : numberFormat.format(n));

/** pct formats a share of a total: 12.5%. */
export const pct = (n, total) => (total ? `${((100 * n) / total).toFixed(1)}%` : '0%');

/** when formats an RFC 3339 timestamp for people, in UTC as the API keeps it. */
export function when(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
