// Coupon batches: create with a form, redemption progress, CSV download
// (fetched with the key in a header, then saved from a Blob), void.
import { api } from '../api.js';
import { h, field, status, fmt, table, utcFromLocalInput, newIdempotencyKey, download } from '../dom.js';
import { pagedList } from '../list.js';

export async function render() {
  const list = pagedList({ id: 'batch-list', path: 'admin/coupon-batches', render: batchTable });
  await list.load();
  return h('div', { class: 'page' },
    h('h1', { tabindex: -1 }, 'Coupon batches'),
    createForm(list.reload),
    h('section', { 'aria-labelledby': 'batches-list-title' },
      h('h2', { id: 'batches-list-title' }, 'All batches'), list.el));
}

function batchTable(rows, reload) {
  return table('Coupon batches', [
    ['Batch', (b) => h('span', null, h('strong', null, b.name ?? `batch ${b.id}`),
      b.voidedAt ? [' ', h('span', { class: 'tag disabled' }, 'void')] : null,
      h('br'), h('small', null, `#${b.id}`, b.sku ? ` · SKU ${b.sku}` : ''))],
    ['Points', (b) => fmt.num(b.points)],
    ['Redeemed', (b) => h('span', { class: 'progress' },
      h('progress', { max: String(b.count || 1), value: String(b.redeemed), 'aria-label': `Batch ${b.id} redeemed` }),
      h('span', { 'data-batch-redeemed': b.id }, `${fmt.num(b.redeemed)} / ${fmt.num(b.count)}`))],
    ['Expired', (b) => fmt.num(b.expired)],
    ['Voided', (b) => fmt.num(b.voided)],
    ['Points issued', (b) => fmt.num(b.pointsIssued)],
    ['Created', (b) => fmt.time(b.createdAt)],
    ['Expires', (b) => fmt.time(b.expiresAt)],
    ['Actions', (b) => actions(b, reload)],
  ], rows, { empty: 'No coupon batch yet.' });
}

function actions(batch, reload) {
  const note = status();
  const label = h('span', { class: 'visually-hidden' }, ` batch ${batch.id}`);
  const csv = async () => {
    try {
      const response = await api('GET', `admin/coupon-batches/${batch.id}/coupons.csv`, { raw: true });
      const name = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') ?? '')?.[1]
        ?? `batch-${batch.id}-coupons.csv`;
      download(await response.blob(), name);
      note.ok('CSV downloaded.');
    } catch (error) {
      note.fail(error.describe());
    }
  };
  const unredeemed = batch.count - batch.redeemed - (batch.voided ?? 0);
  const voidBatch = async () => {
    if (!window.confirm(`Void batch ${batch.id} (${batch.name ?? 'unnamed'})? Its ${unredeemed} unredeemed coupons stop working; redeemed ones stay.`)) return;
    try {
      await api('POST', `admin/coupon-batches/${batch.id}/void`, { idempotencyKey: newIdempotencyKey() });
      reload();
    } catch (error) {
      note.fail(error.describe());
    }
  };
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'small', onclick: csv }, 'CSV', label.cloneNode(true)),
    h('button', { type: 'button', class: 'small danger', onclick: voidBatch, disabled: Boolean(batch.voidedAt) || unredeemed <= 0 }, 'Void', label),
    note.el);
}

function createForm(reload) {
  const note = status();
  let idempotencyKey = newIdempotencyKey();
  const form = h('form', { class: 'create' },
    field('Name', h('input', { name: 'batchName', maxlength: 200, placeholder: 'Launch campaign' }), 'Optional.'),
    field('SKU', h('input', { name: 'sku', maxlength: 200 }), 'Optional.'),
    field('Points per coupon', h('input', { name: 'points', type: 'number', min: 1, max: 1000000, value: '50', required: true })),
    field('Number of coupons', h('input', { name: 'count', type: 'number', min: 1, value: '100', required: true })),
    field('Expires (UTC)', h('input', { name: 'expiresAt', type: 'datetime-local' }), 'Optional; in the future.'),
    h('button', { type: 'submit' }, 'Create batch'));
  form.addEventListener('input', () => { idempotencyKey = newIdempotencyKey(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const text = (name) => f.get(name).trim() || undefined;
    try {
      const answer = await api('POST', 'coupons/generate', {
        idempotencyKey,
        body: {
          count: Number(f.get('count')), points: Number(f.get('points')),
          batchName: text('batchName'), sku: text('sku'), expiresAt: utcFromLocalInput(f.get('expiresAt')),
        },
      });
      idempotencyKey = newIdempotencyKey();
      note.ok(`Created batch #${answer.batchId} with ${fmt.num(answer.count)} coupons. Download its CSV below.`);
      reload();
    } catch (error) {
      note.fail(error.describe());
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'batches-create-title' },
    h('h2', { id: 'batches-create-title' }, 'Create a batch'), form, note.el);
}
