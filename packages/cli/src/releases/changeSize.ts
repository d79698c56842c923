import { spawnSync } from 'node:child_process';
import { ReleasesHttpClient } from './client';

/** A full or abbreviated commit hash; nothing else reaches git's command line from a release. */
const COMMIT = /^[0-9a-f]{7,64}$/i;

/** The size of the change from `base` to HEAD, as the risk model's metadata features. */
export interface ChangeSize {
  linesAdded: number;
  linesDeleted: number;
  filesChanged: number;
}

/**
 * Lines added and deleted and files changed between `base` (the previous release's commit) and
 * HEAD, from `git diff --numstat`; binary files count as changed files without lines. A reason
 * instead when the checkout cannot tell: `base` is not a commit hash, or not in this clone (a
 * shallow clone: fetch with enough depth).
 */
export function gitChangeSize(base: string, cwd = process.cwd()): ChangeSize | { unknown: string } {
  if (!COMMIT.test(base)) return { unknown: `the previous release's commit '${base.slice(0, 80)}' is not a commit hash` };
  const known = spawnSync('git', ['cat-file', '-e', `${base}^{commit}`], { cwd, encoding: 'utf8' });
  if (known.error || known.status !== 0) {
    return { unknown: `the previous release's commit ${base.slice(0, 12)} is not in this checkout (a shallow clone? fetch more history)` };
  }
  const diff = spawnSync('git', ['diff', '--numstat', '--no-renames', base, 'HEAD', '--'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (diff.error || diff.status !== 0) return { unknown: `git diff ${base.slice(0, 12)} HEAD failed: ${(diff.stderr || String(diff.error)).trim().slice(0, 200)}` };
  const size: ChangeSize = { linesAdded: 0, linesDeleted: 0, filesChanged: 0 };
  for (const line of diff.stdout.split('\n')) {
    const [added, deleted] = line.split('\t');
    if (added === undefined || deleted === undefined) continue;
    size.filesChanged++;
    size.linesAdded += Number(added) || 0;
    size.linesDeleted += Number(deleted) || 0;
  }
  return size;
}

/** `checkout` or `default/checkout` as `component:default/checkout`, the form releases are stored under. */
export function fullEntityRef(ref: string): string {
  const [kind, rest] = ref.includes(':') ? [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)] : ['component', ref];
  const full = rest.includes('/') ? rest : `default/${rest}`;
  return `${kind.toLowerCase()}:${full}`;
}

/**
 * The change's size from the commit of the entity's last succeeded release (what runs now) to
 * HEAD; a reason instead when there is no such release, it stored no commit, or the checkout lacks it.
 */
export async function changeSizeSinceLastRelease(
  client: Pick<ReleasesHttpClient, 'list'>,
  entityRef: string,
  cwd = process.cwd(),
): Promise<(ChangeSize & { base: string }) | { unknown: string }> {
  const { items } = await client.list({ entityRef, state: 'succeeded', limit: 1 });
  const base = items[0]?.metadata?.commit;
  if (typeof base !== 'string') {
    return { unknown: items.length ? `the last release of ${entityRef} (${items[0].version}) stored no commit` : `${entityRef} has no succeeded release to compare with` };
  }
  const size = gitChangeSize(base, cwd);
  return 'unknown' in size ? size : { ...size, base };
}
