'use strict';
// server.js — make bench's comparison: GET /health, POST /scan and
// GET /users/:id/wallet written the usual modern way (Fastify,
// node-postgres, jsonwebtoken; one process per core, a pool of 16 per
// process), running the module's own SQL (include/mv_rewards_sql.h,
// printed by bench/sqlgen into SQL_DIR) on the module's own schema, with
// the module's access tokens.  Not part of the product.
//
// Environment: PORT, PGPORT, PGDATABASE, PGUSER, JWT_SECRET_FILE, ISSUER,
// SQL_DIR, WORKERS.
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const workers = Number(process.env.WORKERS || 2);
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (w, code) => console.error(`worker ${w.process.pid} exited ${code}`));
  return;
}

const Fastify = require('fastify');
const { Pool } = require('pg');
const jwt = require('jsonwebtoken');

const sql = (name) => fs.readFileSync(path.join(process.env.SQL_DIR, name + '.sql'), 'utf8');
const SCAN = sql('scan');
const STATUS = sql('scan_status');
const WALLET = sql('wallet');
// The key made once: given the secret as a string, jsonwebtoken makes a
// key object on every verify, which measured 7 times slower here.
const key = crypto.createSecretKey(
  Buffer.from(fs.readFileSync(process.env.JWT_SECRET_FILE, 'utf8').replace(/\n$/, '')));
const issuer = process.env.ISSUER || 'mod_mocaverse';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const pool = new Pool({
  host: '127.0.0.1',
  port: Number(process.env.PGPORT),
  database: process.env.PGDATABASE,
  user: process.env.PGUSER,
  max: 16,
});
const app = Fastify({ logger: false });

const fail = (reply, status, code, error) => reply.code(status).send({ error, code });

// The user id of a valid access token, or null after a 401.
function userOf(req, reply) {
  const h = req.headers.authorization || '';
  if (h.startsWith('Bearer ')) {
    try {
      const c = jwt.verify(h.slice(7), key, { algorithms: ['HS256'], issuer });
      if (c.type === 'access' && /^[1-9][0-9]*$/.test(c.sub)) return c.sub;
    } catch (e) { /* any failure is a 401 */ }
  }
  fail(reply, 401, 'unauthorized', 'A valid access token is required.');
  return null;
}

// /health: a database probe at most one second old, as the module does.
let probedAt = 0;
let healthy = true;
app.get('/health', async (req, reply) => {
  if (Date.now() - probedAt > 1000) {
    probedAt = Date.now();
    try { await pool.query('SELECT 1'); healthy = true; } catch (e) { healthy = false; }
  }
  if (!healthy) return reply.code(503).send({ status: 'unavailable', database: 'down' });
  return { status: 'ok', database: 'ok' };
});

app.post('/scan', async (req, reply) => {
  const uid = userOf(req, reply);
  if (uid === null) return reply;
  const b = req.body || {};
  if (typeof b.token !== 'string' || b.token === '') {
    return fail(reply, 400, 'token_required', 'A coupon token is required.');
  }
  if (!UUID.test(b.token)) return fail(reply, 404, 'coupon_not_found', 'No coupon has this token.');
  const gps = b.gps == null ? null : typeof b.gps === 'string' ? b.gps : JSON.stringify(b.gps);
  const r = await pool.query({
    name: 'scan', text: SCAN,
    values: [b.token.toLowerCase(), uid, b.deviceId ?? null, gps],
  });
  if (r.rows.length === 0) {
    // MV_SQL_SCAN_STATUS: (user active, coupon found, redeemed, ...).
    const s = await pool.query({
      name: 'status', text: STATUS, values: [b.token.toLowerCase(), uid], rowMode: 'array',
    });
    if (!s.rows[0][1]) return fail(reply, 404, 'coupon_not_found', 'No coupon has this token.');
    return fail(reply, 409, 'coupon_already_redeemed', 'This coupon has already been redeemed.');
  }
  const row = r.rows[0];
  return { success: true, points: Number(row.points), balance: Number(row.balance), scanId: Number(row.id) };
});

app.get('/users/:id/wallet', async (req, reply) => {
  const uid = userOf(req, reply);
  if (uid === null) return reply;
  const id = req.params.id;
  const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
  const before = req.query.before === undefined ? null : req.query.before;
  if (!/^[1-9][0-9]*$/.test(id) || !Number.isInteger(limit) || limit < 1 || limit > 200 ||
      (before !== null && !/^[1-9][0-9]*$/.test(before))) {
    return fail(reply, 400, 'validation_failed', 'Invalid parameters.');
  }
  if (id !== uid) return fail(reply, 403, 'forbidden', 'You can only read your own wallet.');
  const r = await pool.query({ name: 'wallet', text: WALLET, values: [id, before, limit + 1] });
  if (r.rows.length === 0) return fail(reply, 404, 'user_not_found', 'No user has this id.');
  const rows = r.rows.filter((x) => x.id !== null);
  return {
    userId: Number(id),
    balance: Number(r.rows[0].balance),
    transactions: rows.slice(0, limit).map((x) => ({
      id: Number(x.id), amount: Number(x.amount), type: x.type,
      couponId: x.coupon_id === null ? null : Number(x.coupon_id),
      createdAt: x.created_at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    })),
    nextBefore: rows.length > limit ? Number(rows[limit - 1].id) : null,
  };
});

app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }).catch((e) => {
  console.error(e);
  process.exit(1);
});
