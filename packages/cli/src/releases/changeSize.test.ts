import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { changeSizeSinceLastRelease, fullEntityRef, gitChangeSize } from './changeSize';

/** A real repository: a first commit (the release that runs now), then a change of two files. */
function repository() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-diff-'));
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dana', GIT_AUTHOR_EMAIL: 'd@example.com', GIT_COMMITTER_NAME: 'Dana', GIT_COMMITTER_EMAIL: 'd@example.com' } });
    expect(result.status).toBe(0);
    return result.stdout.trim();
  };
  git('init', '-q');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'one\ntwo\nthree\n');
  fs.writeFileSync(path.join(dir, 'b.bin'), Buffer.from([0, 1, 2, 3]));
  git('add', '.');
  git('commit', '-q', '-m', 'released');
  const released = git('rev-parse', 'HEAD');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n2\nthree\nfour\nfive\n');
  fs.writeFileSync(path.join(dir, 'b.bin'), Buffer.from([0, 1, 2, 4]));
  fs.writeFileSync(path.join(dir, 'c.txt'), 'new\n');
  git('add', '.');
  git('commit', '-q', '-m', 'the change');
  return { dir, released };
}

const client = (items: Array<{ version: string; metadata?: Record<string, unknown> }>) => {
  const list = jest.fn(async (_query: { entityRef: string; state?: string; limit?: number }) => ({ items: items as any[], totalCount: items.length }));
  return { list };
};

describe('the change size since the last release', () => {
  it('counts lines and files between the stored commit and HEAD in a real repository', async () => {
    const { dir, released } = repository();
    // a.txt: 1 line changed and 2 added (+3 -1); b.bin: binary, a file without lines; c.txt: +1.
    expect(gitChangeSize(released, dir)).toEqual({ linesAdded: 4, linesDeleted: 1, filesChanged: 3 });
    expect(gitChangeSize(released.slice(0, 10), dir)).toEqual({ linesAdded: 4, linesDeleted: 1, filesChanged: 3 });
    const fake = client([{ version: '1.0.0', metadata: { commit: released } }]);
    expect(await changeSizeSinceLastRelease(fake, 'component:default/checkout', dir)).toEqual({ linesAdded: 4, linesDeleted: 1, filesChanged: 3, base: released });
    expect(fake.list).toHaveBeenCalledWith({ entityRef: 'component:default/checkout', state: 'succeeded', limit: 1 });
  });

  it('says why it is unknown instead of guessing: no release, no commit, not a hash, not in the clone', async () => {
    const { dir } = repository();
    expect(await changeSizeSinceLastRelease(client([]), 'component:default/checkout', dir)).toEqual({ unknown: 'component:default/checkout has no succeeded release to compare with' });
    expect(await changeSizeSinceLastRelease(client([{ version: '1.0.0', metadata: {} }]), 'component:default/checkout', dir)).toEqual({ unknown: 'the last release of component:default/checkout (1.0.0) stored no commit' });
    expect(gitChangeSize('--output=/tmp/pwned', dir)).toEqual({ unknown: "the previous release's commit '--output=/tmp/pwned' is not a commit hash" });
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
    expect(gitChangeSize('0123456789abcdef0123456789abcdef01234567', dir)).toEqual({
      unknown: "the previous release's commit 0123456789ab is not in this checkout (a shallow clone? fetch more history)",
    });
  });

  it('writes entity refs the way releases are stored', () => {
    expect(fullEntityRef('checkout')).toBe('component:default/checkout');
    expect(fullEntityRef('team/checkout')).toBe('component:team/checkout');
    expect(fullEntityRef('Component:default/checkout')).toBe('component:default/checkout');
  });
});
