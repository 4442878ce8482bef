// The audit trail: every admin action (the console's included), newest
// first, with its route, target, client address and outcome.
import { h, fmt, table } from '../dom.js';
import { pagedList } from '../list.js';

export async function render() {
  const list = pagedList({
    id: 'audit-list',
    path: 'admin/audit',
    render: (rows) => table('Admin actions', [
      ['Time', (a) => fmt.time(a.createdAt)],
      ['Action', (a) => h('code', null, `${a.method} ${a.route}`)],
      ['Target', (a) => a.target ?? '–'],
      ['Client', (a) => a.clientIp ?? '–'],
      ['Outcome', (a) => h('span', { class: `tag ${a.outcome === 'ok' ? 'active' : 'disabled'}` },
        a.outcome === 'ok' ? `ok (${a.status})` : `${a.outcome} (${a.status})`)],
    ], rows, { empty: 'No admin action yet.' }),
  });
  await list.load();
  return h('div', { class: 'page' }, h('h1', { tabindex: -1 }, 'Audit'),
    h('p', { class: 'hint' }, 'Every admin action, written in the same transaction as the action. Reads are not recorded.'),
    list.el);
}
