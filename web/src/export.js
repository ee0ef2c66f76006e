// Download Active Deployment Report: POST /v1/exports with the report's
// selection. A ready export is downloaded at once; a pending one (a large
// selection) shows its progress while the page polls it.
import { announce, h, replace } from './dom.js';
import { ApiError } from './errors.js';

const pollEvery = 1500;

export function downloadButton(api, selection, onError) {
  const status = h('div', { class: 'export-status', role: 'status' });
  const button = h('button', { type: 'button', class: 'primary', id: 'download-report' }, 'Download Active Deployment Report');
  button.addEventListener('click', async () => {
    button.disabled = true;
    replace(status, h('progress', { 'aria-label': 'Preparing the report' }), ' Preparing the report…');
    try {
      let exp = await api.createExport(selection());
      const started = Date.now();
      while (exp.status === 'pending') {
        await new Promise((r) => setTimeout(r, pollEvery));
        const s = Math.round((Date.now() - started) / 1000);
        replace(status, h('progress', { 'aria-label': 'Preparing the report' }), ` Preparing the report… ${s} s`);
        exp = await api.exportStatus(exp.id);
      }
      if (exp.status !== 'ready' || !exp.url) {
        throw new ApiError(500, 'internal', exp.reason ?? 'the export failed');
      }
      replace(status, 'Your download has started. ', h('a', { href: exp.url, class: 'download-link' }, 'Download again'),
        ' (the link works for a limited time).');
      announce('The report is ready and downloading');
      download(exp.url);
    } catch (err) {
      replace(status);
      onError(err, 'Preparing the Active Deployment Report');
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'export' }, button, status);
}

// download follows the presigned link: the object store answers with the
// workbook, which the browser saves rather than shows.
function download(url) {
  const a = h('a', { href: url, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}
