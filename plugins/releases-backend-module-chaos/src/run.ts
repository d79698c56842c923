import { execFile } from 'node:child_process';

/** Runs a program without a shell; rejects with its stderr on a non-zero exit or after `timeoutMs`. */
export function run(program: string, args: readonly string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: options.timeoutMs ?? 10_000, env: options.env ?? process.env }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${program} ${args.join(' ')}: ${(stderr || error.message).trim().slice(0, 500)}`));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
