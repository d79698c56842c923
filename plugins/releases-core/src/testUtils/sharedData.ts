import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Reads a file of the project's shared data folder: `../shared` beside the repository (as developers
 * and CI have it), or RELEASE_PILOT_SHARED_DIR. A missing file fails the test that needs it.
 */
export function readSharedJson<T>(relativePath: string): T {
  const root = process.env.RELEASE_PILOT_SHARED_DIR ?? resolve(dirname(require.resolve('@release-pilot/plugin-releases-core/package.json')), '../../../shared');
  const file = resolve(root, relativePath);
  if (!existsSync(file)) {
    throw new Error(`Shared test data ${file} is missing; set RELEASE_PILOT_SHARED_DIR to the shared/ folder`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
