// Small DOM helpers.  Elements are built with createElement and text nodes,
// never from HTML strings, so nothing the server returns can become markup;
// and no style attribute is ever set (the CSP forbids inline style).

// h('button', {class: 'x', onclick: f}, 'text', child...) → an element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'value' || name === 'checked') el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...children.flat(Infinity)
    .filter((c) => c !== undefined && c !== null && c !== false)
    .map((c) => (c instanceof Node ? c : String(c))));
  return el;
}

// A labelled form control: <div class="field"><label>…</label><input …></div>.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || (control.id = `f${++fieldSeq}`);
  const hintEl = hint && h('small', { id: `${id}-hint`, class: 'hint' }, hint);
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

// A status line that screen readers announce; returns {el, ok(text), fail(text), clear()}.
export function status() {
  const el = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const set = (cls, text) => { el.className = `status ${cls}`; el.textContent = text; };
  return { el, ok: (t) => set('ok', t), fail: (t) => set('error', t), clear: () => set('', '') };
}

export const fmt = {
  // RFC 3339 UTC → "2026-11-29 20:11 UTC"; null → "–".
  time(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  },
  num(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'); },
  pct(x) { return x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`; },
  who(user) {
    if (!user) return '–';
    return user.email ?? user.phone ?? `user ${user.id}`;
  },
};

// A table whose cells carry their column's name (shown as a label when
// rows become cards on narrow screens).  columns: [[title, row => content]].
export function table(caption, columns, rows, { empty = 'Nothing found.' } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'list' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, columns.map(([title]) => h('th', { scope: 'col' }, title)))),
      h('tbody', null, rows.map((row) => h('tr', null,
        columns.map(([title, cell]) => h('td', { 'data-label': title }, cell(row))))))));
}

// The ISO string for a <input type="datetime-local"> value read as UTC.
export function utcFromLocalInput(value) {
  return value ? `${value.length === 16 ? `${value}:00` : value}Z` : undefined;
}

// A fresh Idempotency-Key for one logical submission.
// (getRandomValues, unlike randomUUID, also works outside a secure context.)
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Offers a Blob as a file download (no URL with a secret in it).
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
