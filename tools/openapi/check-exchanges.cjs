#!/usr/bin/env node
// The response checker of `make test`: validates every request and
// response the integration suite exchanged (recorded by
// tests/integration/harness.c, one JSON line each) against the OpenAPI
// document, then reports every documented status that no test produced.
//
//   node check-exchanges.cjs build/openapi.json build/exchanges
//
// Fails (exit 1) on any mismatch, naming the route, the status and the
// schema path, and on any documented status no test produced.  What is
// marked `x-mocaverse-pending` (described ahead of its code) is excused
// and listed.  NODE_PATH must name the pinned tools' node_modules.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const COMPONENTS_ID = 'mv:components';

// Resolves an OpenAPI-level $ref ('#/components/responses/X') in doc.
function deref(doc, node) {
  while (node && typeof node.$ref === 'string') {
    const parts = node.$ref.replace(/^#\//, '').split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    node = parts.reduce((n, p) => (n === undefined ? n : n[p]), doc);
  }
  return node;
}

// Schema refs of the document point into components/schemas; the checker
// registers those once under COMPONENTS_ID and points refs there.
function rewriteRefs(schema) {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = COMPONENTS_ID + '#/$defs/' + v.slice('#/components/schemas/'.length);
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

class Checker {
  constructor(doc) {
    this.doc = doc;
    const options = { strict: false, allErrors: true };
    this.ajv = new Ajv2020(options);
    // Parameters travel as text: query and path values are coerced.
    this.ajvParams = new Ajv2020({ ...options, coerceTypes: true });
    const defs = rewriteRefs((doc.components && doc.components.schemas) || {});
    for (const a of [this.ajv, this.ajvParams]) {
      addFormats(a);
      a.addSchema({ $id: COMPONENTS_ID, $defs: defs });
    }
    this.compiled = new Map();
    this.routes = Object.keys(doc.paths).map((template) => ({
      template,
      item: doc.paths[template],
      re: new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{[^}]+\}/g, '([^/]+)') + '$'),
      names: (template.match(/\{[^}]+\}/g) || []).map((n) => n.slice(1, -1)),
    }));
    this.produced = new Set(); // "METHOD template status", and "generic 404/405"
    this.skipped = [];          // answers that httpd gave itself
    this.pendingSeen = new Set();
  }

  validator(where, schema, params) {
    const key = (params ? 'p:' : 'b:') + where;
    if (!this.compiled.has(key)) {
      const a = params ? this.ajvParams : this.ajv;
      this.compiled.set(key, a.compile(rewriteRefs(schema)));
    }
    return this.compiled.get(key);
  }

  // Validates value; returns problems "schema path (at instance path): message".
  // Parameter values are text, coerced to the schema's type in a wrapper.
  validate(where, schema, value, params = false) {
    if (params) {
      const v = this.validator(where, { type: 'object', properties: { value: schema } }, true);
      return v({ value }) ? [] : v.errors.map((e) =>
        `${where}${e.schemaPath.replace(/^#\/properties\/value/, '')}: ${e.message}`);
    }
    const v = this.validator(where, schema, false);
    return v(value) ? [] : v.errors.map((e) =>
      `${where}${e.schemaPath.replace(/^#/, '')} (at ${e.instancePath || '/'}): ${e.message}`);
  }

  match(urlPath) {
    for (const r of this.routes) {
      const m = r.re.exec(urlPath);
      if (m) {
        const params = {};
        r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
        return { route: r, params, prefix: '' };
      }
    }
    return null;
  }

  // The route of a path.  Tests that mount the module under a <Location>
  // (test_deployment) send the prefix in the path: the longest suffix
  // that is a documented path is the route, the rest the prefix.
  locate(urlPath) {
    const segments = urlPath.split('/');
    if (urlPath === '/') return null;
    for (let i = 1; i < segments.length; i++) {
      const rest = '/' + segments.slice(i).join('/');
      const found = this.match(rest);
      if (found) return { ...found, prefix: segments.slice(0, i).join('/') };
    }
    return null;
  }

  // Every answer of the module is application/json, or a media type its
  // operation documents (the admin CSV); a 304 has none.
  fromModule(op, status, ctype) {
    if (ctype === '' || ctype === 'application/json') return true;
    const resp = op && deref(this.doc, op.responses[String(status)]);
    return Boolean(resp && resp.content && resp.content[ctype]);
  }

  // Checks one recorded exchange; returns a list of problems (empty: fine).
  check(x) {
    const problems = [];
    // The path as httpd sees it: dot segments (also %2e) resolved.
    const url = new URL(x.path, 'http://module.invalid');
    const rawPath = url.pathname;
    const query = url.search.slice(1);
    const method = x.method.toUpperCase();
    const lookupMethod = method === 'HEAD' ? 'get' : method.toLowerCase();
    const headers = x.responseHeaders || {};
    const ctype = (headers['content-type'] || '').split(';')[0].trim();
    // On the main instance the module owns every path below the base URL;
    // other instances (deployment shapes) may mount it under a prefix.
    const found = x.main ? this.match(rawPath) : this.locate(rawPath);
    const op = found && found.route.item[lookupMethod];

    if (!this.fromModule(op, x.status, ctype) && (!x.main || (!found && x.status === 400))) {
      // Not the module's answer: on the main instance only httpd's refusal
      // of a request before any module ran (SPEC §3: a 400 for a malformed
      // path); elsewhere also a path outside the module's <Location>.
      this.skipped.push(`${method} ${x.path} → ${x.status} ${ctype} (not the module's answer)`);
      return problems;
    }
    let response;
    let where;
    let label;
    const pendingOp = op && op['x-mocaverse-pending'];
    if (!found || (pendingOp && x.status === 404)) {
      label = `${method} ${x.path} (no route)`;
      where = '#/components/responses/NotFound';
      response = this.doc.components.responses.NotFound;
      if (x.status !== 404) problems.push(`${label}: answered ${x.status}, a path that matches no route must get 404`);
      this.produced.add('generic 404');
    } else if (!op || (pendingOp && x.status === 405)) {
      label = `${method} ${found.prefix}${found.route.template} (method not allowed)`;
      where = '#/components/responses/MethodNotAllowed';
      response = this.doc.components.responses.MethodNotAllowed;
      if (x.status !== 405) problems.push(`${label}: answered ${x.status}, an undocumented method must get 405`);
      this.produced.add('generic 405');
      if (pendingOp) this.pendingSeen.add(`${method} ${found.route.template}: not in the code yet (${pendingOp})`);
    } else {
      label = `${method} ${found.prefix}${found.route.template} → ${x.status}`;
      const ptr = `#/paths/${found.route.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${lookupMethod}`;
      where = `${ptr}/responses/${x.status}`;
      response = deref(this.doc, op.responses[String(x.status)]);
      if (!response) {
        problems.push(`${label}: status ${x.status} is not documented (${ptr}/responses)`);
        return problems;
      }
      this.produced.add(`${lookupMethod.toUpperCase()} ${found.route.template} ${x.status}`);
      if (x.status >= 200 && x.status < 300) {
        problems.push(...this.checkRequest(x, op, found, query, ptr).map((p) => `${label}: request: ${p}`));
      }
    }
    problems.push(...this.checkResponse(x, response, where, method, ctype).map((p) => `${label}: ${p}`));
    return problems;
  }

  checkResponse(x, response, where, method, ctype) {
    const problems = [];
    const headers = x.responseHeaders || {};
    for (const [name, h0] of Object.entries(response.headers || {})) {
      const h = deref(this.doc, h0);
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (h.required) problems.push(`header ${name} is required (${where}/headers/${name})`);
        continue;
      }
      if (h.schema) {
        problems.push(...this.validate(`${where}/headers/${name}/schema`, h.schema, value));
      }
    }
    const content = response.content;
    const bodyText = x.responseBody;
    if (!content) {
      if (bodyText && bodyText.length > 0) problems.push(`a body where none is documented (${where})`);
      return problems;
    }
    if (!content[ctype]) {
      problems.push(`Content-Type ${ctype || '(none)'} is not documented (${where}/content: ${Object.keys(content).join(', ')})`);
      return problems;
    }
    if (method === 'HEAD') return problems;
    if (typeof bodyText !== 'string') {
      problems.push('the body is not UTF-8');
      return problems;
    }
    const media = content[ctype];
    if (!media.schema) return problems;
    let body = bodyText;
    if (ctype === 'application/json') {
      try {
        body = JSON.parse(bodyText);
      } catch (e) {
        problems.push(`the body is not JSON: ${e.message}`);
        return problems;
      }
    }
    const schemaWhere = `${where}/content/${ctype.replace(/\//g, '~1')}/schema`;
    problems.push(...this.validate(schemaWhere, media.schema, body)
      .map((p) => `${p}; body ${bodyText.slice(0, 300)}`));
    return problems;
  }

  // The request of a successful exchange must be one the document allows.
  checkRequest(x, op, found, query, ptr) {
    const problems = [];
    const reqHeaders = x.requestHeaders || {};
    const params = (op.parameters || []).map((p) => deref(this.doc, p));
    const queryValues = new URLSearchParams(query);
    for (const p of params) {
      let value;
      if (p.in === 'path') value = found.params[p.name];
      else if (p.in === 'query') value = queryValues.has(p.name) ? queryValues.get(p.name) : undefined;
      else if (p.in === 'header') value = reqHeaders[p.name.toLowerCase()];
      if (value === undefined) {
        if (p.required) problems.push(`${p.in} parameter ${p.name} is required`);
        continue;
      }
      if (p.schema) {
        problems.push(...this.validate(`${ptr}/parameters/${p.name}/schema`, p.schema, value, true));
      }
    }
    const security = op.security || this.doc.security || [];
    if (security.length > 0) {
      const has = {
        bearerAuth: /^bearer /i.test(reqHeaders.authorization || ''),
        adminKey: 'x-admin-key' in reqHeaders || 'x-api-key' in reqHeaders,
      };
      if (!security.some((req) => Object.keys(req).every((s) => has[s]))) {
        problems.push(`answered 2xx without the credentials of ${JSON.stringify(security)}`);
      }
    }
    const rb = deref(this.doc, op.requestBody);
    if (rb) {
      const ctype = (reqHeaders['content-type'] || '').split(';')[0].trim();
      const media = rb.content && rb.content[ctype];
      if (!media) {
        problems.push(`request Content-Type ${ctype || '(none)'} is not documented`);
      } else if (media.schema) {
        let body;
        try {
          body = JSON.parse(x.requestBody);
        } catch (e) {
          problems.push(`the request body is not JSON: ${e.message}`);
          return problems;
        }
        problems.push(...this.validate(`${ptr}/requestBody/content/${ctype.replace(/\//g, '~1')}/schema`, media.schema, body));
      }
    }
    return problems;
  }

  // Every documented status of every implemented operation: produced,
  // pending (excused), or missing.
  coverage() {
    const missing = [];
    const pending = [];
    let documented = 0;
    for (const r of this.routes) {
      for (const m of METHODS) {
        const op = r.item[m];
        if (!op) continue;
        for (const [status, resp0] of Object.entries(op.responses || {})) {
          const resp = deref(this.doc, resp0);
          const key = `${m.toUpperCase()} ${r.template} ${status}`;
          documented++;
          if (this.produced.has(key)) continue;
          const marker = op['x-mocaverse-pending'] || (resp && resp['x-mocaverse-pending']);
          if (marker) pending.push(`${key} (${marker})`);
          else missing.push(key);
        }
      }
    }
    for (const g of ['generic 404', 'generic 405']) {
      documented++;
      if (!this.produced.has(g)) missing.push(g);
    }
    return { documented, missing, pending };
  }
}

function readExchanges(dir) {
  const out = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean);
    for (const l of lines) out.push(JSON.parse(l));
  }
  return out;
}

function main(argv) {
  if (argv.length !== 2) {
    console.error('usage: check-exchanges.cjs OPENAPI.json EXCHANGES_DIR');
    return 2;
  }
  const doc = JSON.parse(fs.readFileSync(argv[0], 'utf8'));
  const exchanges = readExchanges(argv[1]);
  const checker = new Checker(doc);
  const failures = [];
  for (const x of exchanges) {
    for (const p of checker.check(x)) failures.push(`[${x.program}] ${p}`);
  }
  console.log(`openapi check: ${exchanges.length} exchanges validated against ${argv[0]}`);
  if (checker.skipped.length) {
    console.log(`  ${checker.skipped.length} answered by httpd, not the module (not held to the document):`);
    for (const s of [...new Set(checker.skipped)]) console.log(`    ${s}`);
  }
  for (const s of checker.pendingSeen) console.log(`  PENDING ${s}`);
  const cov = checker.coverage();
  console.log(`openapi coverage: ${cov.documented - cov.missing.length - cov.pending.length} of ${cov.documented} documented statuses produced`);
  for (const p of cov.pending) console.log(`  PENDING (excused, documented ahead of the code): ${p}`);
  for (const m of cov.missing) console.log(`  MISSING: no test produced ${m}`);
  if (exchanges.length === 0) failures.push('no exchanges were recorded');
  const shown = failures.slice(0, 60);
  for (const f of shown) console.log(`FAIL: ${f}`);
  if (failures.length > shown.length) console.log(`FAIL: ... and ${failures.length - shown.length} more`);
  const failed = failures.length > 0 || cov.missing.length > 0;
  console.log(`openapi: ${failed ? 'FAILED' : 'passed'}` +
    ` (${failures.length} mismatches, ${cov.missing.length} statuses unexercised)`);
  return failed ? 1 : 0;
}

module.exports = { Checker, readExchanges, main };

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
