import fs from 'node:fs/promises';
import path from 'node:path';
import { Instance } from './instances';

/**
 * Small files in the injectors' state directory: what a backend applied, so the same backend after
 * a restart, or another replica on the host, neither applies it twice nor loses track of it.
 */
export class StateFiles {
  constructor(private readonly directory: string) {}

  /** The file's path for an instance and a purpose; the instance is named by its URL, hashed to a safe name. */
  pathOf(instance: Instance, purpose: string): string {
    const key = Buffer.from(instance.url).toString('base64url').slice(0, 120);
    return path.join(this.directory, `${key}.${purpose}`);
  }

  async read(file: string): Promise<string | undefined> {
    return fs.readFile(file, 'utf8').catch(() => undefined);
  }

  async write(file: string, content: string): Promise<void> {
    await fs.mkdir(this.directory, { recursive: true, mode: 0o700 });
    await fs.writeFile(file, content, { mode: 0o600 });
  }

  async remove(file: string): Promise<void> {
    await fs.rm(file, { force: true });
  }
}

/** The command line of a running process, or undefined when it is gone. */
export async function commandLineOf(pid: number): Promise<string | undefined> {
  const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return raw?.split('\0').join(' ').trim() || undefined;
}
