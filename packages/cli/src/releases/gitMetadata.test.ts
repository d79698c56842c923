import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitMetadata } from './gitMetadata';

describe('gitMetadata', () => {
  it('reads the HEAD commit, its commit time in UTC and its author from a real repository', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-git-'));
    const git = (...args: string[]) => {
      const result = spawnSync('git', args, {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Dana', GIT_AUTHOR_EMAIL: 'dana@example.com', GIT_AUTHOR_DATE: '2026-11-20T09:30:00+02:00',
          GIT_COMMITTER_NAME: 'Dana', GIT_COMMITTER_EMAIL: 'dana@example.com', GIT_COMMITTER_DATE: '2026-11-20T09:30:00+02:00',
        },
      });
      expect(result.status).toBe(0);
      return result.stdout.trim();
    };
    git('init', '-q');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'first');
    expect(gitMetadata(dir)).toEqual({ commit: git('rev-parse', 'HEAD'), commitTime: '2026-11-20T07:30:00.000Z', author: 'dana@example.com' });
  });

  it('is undefined outside a repository', () => {
    expect(gitMetadata(fs.mkdtempSync(path.join(os.tmpdir(), 'rp-nogit-')))).toBeUndefined();
  });
});
