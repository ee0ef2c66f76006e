// Every error of the API (PRODUCT.md §3), and failures to reach it, as a
// message a person understands. The API's own message is shown as detail
// where it helps (it says which field is wrong), never for internal errors.

/** ApiError is a failed API call: the HTTP status, the spec's code, the body. */
export class ApiError extends Error {
  constructor(status, code, message, body = {}, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

const messages = {
  invalid_request: 'The request was not accepted.',
  unauthenticated: 'Your session has ended. Please sign in again.',
  forbidden: 'Your account does not have access to this.',
  not_found: 'This could not be found. It may have been removed, or it is not visible to your organization.',
  version_conflict: 'Someone else changed this in the meantime.',
  instance_limit_reached: 'Every purchased instance of this license is in use. Deactivate a deployment first, or buy more instances.',
  license_expired: 'This license has expired, so it cannot be activated.',
  payload_too_large: 'That is more than the portal accepts in one go. Please shorten it.',
  unavailable: 'The service is busy right now. Please try again in a moment.',
  internal: 'Something went wrong on our side. Please try again later.',
  network: 'The portal cannot be reached. Check your connection and try again.',
};

/**
 * describe returns {title, detail} for an error. context names what was being
 * done ("Saving the note"), so that the message says what failed.
 */
export function describe(err, context = '') {
  const code = err instanceof ApiError ? err.code : 'network';
  let title = messages[code] ?? messages.internal;
  let detail = '';
  if (err instanceof ApiError) {
    if (code === 'invalid_request' || code === 'forbidden' || code === 'not_found') detail = err.message;
    if (code === 'forbidden' && /full access/.test(err.message)) title = 'This needs full access to customer organizations.';
  }
  if (context) title = `${context} failed. ${title}`;
  return { title, detail: detail && detail !== title ? capitalize(detail) : '' };
}

function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}
