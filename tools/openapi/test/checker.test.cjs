// Tests of the checkers themselves (node --test, run by `make openapi-check`):
// the response checker rejects answers that break the document, and the
// route-set check fails on any difference between code and document.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { Checker } = require('../check-exchanges.cjs');

const ROOT = path.resolve(__dirname, '../../..');
const DOC_PATH = path.join(ROOT, 'build/openapi.json');
const doc = () => JSON.parse(fs.readFileSync(DOC_PATH, 'utf8'));

function exchange(fields) {
  return {
    program: 'checker-test',
    main: true,
    method: 'GET',
    path: '/version',
    requestHeaders: {},
    requestBody: null,
    status: 200,
    responseHeaders: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    responseBody: '{"name":"mod_mocaverse","version":"0.1.0"}',
    ...fields,
  };
}

test('a response that follows the document passes', () => {
  const c = new Checker(doc());
  assert.deepStrictEqual(c.check(exchange({})), []);
});

test('a deliberately wrong response body is rejected with route, status and schema path', () => {
  const c = new Checker(doc());
  const problems = c.check(exchange({ responseBody: '{"name":"mod_mocaverse","version":1}' }));
  assert.strictEqual(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /^GET \/version → 200: /);
  assert.match(problems[0], /#\/paths\/~1version\/get\/responses\/200\/content\/application~1json\/schema\/properties\/version\/type/);
  assert.match(problems[0], /must be string/);
});

test('an error body without its code, or with a code the route does not use, is rejected', () => {
  const c = new Checker(doc());
  const base = {
    method: 'POST', path: '/scan', status: 404,
    requestHeaders: { authorization: 'Bearer x.y.z', 'content-type': 'application/json' },
    requestBody: '{"token":"00000000-0000-4000-8000-000000000000"}',
  };
  assert.deepStrictEqual(c.check(exchange({ ...base, responseBody: '{"error":"No coupon has this token.","code":"coupon_not_found"}' })), []);
  const wrongCode = c.check(exchange({ ...base, responseBody: '{"error":"x","code":"not_found"}' }));
  assert.ok(wrongCode.some((p) => /allOf\/1\/properties\/code\/const/.test(p)), wrongCode.join('\n'));
  const noCode = c.check(exchange({ ...base, responseBody: '{"error":"x"}' }));
  assert.ok(noCode.some((p) => /Error\/required.*must have required property 'code'/.test(p)), noCode.join('\n'));
});

test('an undocumented status, a wrong Content-Type and a missing required header are rejected', () => {
  const c = new Checker(doc());
  assert.match(c.check(exchange({ status: 418 }))[0], /status 418 is not documented/);
  assert.match(c.check(exchange({ responseHeaders: { 'content-type': 'text/html', 'cache-control': 'no-store' } }))[0], /Content-Type text\/html is not documented/);
  const p = c.check(exchange({
    method: 'POST', path: '/auth/refresh', status: 429,
    requestHeaders: { 'content-type': 'application/json' }, requestBody: '{}',
    responseBody: '{"error":"Too many requests; try again later.","code":"rate_limited"}',
  }));
  assert.ok(p.some((x) => /header Retry-After is required/.test(x)), p.join('\n'));
});

test('a header that breaks its schema is rejected', () => {
  const c = new Checker(doc());
  const p = c.check(exchange({
    path: '/me', status: 401,
    responseHeaders: { 'content-type': 'application/json', ratelimit: 'api;r=1;t=2' },
    responseBody: '{"error":"A valid access token is required.","code":"unauthorized"}',
  }));
  assert.deepStrictEqual(p, []); // 401 documents no RateLimit header: not checked
  const q = c.check(exchange({
    path: '/me', status: 429,
    responseHeaders: { 'content-type': 'application/json', 'retry-after': '3', ratelimit: 'api;r=1;t=2' },
    responseBody: '{"error":"Too many requests; try again later.","code":"rate_limited"}',
  }));
  assert.ok(q.some((x) => /headers\/RateLimit\/schema\/pattern/.test(x)), q.join('\n'));
});

test('unknown paths must get the generic 404, wrong methods the generic 405 with Allow', () => {
  const c = new Checker(doc());
  assert.deepStrictEqual(c.check(exchange({ path: '/nope', status: 404, responseBody: '{"error":"No such route.","code":"not_found"}' })), []);
  assert.match(c.check(exchange({ path: '/nope', status: 200 }))[0], /must get 404/);
  const p = c.check(exchange({ method: 'POST', path: '/health', status: 405, responseBody: '{"error":"x","code":"method_not_allowed"}' }));
  assert.ok(p.some((x) => /header Allow is required/.test(x)), p.join('\n'));
});

test('a 2xx answer to a request the document does not allow is rejected', () => {
  const c = new Checker(doc());
  const p = c.check(exchange({
    method: 'POST', path: '/coupons/generate', status: 200,
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: '{"count":0,"points":5}',
    responseBody: '{"success":true,"count":1,"batchId":1,"tokens":["0b0c2a1e-3f4d-4b6a-9c8d-7e6f5a4b3c2d"]}',
  }));
  assert.ok(p.some((x) => /request: answered 2xx without the credentials/.test(x)), p.join('\n'));
  assert.ok(p.some((x) => /requestBody.*properties\/count\/minimum/.test(x)), p.join('\n'));
});

test('under a <Location> prefix the route is found and still checked; answers that are not the module\'s are skipped', () => {
  const c = new Checker(doc());
  const other = { main: false };
  assert.deepStrictEqual(c.check(exchange({ ...other, path: '/v1/api/version' })), []);
  const p = c.check(exchange({ ...other, path: '/v1/api/version', responseBody: '{"name":"x","version":"0.1.0"}' }));
  assert.ok(p.some((x) => /^GET \/v1\/api\/version → 200: .*properties\/name\/const/.test(x)), p.join('\n'));
  const html = { status: 404, responseHeaders: { 'content-type': 'text/html' }, responseBody: '<html>' };
  assert.deepStrictEqual(c.check(exchange({ ...other, path: '/elsewhere/version', ...html })), []);
  assert.strictEqual(c.skipped.length, 1);
  // On the main instance the module owns every path: an HTML answer on a
  // route is a failure, and a prefix is not stripped.
  assert.match(c.check(exchange({ path: '/version', ...html }))[0], /status 404 is not documented/);
  assert.match(c.check(exchange({ path: '/v1/api/version' }))[0], /must get 404/);
});

test('coverage lists documented statuses no exchange produced, and excuses pending ones', () => {
  const c = new Checker(doc());
  c.check(exchange({}));
  const cov = c.coverage();
  assert.ok(!cov.missing.includes('GET /version 200'));
  assert.ok(cov.missing.includes('GET /health 503'));
  assert.ok(cov.pending.some((p) => p.startsWith('GET /admin/audit 200')));
  assert.ok(cov.pending.some((p) => /^POST \/scan 422 \(issue 10\)/.test(p)));
});

test('the route-set check fails when the code and the document differ', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvroutes-'));
  try {
    const d = doc();
    const routesPy = path.join(ROOT, 'tools/openapi/routes.py');
    const sources = fs.readdirSync(path.join(ROOT, 'src')).filter((f) => f.endsWith('.c'))
      .map((f) => path.join(ROOT, 'src', f));
    const run = (docPath) => spawnSync('python3', [routesPy, docPath, path.join(ROOT, 'src/dispatch.c'), ...sources], { encoding: 'utf8' });
    const same = path.join(dir, 'same.json');
    fs.writeFileSync(same, JSON.stringify(d));
    assert.strictEqual(run(same).status, 0, run(same).stdout);
    delete d.paths['/version'];
    const missing = path.join(dir, 'missing.json');
    fs.writeFileSync(missing, JSON.stringify(d));
    const r = run(missing);
    assert.strictEqual(r.status, 1);
    assert.match(r.stdout, /in the code, not in the document: GET \/version/);
    d.paths['/health'].get['x-mocaverse-pending'] = 'issue 99';
    fs.writeFileSync(missing, JSON.stringify(d));
    assert.match(run(missing).stdout, /marked x-mocaverse-pending \(issue 99\): GET \/health: drop the marker/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
