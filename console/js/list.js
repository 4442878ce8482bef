// A list of the admin API, newest first, a page at a time: the first page
// for the current filters, then "Load more" with the `before` cursor
// (answers are {"items": [...], "nextBefore": id or null}).
import { api, listItems } from './api.js';
import { h, status } from './dom.js';

// path: the API route; query(): the filters now; render(rows, reload): a
// table of the rows (whose actions call reload).  Returns {el, load, reload}:
// load() throws (for the page's first render), reload() shows errors.
export function pagedList({ id, path, query = () => ({}), render }) {
  const results = h('div', { id });
  const note = status();
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Load more');
  let nextBefore = null;

  async function load(append = false) {
    const answer = await api('GET', path, { query: { ...query(), limit: 50, before: append ? nextBefore : '' } });
    nextBefore = answer.nextBefore ?? null;
    more.hidden = !nextBefore;
    const list = render(listItems(answer), () => reload());
    if (append) results.querySelector('tbody')?.append(...list.querySelectorAll('tbody tr'));
    else results.replaceChildren(list);
  }
  const reload = (append = false) => load(append).then(note.clear, (e) => note.fail(e.describe()));
  more.addEventListener('click', () => reload(true));
  return { el: h('div', null, note.el, results, more), load, reload };
}
