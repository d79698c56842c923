import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../reliability/postgres';

/** Latency bucket bounds (seconds) of the exporter's histograms, and the share of requests at or below each. */
const BUCKETS: Array<[string, number]> = [
  ['0.05', 0.55],
  ['0.1', 0.9],
  ['0.25', 0.99],
  ['+Inf', 1],
];

/**
 * The metrics of `services` services as a fleet exports them: per service and track (canary,
 * stable), `http_requests_total` by code and `http_request_duration_seconds_bucket`, counting
 * `rps` requests a second per service (10 % to the canary), 0.2 % of them 500s. The counters are
 * functions of the time since the exporter started, so every scrape is exact and cheap.
 */
function exposition(services: number, rps: number, startedAt: number): string {
  const t = (Date.now() - startedAt) / 1000;
  const lines: string[] = [];
  for (let i = 0; i < services; i++) {
    for (const [track, share] of [['canary', 0.1], ['stable', 0.9]] as const) {
      const requests = Math.floor(rps * share * t);
      const errors = Math.floor(requests * 0.002);
      const labels = `service="service-${i}",track="${track}"`;
      lines.push(`http_requests_total{${labels},code="200"} ${requests - errors}`);
      lines.push(`http_requests_total{${labels},code="500"} ${errors}`);
      for (const [le, below] of BUCKETS) lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${Math.floor(requests * below)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * A real Prometheus (Debian's) scraping an exporter of `services` services every second, both
 * started here, on loopback, with Prometheus' data in a temporary directory. `stop()` ends both.
 */
export async function startPrometheusFleet(services: number, rps: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const startedAt = Date.now();
  const exporter = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exposition(services, rps, startedAt));
  });
  const exporterPort = await listen(exporter);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-pilot-bench-prometheus-'));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: ['127.0.0.1:${exporterPort}']\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGKILL');
    exporter.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ready, and holding a few scrapes of every service.
  for (let waited = 0; ; waited += 250) {
    if (waited > 60_000 || child.exitCode !== null) {
      await stop();
      throw new Error(`Prometheus did not become ready on ${url} (is the prometheus package installed?)`);
    }
    const ready = await fetch(`${url}/api/v1/query?query=count(http_requests_total)`).then(r => (r.ok ? r.json() : undefined), () => undefined);
    if (Number(ready?.data?.result?.[0]?.value?.[1]) === services * 4) break;
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  await new Promise(resolve => setTimeout(resolve, 3000));
  return { url, stop };
}
