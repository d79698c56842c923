import { spawnSync } from 'node:child_process';

/**
 * The release metadata a pipeline's checkout knows: the HEAD commit, its commit time (the team
 * overview's lead time runs from it to the release's success) and its author (the risk model's
 * author features). Undefined outside a git work tree or without git.
 */
export function gitMetadata(cwd = process.cwd()): { commit: string; commitTime: string; author: string } | undefined {
  const result = spawnSync('git', ['log', '-1', '--format=%H%n%cI%n%ae'], { cwd, encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  const [commit, commitTime, author] = result.stdout.trim().split('\n');
  if (!commit || !commitTime || Number.isNaN(Date.parse(commitTime))) return undefined;
  return { commit, commitTime: new Date(commitTime).toISOString(), author: author ?? '' };
}

