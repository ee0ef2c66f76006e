// Modal dialogs and the side drawer, on the native <dialog> element: the
// browser keeps the focus inside, Escape closes it, and the rest of the page
// is inert while it is open. On close the focus goes back where it was.
import { h, uid } from './dom.js';

/**
 * openDialog shows a modal with a heading and body; returns {el, close}.
 * kind "drawer" slides in from the side. onClose runs once it is closed;
 * refocus, when the element that had the focus is gone, puts it back.
 */
export function openDialog({ title, body, kind = 'modal', onClose, refocus }) {
  const opener = document.activeElement;
  const titleId = uid('dialog-title');
  const closeButton = h('button', { type: 'button', class: 'icon-button close', 'aria-label': 'Close' }, '×');
  const heading = h('h2', { id: titleId, tabindex: '-1' }, title);
  const content = h('div', { class: 'dialog-body' }, body);
  const el = h('dialog', { class: kind, 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, heading, closeButton), content);
  const close = () => el.open && el.close();
  closeButton.addEventListener('click', close);
  el.addEventListener('close', () => {
    el.remove();
    onClose?.();
    // The opener may have been redrawn meanwhile: refocus finds its successor.
    if (opener && opener.isConnected) opener.focus();
    else refocus?.();
  });
  // A click on the backdrop (outside the box) closes it too.
  el.addEventListener('click', (e) => { if (e.target === el) close(); });
  document.body.append(el);
  el.showModal();
  const first = content.querySelector('input, textarea, select');
  (first ?? heading).focus();
  return { el, content, close };
}

/**
 * confirmDialog asks a question and resolves true for the confirming button.
 */
export function confirmDialog({ title, text, confirm, danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirm);
    const no = h('button', { type: 'button' }, 'Cancel');
    const d = openDialog({
      title,
      body: [h('p', {}, text), h('div', { class: 'actions' }, yes, no)],
      onClose: () => resolve(answer),
    });
    yes.addEventListener('click', () => { answer = true; d.close(); });
    no.addEventListener('click', () => d.close());
    no.focus();
  });
}
