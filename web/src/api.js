// The HTTP API of PRODUCT.md §3, called with the signed-in user's bearer
// token. Errors become ApiError with the spec's code.
import { ApiError } from './errors.js';

/** Api calls the portal's API at base ('' for the page's own origin). */
export class Api {
  constructor(base, token, onUnauthenticated) {
    this.base = base.replace(/\/$/, '');
    this.token = token;
    this.onUnauthenticated = onUnauthenticated;
  }

  async call(method, path, body) {
    let res;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          Authorization: `Bearer ${await this.token()}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', String(e?.message ?? e));
    }
    if (res.status === 204) return null;
    let data = null;
    const text = await res.text();
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const e = data?.error;
      const err = new ApiError(res.status, e?.code ?? codeOf(res.status), e?.message ?? '', data ?? {},
        res.headers.get('Retry-After'));
      if (err.code === 'unauthenticated') this.onUnauthenticated?.(err);
      throw err;
    }
    return data;
  }

  me() { return this.call('GET', '/v1/me'); }
  customerOrganizations() { return this.call('GET', '/v1/customer-organizations'); }
  createReport(selection) { return this.call('POST', '/v1/reports', selection); }
  /** page reads a page of a report's list: kind is products or cloud-services. */
  page(reportId, kind, params) {
    return this.call('GET', `/v1/reports/${enc(reportId)}/${kind}?${params}`);
  }
  license(key) { return this.call('GET', `/v1/licenses/${enc(key)}`); }
  history(key, cursor) {
    return this.call('GET', `/v1/licenses/${enc(key)}/history?limit=50${cursor ? `&cursor=${enc(cursor)}` : ''}`);
  }
  saveNote(key, text, version) { return this.call('PUT', `/v1/licenses/${enc(key)}/partner-note`, { text, version }); }
  activate(key, deploymentId, name) {
    return this.call('POST', `/v1/licenses/${enc(key)}/activations`, { deploymentId, name });
  }
  deactivate(key, deploymentId) {
    return this.call('DELETE', `/v1/licenses/${enc(key)}/activations/${enc(deploymentId)}`);
  }
  pin(key) { return this.call('PUT', `/v1/pins/${enc(key)}`); }
  unpin(key) { return this.call('DELETE', `/v1/pins/${enc(key)}`); }
  createExport(selection) { return this.call('POST', '/v1/exports', selection); }
  exportStatus(id) { return this.call('GET', `/v1/exports/${enc(id)}`); }
  notificationSettings() { return this.call('GET', '/v1/notification-settings'); }
  saveNotificationSettings(s) { return this.call('PUT', '/v1/notification-settings', s); }
}

const enc = encodeURIComponent;

// codeOf names the error of a response without the API's body (a proxy's
// or API Gateway's own answer).
function codeOf(status) {
  switch (status) {
    case 400: return 'invalid_request';
    case 401: return 'unauthenticated';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 413: return 'payload_too_large';
    case 429: case 502: case 503: case 504: return 'unavailable';
    default: return 'internal';
  }
}
