// The dashboard: sign-ups and scans over time, the invite funnel, the
// k-factor, top inviters and redemption per batch, from GET /admin/analytics.
import { Chart, registerables } from '../../lib/chart.js/chart.esm.js';
import { api } from '../api.js';
import { h, field, select, status, fmt, table } from '../dom.js';

Chart.register(...registerables);
Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.maintainAspectRatio = false;
// Figures appear as they are: no growing bars (nor a half-drawn screenshot).
Chart.defaults.animation = false;

const DAY = 86400000;
// The charts on screen: destroyed before new ones are drawn, so a chart of a
// page that was left does not keep listening for resizes.
let charts = [];
const isoDate = (t) => new Date(t).toISOString().slice(0, 10);

export async function render() {
  const today = Date.now();
  const controls = h('form', { class: 'filters', 'aria-label': 'Period' },
    field('From', h('input', { name: 'from', type: 'date', required: true, value: isoDate(today - 29 * DAY) })),
    field('To', h('input', { name: 'to', type: 'date', required: true, value: isoDate(today) })),
    field('Interval', select('interval', [['day', 'Day'], ['week', 'Week']], 'day')),
    h('button', { type: 'submit' }, 'Refresh'));
  const body = h('div', { id: 'dashboard-body' });
  const note = status();
  async function load() {
    const f = new FormData(controls);
    // Whole UTC days: from the first day's midnight to the midnight after the last.
    const answer = await api('GET', 'admin/analytics', {
      query: {
        from: `${f.get('from')}T00:00:00Z`,
        to: new Date(Date.parse(`${f.get('to')}T00:00:00Z`) + DAY).toISOString().replace('.000Z', 'Z'),
        interval: f.get('interval'),
      },
    });
    charts.forEach((c) => c.destroy());
    const view = dashboard(answer);
    body.replaceChildren(view.el);
    charts = view.draw();
  }
  controls.addEventListener('submit', (event) => {
    event.preventDefault();
    load().then(note.clear, (e) => note.fail(e.describe()));
  });
  await load();
  return h('div', { class: 'page' }, h('h1', { tabindex: -1 }, 'Dashboard'), controls, note.el, body);
}

const sum = (buckets, pick) => buckets.reduce((total, b) => total + (Number(pick(b)) || 0), 0);

function dashboard(a) {
  const buckets = a.buckets ?? [];
  const signupsEmail = (b) => b.signupsEmail ?? 0;
  const signupsOtp = (b) => b.signupsOtp ?? 0;
  const figures = h('div', { class: 'figures' },
    figure('signups', 'Sign-ups', sum(buckets, (b) => signupsEmail(b) + signupsOtp(b))),
    figure('invite-uses', 'Invite uses', sum(buckets, (b) => b.inviteUses)),
    figure('scans', 'Scans', sum(buckets, (b) => b.scans)),
    figure('points', 'Points issued', sum(buckets, (b) => b.pointsIssued)),
    figure('k-factor', 'k-factor', a.kFactor === null || a.kFactor === undefined ? '–' : Number(a.kFactor).toFixed(2),
      'invitees per inviting user'));
  const labels = buckets.map((b) => (b.start ?? '').slice(5, 10)); // MM-DD
  const signupCanvas = h('canvas', { role: 'img', 'aria-label': 'Sign-ups per interval, by method' });
  const scanCanvas = h('canvas', { role: 'img', 'aria-label': 'Scans and points issued per interval' });
  const el = h('div', null, figures,
    h('div', { class: 'charts' },
      h('section', { class: 'card' }, h('h2', null, 'Sign-ups'), h('div', { class: 'chart' }, signupCanvas)),
      h('section', { class: 'card' }, h('h2', null, 'Scans'), h('div', { class: 'chart' }, scanCanvas))),
    h('div', { class: 'charts' },
      h('section', { class: 'card', 'aria-labelledby': 'funnel-title' }, h('h2', { id: 'funnel-title' }, 'Invite funnel'), funnel(a.funnel ?? {})),
      h('section', { class: 'card' }, h('h2', null, 'Top inviters'),
        table('Top inviters', [
          ['User', (u) => h('a', { href: `#/users/${u.id}` }, fmt.who(u))],
          ['Invitees', (u) => fmt.num(u.invitees)],
        ], a.topInviters ?? [], { empty: 'No invitations in this period.' }))),
    h('section', { class: 'card' }, h('h2', null, 'Redemption per batch'),
      table('Redemption rate per batch', [
        ['Batch', (b) => b.name ?? `batch ${b.id}`],
        ['Redeemed', (b) => `${fmt.num(b.redeemed)} / ${fmt.num(b.count)}`],
        ['Rate', (b) => h('span', { class: 'progress' },
          h('progress', { max: '1', value: String(b.redemptionRate ?? 0), 'aria-label': `Batch ${b.id} redemption rate` }),
          fmt.pct(b.redemptionRate))],
      ], a.batches ?? [], { empty: 'No coupon batch yet.' })));
  const draw = () => [
    new Chart(signupCanvas, {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'E-mail with invite', data: buckets.map(signupsEmail), backgroundColor: '#2f5d8a' },
          { label: 'One-time code', data: buckets.map(signupsOtp), backgroundColor: '#7fb0d8' },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    new Chart(scanCanvas, {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'Scans', data: buckets.map((b) => b.scans ?? 0), borderColor: '#b5542f', backgroundColor: '#b5542f', yAxisID: 'y' },
          { label: 'Points issued', data: buckets.map((b) => b.pointsIssued ?? 0), borderColor: '#5a8a2f', backgroundColor: '#5a8a2f', borderDash: [6, 4], yAxisID: 'points' },
        ],
      },
      options: {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'scans' } },
          points: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'points' } },
        },
      },
    }),
  ];
  return { el, draw };
}

function figure(name, label, value, hint) {
  return h('div', { class: 'figure' },
    h('span', { class: 'label' }, label),
    h('strong', { 'data-figure': name }, typeof value === 'number' ? fmt.num(value) : value),
    hint && h('small', null, hint));
}

// Each stage as a bar relative to the first, with its share of the one before.
function funnel(f) {
  const stages = [
    ['Codes held by users', f.codesHeld],
    ['Codes used at least once', f.codesUsed],
    ['Invitees', f.invitees],
    ['Invitees who scanned', f.inviteesScanned],
  ];
  const top = Math.max(1, Number(stages[0][1]) || 0, ...stages.map(([, v]) => Number(v) || 0));
  return h('ol', { class: 'funnel' }, stages.map(([label, value], i) => {
    const previous = i > 0 ? Number(stages[i - 1][1]) : null;
    return h('li', null,
      h('span', { class: 'label' }, label),
      h('progress', { max: String(top), value: String(value ?? 0), 'aria-hidden': 'true' }),
      h('strong', { 'data-funnel': i }, fmt.num(value)),
      previous ? h('small', null, ` ${fmt.pct((Number(value) || 0) / previous)} of previous`) : null);
  }));
}
