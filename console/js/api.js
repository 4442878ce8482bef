// The admin API, as the console speaks it: one fetch wrapper that adds the
// admin key header, turns error bodies (SPEC §3) into ApiError, and tells
// the app when the key is refused.  The key lives in sessionStorage only:
// never in a URL, a cookie or localStorage.

const KEY_ITEM = 'mocaverse.adminKey';

// The API's base URL, from <meta name="mocaverse-api"> (relative to the page).
export const apiBase = new URL(
  document.querySelector('meta[name="mocaverse-api"]')?.content ?? '../',
  document.baseURI);

export const session = {
  get key() { return sessionStorage.getItem(KEY_ITEM); },
  save(key) { sessionStorage.setItem(KEY_ITEM, key); },
  clear() { sessionStorage.removeItem(KEY_ITEM); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code ?? null;
    this.fields = body?.fields ?? null;
  }
  // A line for a person: the message, what is wrong with each field, the code.
  describe() {
    const fields = Object.entries(this.fields ?? {})
      .map(([name, why]) => `${name}: ${why}`).join('; ');
    return [this.message, fields, this.code && `(${this.code}, ${this.status})`]
      .filter(Boolean).join(' ');
  }
}

let onKeyRefused = () => {};
// The app's handler for a 403: the key was wrong or has been changed.
export function whenKeyRefused(handler) { onKeyRefused = handler; }

// Calls the API.  `query` values that are empty are left out; `body` is sent
// as JSON; `idempotencyKey` makes a retried POST safe (SPEC §3).  Returns
// the parsed JSON, or the Response itself when `raw` is set.
export async function api(method, path, { query, body, idempotencyKey, raw } = {}) {
  const url = new URL(path.replace(/^\//, ''), apiBase);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const headers = { 'X-Admin-Key': session.key ?? '' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  let response;
  try {
    response = await fetch(url, {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: 'The server cannot be reached.', code: 'network' });
  }
  if (!response.ok) {
    const error = new ApiError(response.status, await response.json().catch(() => null));
    if (response.status === 403) onKeyRefused(error);
    throw error;
  }
  return raw ? response : response.json();
}

// The rows of a list answer: {"items": [...], "nextBefore": id or null}.
export function listItems(answer) {
  return Array.isArray(answer?.items) ? answer.items : [];
}
