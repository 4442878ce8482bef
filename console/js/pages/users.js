// Users: search; a user's detail with the invite chain up to the root, the
// invite tree drawn down to a chosen depth with counts per level, and the
// actions disable/enable and revoke sessions.
import { api } from '../api.js';
import { h, field, select, status, fmt, table, newIdempotencyKey } from '../dom.js';
import { pagedList } from '../list.js';

export async function render(id) {
  return id ? detail(id) : userList();
}

async function userList() {
  const search = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find users' },
    field('E-mail, phone or id', h('input', { name: 'q', type: 'search', placeholder: 'ann@ or +49151 or 42' }),
      'An e-mail or phone prefix, or a user id.'),
    h('button', { type: 'submit' }, 'Search'));
  const list = pagedList({
    id: 'user-list',
    path: 'admin/users',
    query: () => ({ q: new FormData(search).get('q').trim() }),
    render: (rows) => table('Users', [
      ['User', (u) => h('a', { href: `#/users/${u.id}` }, fmt.who(u))],
      ['Id', (u) => u.id],
      ['Phone', (u) => u.phone ?? '–'],
      ['Joined', (u) => fmt.time(u.createdAt)],
      ['Invited by', (u) => inviterLink(u.invitedBy)],
      ['Invitees', (u) => fmt.num(u.invitees)],
      ['Balance', (u) => fmt.num(u.balance)],
      ['Status', (u) => stateTag(u)],
    ], rows, { empty: 'No user matches.' }),
  });
  search.addEventListener('submit', (event) => { event.preventDefault(); list.reload(); });
  await list.load();
  return h('div', { class: 'page' }, h('h1', { tabindex: -1 }, 'Users'), search, list.el);
}

// invitedBy is the inviting user (an object or an id), or null for a user
// who came with a root code or none.
function inviterLink(invitedBy) {
  if (invitedBy === null || invitedBy === undefined) return '–';
  const id = typeof invitedBy === 'object' ? invitedBy.id : invitedBy;
  return h('a', { href: `#/users/${id}` }, typeof invitedBy === 'object' ? fmt.who(invitedBy) : `user ${id}`);
}

function stateTag(user) {
  return h('span', { class: `tag ${user.disabled ? 'disabled' : 'active'}` }, user.disabled ? 'disabled' : 'active');
}

async function detail(id, depth = 3, message = '') {
  const answer = await api('GET', `admin/users/${encodeURIComponent(id)}`, { query: { depth } });
  const user = answer;
  const tree = answer.tree ?? { levels: [], nodes: [] };
  const note = status();
  if (message) note.ok(message);
  const act = (path, done) => async () => {
    try {
      await api('POST', `admin/users/${user.id}/${path}`, { idempotencyKey: newIdempotencyKey() });
      page.replaceWith(await detail(id, depth, done));
    } catch (error) {
      note.fail(error.describe());
    }
  };
  const depthPicker = select('depth', [1, 2, 3, 4, 5].map((d) => [String(d), String(d)]), String(depth));
  depthPicker.addEventListener('change', async () => {
    page.replaceWith(await detail(id, Number(depthPicker.value)));
    document.querySelector('#user-detail select[name="depth"]')?.focus();
  });

  const page = h('div', { class: 'page', id: 'user-detail' },
    h('p', null, h('a', { href: '#/users' }, '← All users')),
    h('h1', { tabindex: -1 }, fmt.who(user), ' ', stateTag(user)),
    h('dl', { class: 'facts' },
      fact('Id', user.id), fact('E-mail', user.email ?? '–'), fact('Phone', user.phone ?? '–'),
      fact('Joined', fmt.time(user.createdAt)), fact('Balance', fmt.num(user.balance)),
      fact('Invitees', fmt.num(user.invitees)),
      user.inviteCode && fact('Invite code', [h('code', { class: 'code' }, user.inviteCode.code),
        ` ${fmt.num(user.inviteCode.used)} used, ${fmt.num(user.inviteCode.remaining)} left`,
        user.inviteCode.disabled ? ' (disabled)' : ''])),
    h('div', { class: 'actions' },
      user.disabled
        ? h('button', { type: 'button', onclick: act('enable', 'Enabled.') }, 'Enable user')
        : h('button', { type: 'button', class: 'danger', onclick: act('disable', 'Disabled: sessions revoked, tokens refused.') }, 'Disable user'),
      h('button', { type: 'button', class: 'quiet', onclick: act('revoke-sessions', 'Every session of this user was revoked.') }, 'Revoke sessions')),
    note.el,
    h('section', { 'aria-labelledby': 'chain-title' },
      h('h2', { id: 'chain-title' }, 'Invited through'), chain(answer.chain ?? [], user)),
    h('section', { 'aria-labelledby': 'tree-title' },
      h('h2', { id: 'tree-title' }, 'Invite tree'),
      h('div', { class: 'filters' }, field('Depth', depthPicker)),
      levels(tree.levels ?? []),
      tree.truncated ? h('p', { class: 'hint' }, 'Only the first invitees are drawn; the counts per level are complete.') : null,
      drawTree(user, tree.nodes ?? [])));
  return page;
}

function fact(term, value) {
  return [h('dt', null, term), h('dd', null, value)];
}

// The chain from the root down to this user.  The answer lists it from the
// inviter up; its last link has no id when it starts at a root code.
function chain(links, user) {
  const fromRoot = [...links].reverse();
  return h('ol', { class: 'chain', 'aria-label': 'Invite chain from the root' },
    fromRoot.map((link) => h('li', null, link.id === null || link.id === undefined
      ? h('span', { class: 'tag' }, 'root code ', h('code', null, link.code ?? ''))
      : h('a', { href: `#/users/${link.id}` }, fmt.who(link)))),
    h('li', { 'aria-current': 'true' }, h('strong', null, fmt.who(user))));
}

function levels(counts) {
  if (counts.length === 0) return h('p', { class: 'empty' }, 'No invitees.');
  return h('ul', { class: 'levels', 'aria-label': 'Invitees per level' },
    counts.map((l) => h('li', null, h('span', null, `Level ${l.depth}`), h('strong', null, fmt.num(l.count)))));
}

// The tree as nested lists (CSS draws the branches), built from the flat
// nodes by invitedBy: readable by a screen reader as it is, and each node
// links to that user's own detail.
function drawTree(user, nodes) {
  const children = new Map();
  for (const n of nodes) {
    if (!children.has(n.invitedBy)) children.set(n.invitedBy, []);
    children.get(n.invitedBy).push(n);
  }
  const node = (u) => {
    const below = children.get(u.id) ?? [];
    return h('li', null,
      h('a', { href: `#/users/${u.id}`, class: u.disabled ? 'is-disabled' : null }, fmt.who(u)),
      u.disabled ? h('small', null, ' (disabled)') : null,
      below.length ? h('ul', null, below.map(node)) : null);
  };
  return h('ul', { class: 'tree', 'aria-label': `Invite tree of ${fmt.who(user)}` }, node(user));
}
