import { ConfigReader } from '@backstage/config';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandDeployer, readCommandDeployerOptions } from './CommandDeployer';

/*
 * A real program as the team's deploy step: it writes the version it deployed to a file per side
 * (after a short delay, like a restart); the readiness URLs answer with what the files hold.
 */

const dir = mkdtempSync(join(tmpdir(), 'rp-command-'));
const script = join(dir, 'deploy.js');
writeFileSync(
  script,
  `const fs = require('fs');
   const { RELEASE_PILOT_ACTION: action, RELEASE_PILOT_SIDE: side, RELEASE_PILOT_VERSION: version, RELEASE_PILOT_ENTITY_NAME: name, RELEASE_PILOT_FENCING_TOKEN: token } = process.env;
   if (version.endsWith('-broken')) { console.error('no such image: ' + version); process.exit(3); }
   fs.appendFileSync(${JSON.stringify(join(dir, 'calls'))}, [action, side, version, name, token].join(' ') + '\\n');
   setTimeout(() => fs.writeFileSync(${JSON.stringify(dir)} + '/' + side, action === 'deploy' ? version : ''), 300);`,
);
const server = http.createServer((req, res) => {
  const side = req.url!.split('/')[2];
  let version = '';
  try {
    version = readFileSync(join(dir, side), 'utf8');
  } catch {
    // not deployed yet
  }
  res.writeHead(version ? 200 : 503).end(version ? JSON.stringify({ version }) : 'down');
});
let base: string;
beforeAll(async () => {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'stable'), '1.4.1');
});
afterAll(() => server.close());

const deployer = () =>
  new CommandDeployer(
    readCommandDeployerOptions(
      new ConfigReader({
        type: 'command',
        command: [process.execPath, script],
        readiness: { canary: `${base}/\${entityName}/canary`, stable: `${base}/\${entityName}/stable` },
        scaleDown: true,
      }),
      'releases.targets.vm.deployer',
    ),
  );
const context = { entityRef: 'component:default/checkout', releaseId: 'r1', version: '1.4.2', annotations: {}, fencingToken: 7 };
const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');

async function untilDone(call: () => Promise<{ done: boolean }>) {
  for (let i = 0; i < 100; i++) {
    if ((await call()).done) return i;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  throw new Error('not done after 5 s');
}

describe('CommandDeployer', () => {
  it('runs the command once per side and version, then waits until the side answers with the version', async () => {
    const d = deployer();
    expect(await d.readSides(context)).toEqual({ stable: '1.4.1', canary: undefined });
    const first = await d.ensure(context, 'canary', '1.4.2');
    expect(first).toEqual({ done: false, progress: 'started the deploy command; the canary side answers nothing yet', sides: { canary: undefined } });
    expect(await untilDone(() => d.ensure(context, 'canary', '1.4.2'))).toBeGreaterThan(0);
    await untilDone(() => d.ensure(context, 'stable', '1.4.2'));
    await untilDone(() => d.scaleDownCanary(context));
    // The step hears the lease's fencing token, to refuse a stale replica's call if it keeps the highest.
    expect(calls()).toEqual(['deploy canary 1.4.2 checkout 7', 'deploy stable 1.4.2 checkout 7', 'scale-down canary - checkout 7']);
    // Repeated after a crash (a new deployer, as another replica has): the side answers the version, nothing runs.
    expect(await deployer().ensure(context, 'stable', '1.4.2')).toMatchObject({ done: true, sides: { stable: '1.4.2' } });
    expect(calls()).toHaveLength(3);
  });

  it("reports a failed run with the program's output, and runs it again on the next call", async () => {
    const d = deployer();
    await d.ensure(context, 'canary', '1.5.0-broken');
    await new Promise(resolve => setTimeout(resolve, 500));
    await expect(d.ensure(context, 'canary', '1.5.0-broken')).rejects.toThrow('the deploy command failed: exited with 3: no such image: 1.5.0-broken');
    expect((await d.ensure(context, 'canary', '1.5.0-broken')).progress).toMatch(/^started the deploy command/);
  });

  it('names the bad key of its config', () => {
    const read = (block: object) => readCommandDeployerOptions(new ConfigReader({ type: 'command', readiness: { canary: 'http://a/v', stable: 'http://b/v' }, ...block }), 'releases.targets.vm.deployer');
    expect(() => read({})).toThrow('Invalid config releases.targets.vm.deployer.command: set either command or url');
    expect(() => read({ command: ['x'], url: 'http://ci/hook' })).toThrow(/set either command or url/);
    expect(() => read({ command: 'deploy.sh' })).toThrow(/releases.targets.vm.deployer.command/);
  });
});
