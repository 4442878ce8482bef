// Invite codes: search and filter, create root codes, disable/enable, edit.
import { api } from '../api.js';
import { h, field, select, status, fmt, table, utcFromLocalInput, newIdempotencyKey } from '../dom.js';
import { pagedList } from '../list.js';

const STATUSES = [['', 'Any status'], ['active', 'Active'], ['used_up', 'Used up'],
  ['expired', 'Expired'], ['disabled', 'Disabled']];

export async function render() {
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find invite codes' },
    field('Code', h('input', { name: 'q', type: 'search', placeholder: 'code or its beginning', autocapitalize: 'characters', spellcheck: 'false' })),
    field('Status', select('status', STATUSES, '')),
    field('Owner id', h('input', { name: 'owner', type: 'number', min: 1, inputmode: 'numeric' })),
    h('div', { class: 'field check' },
      h('input', { id: 'invites-root', name: 'root', type: 'checkbox' }),
      h('label', { for: 'invites-root' }, 'Root codes only')),
    h('button', { type: 'submit' }, 'Search'));
  const list = pagedList({
    id: 'invite-list',
    path: 'admin/invite-codes',
    query: () => {
      const f = new FormData(filters);
      return { q: f.get('q').trim(), status: f.get('status'), owner: f.get('owner'), root: f.get('root') ? 'true' : '' };
    },
    render: codeTable,
  });
  filters.addEventListener('submit', (event) => { event.preventDefault(); list.reload(); });

  await list.load();
  return h('div', { class: 'page' },
    h('h1', { tabindex: -1 }, 'Invite codes'),
    createForm(list.reload),
    h('section', { 'aria-labelledby': 'invites-list-title' },
      h('h2', { id: 'invites-list-title' }, 'All codes'),
      filters, list.el));
}

// active, used_up, expired or disabled, as the server decides it.
const codeState = (code) => (code.status ?? 'active').replace('_', ' ');

function codeTable(rows, reload) {
  return table('Invite codes', [
    ['Code', (c) => h('code', { class: 'code' }, c.code)],
    ['Owner', (c) => (c.owner ? h('a', { href: `#/users/${c.owner.id}` }, fmt.who(c.owner)) : h('span', { class: 'tag' }, 'root'))],
    ['Remaining', (c) => fmt.num(c.remaining)],
    ['Used', (c) => fmt.num(c.used)],
    ['Created', (c) => fmt.time(c.createdAt)],
    ['Expires', (c) => fmt.time(c.expiresAt)],
    ['Status', (c) => h('span', { class: `tag ${codeState(c).replace(' ', '-')}` }, codeState(c))],
    ['Actions', (c) => actions(c, reload)],
  ], rows, { empty: 'No invite code matches.' });
}

// Disable/enable at once; Edit opens a small form for remaining and expiry.
function actions(code, reload) {
  const note = status();
  const patch = (body) => api('PATCH', `admin/invite-codes/${encodeURIComponent(code.code)}`, { body })
    .then(reload, (e) => note.fail(e.describe()));
  const editor = h('form', { class: 'inline-edit', hidden: true, 'aria-label': `Edit ${code.code}` },
    field('Remaining uses', h('input', { name: 'remaining', type: 'number', min: 0, required: true, value: String(code.remaining) })),
    field('Expires (UTC)', h('input', { name: 'expiresAt', type: 'datetime-local', value: code.expiresAt ? code.expiresAt.slice(0, 16) : '' }),
      'Leave empty to keep it as it is.'),
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', class: 'quiet', onclick: () => { editor.hidden = true; } }, 'Cancel'));
  editor.addEventListener('submit', (event) => {
    event.preventDefault();
    const f = new FormData(editor);
    patch({ remaining: Number(f.get('remaining')), expiresAt: utcFromLocalInput(f.get('expiresAt')) });
  });
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'small', onclick: () => patch({ disabled: !code.disabled }) },
      code.disabled ? `Enable` : `Disable`, h('span', { class: 'visually-hidden' }, ` ${code.code}`)),
    h('button', { type: 'button', class: 'small quiet', 'aria-expanded': 'false',
      onclick: (event) => {
        editor.hidden = !editor.hidden;
        event.currentTarget.setAttribute('aria-expanded', String(!editor.hidden));
        if (!editor.hidden) editor.querySelector('input').focus();
      } }, 'Edit', h('span', { class: 'visually-hidden' }, ` ${code.code}`)),
    editor, note.el);
}

// Root codes (owned by no user) for bootstrapping and campaigns.
function createForm(reload) {
  const note = status();
  const created = h('ul', { class: 'created-codes', 'aria-label': 'Codes just created' });
  let idempotencyKey = newIdempotencyKey();
  const form = h('form', { class: 'create', 'aria-labelledby': 'invites-create-title' },
    field('How many codes', h('input', { name: 'count', type: 'number', min: 1, max: 10000, value: '1', required: true })),
    field('Uses per code', h('input', { name: 'uses', type: 'number', min: 1, max: 1000000, value: '10', required: true })),
    field('Expires (UTC)', h('input', { name: 'expiresAt', type: 'datetime-local' }), 'Optional.'),
    h('button', { type: 'submit' }, 'Create root codes'));
  form.addEventListener('input', () => { idempotencyKey = newIdempotencyKey(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    try {
      const answer = await api('POST', 'admin/invite-codes', {
        idempotencyKey,
        body: { count: Number(f.get('count')), uses: Number(f.get('uses')), expiresAt: utcFromLocalInput(f.get('expiresAt')) },
      });
      idempotencyKey = newIdempotencyKey();
      created.replaceChildren(...answer.codes.map((c) => h('li', null, h('code', { class: 'code' }, c.code))));
      note.ok(`Created ${answer.codes.length} root code${answer.codes.length === 1 ? '' : 's'}.`);
      reload();
    } catch (error) {
      note.fail(error.describe());
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'invites-create-title' },
    h('h2', { id: 'invites-create-title' }, 'Create root codes'), form, note.el, created);
}
