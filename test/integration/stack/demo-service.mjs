#!/usr/bin/env node
// A small HTTP service for the integration stack, exporting Prometheus metrics in the text format:
//   http_requests_total{code}, http_request_duration_seconds_bucket{le} (and _sum, _count).
// Usage: demo-service.mjs --port N --version V [--fault none|errors|production|late]
//                         [--host H] [--dependency URL]
//   errors:     8 % of requests answer 500 and every request takes 150 ms longer (a bad release);
//   production: the same, but only for requests without the X-Preview header (a version that
//               passes its blue-green preview and fails under real traffic);
//   late:       the same, from 6 s after its first request without X-Preview (a leak that shows
//               only after the switch, during the blue-green bake).
// --dependency: every request first reads URL (its database, say) through a pool of 16 connections;
// a version ending in -fragile has 2. A request that waits more than 250 ms for a connection
// answers 503 (pool exhausted), one whose dependency call fails answers 502: the checkout incident,
// healthy under normal dependency latency and collapsing when the dependency slows down.
// GET /stats (not counted) answers {version, requests, firstRequestAt}; POST /admin?version=V&fault=F
// switches the running instance to another version and fault (scripts/stack.sh's "pipeline").
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    version: { type: 'string', default: '1.0.0' },
    fault: { type: 'string', default: 'none' },
    dependency: { type: 'string' },
  },
});
const FAULTS = ['none', 'errors', 'production', 'late'];
if (!FAULTS.includes(args.fault)) {
  console.error(`--fault must be none, errors, production or late, not '${args.fault}'`);
  process.exit(2);
}

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const buckets = new Array(BOUNDS.length).fill(0);
const codes = new Map();
let count = 0;
let sum = 0;
let firstRequestAt;
let firstUserRequestAt;

function observe(code, seconds) {
  codes.set(code, (codes.get(code) ?? 0) + 1);
  count++;
  sum += seconds;
  BOUNDS.forEach((le, i) => { if (seconds <= le) buckets[i]++; });
}

function metrics() {
  const lines = ['# TYPE http_requests_total counter'];
  for (const [code, n] of codes) lines.push(`http_requests_total{code="${code}"} ${n}`);
  lines.push('# TYPE http_request_duration_seconds histogram');
  BOUNDS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${buckets[i]}`));
  lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${count}`);
  lines.push(`http_request_duration_seconds_sum ${sum}`, `http_request_duration_seconds_count ${count}`);
  lines.push('# TYPE demo_build_info gauge', `demo_build_info{version="${args.version}"} 1`);
  return `${lines.join('\n')}\n`;
}

// The dependency's connection pool: at most `size` calls in flight, the rest wait up to 250 ms.
const pool = { size: args.version.endsWith('-fragile') ? 2 : 16, busy: 0, waiting: [] };
const agent = new http.Agent({ keepAlive: true });
function acquire() {
  if (pool.busy < pool.size) {
    pool.busy++;
    return Promise.resolve(true);
  }
  return new Promise(resolve => {
    const waiter = { resolve, timer: setTimeout(() => { pool.waiting.splice(pool.waiting.indexOf(waiter), 1); resolve(false); }, 250) };
    pool.waiting.push(waiter);
  });
}
function release() {
  const next = pool.waiting.shift();
  if (next) {
    clearTimeout(next.timer);
    next.resolve(true);
  } else pool.busy--;
}
/** 200, or the status this request answers because its dependency call failed (503: no connection, 502: the call failed). */
async function callDependency() {
  if (!args.dependency) return 200;
  if (!(await acquire())) return 503;
  try {
    return await new Promise(resolve => {
      const req = http.get(args.dependency, { agent, timeout: 2000 }, res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? 200 : 502));
        res.on('error', () => resolve(502));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(502));
    });
  } finally {
    release();
  }
}

const server = http.createServer((req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(metrics());
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/admin?')) {
    const query = new URL(req.url, 'http://demo').searchParams;
    const fault = query.get('fault') ?? 'none';
    if (!FAULTS.includes(fault)) {
      res.writeHead(400).end(`fault must be one of ${FAULTS.join(', ')}\n`);
      return;
    }
    args.fault = fault;
    args.version = query.get('version') ?? args.version;
    firstUserRequestAt = undefined;
    res.writeHead(204).end();
    return;
  }
  if (req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version: args.version, requests: count, firstRequestAt }));
    return;
  }
  const started = process.hrtime.bigint();
  firstRequestAt ??= new Date().toISOString();
  const user = !req.headers['x-preview'];
  if (user) firstUserRequestAt ??= Date.now();
  const faulty =
    args.fault === 'errors' ||
    (args.fault === 'production' && user) ||
    (args.fault === 'late' && user && Date.now() - firstUserRequestAt > 6000);
  const delay = 2 + Math.random() * 8 + (faulty ? 150 : 0);
  setTimeout(async () => {
    const dependency = await callDependency();
    const code = dependency !== 200 ? dependency : faulty && Math.random() < 0.08 ? 500 : 200;
    res.writeHead(code, { 'content-type': 'text/plain' });
    res.end(code === 200 ? `checkout ${args.version}\n` : code === 500 ? 'injected fault\n' : `dependency failed (${code})\n`);
    observe(String(code), Number(process.hrtime.bigint() - started) / 1e9);
  }, delay);
});
server.keepAliveTimeout = 30_000;
server.listen(Number(args.port), args.host, () => console.log(`demo-service ${args.version} (${args.fault}) on ${args.port}`));
// Graceful stop: no new connections, in-flight requests answered, idle keep-alive connections closed as they go idle.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setInterval(() => server.closeIdleConnections(), 50).unref();
});
