import net from 'node:net';

/** HAProxy's runtime API did not answer or refused a command. */
export class HaproxyError extends Error {
  name = 'HaproxyError';
}

/** Where the runtime API listens: `host:port` (a `stats socket ipv4@...`) or a unix socket path. */
export function parseRuntimeApiAddress(address: string): net.NetConnectOpts {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  if (address.startsWith('/')) return { path: address };
  const match = /^(?:tcp:\/\/)?([^:/\s]+|\[[^\]]+\]):(\d{1,5})$/.exec(address);
  if (!match || Number(match[2]) > 65535) {
    throw new Error(`'${address}' is not a runtime API address; use host:port (e.g. 127.0.0.1:9999) or unix:/path/to/admin.sock`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/**
 * HAProxy's runtime API (the admin-level stats socket): one connection per command, as the
 * non-interactive mode expects; the answer is what HAProxy writes before it closes the connection.
 */
export class RuntimeApi {
  constructor(
    private readonly address: string,
    private readonly timeoutMs: number,
  ) {}

  /** Sends one command and resolves with HAProxy's answer, trimmed. */
  command(command: string): Promise<string> {
    const options = parseRuntimeApiAddress(this.address);
    return new Promise((resolve, reject) => {
      const socket = net.connect(options);
      const chunks: Buffer[] = [];
      const fail = (why: string) => {
        socket.destroy();
        reject(new HaproxyError(`HAProxy runtime API at ${this.address}: ${why} (command: ${command})`));
      };
      socket.setTimeout(this.timeoutMs, () => fail(`no answer within ${this.timeoutMs} ms`));
      socket.on('connect', () => socket.end(`${command}\n`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', error => fail(error.message));
      socket.on('close', hadError => {
        if (!hadError) resolve(Buffer.concat(chunks).toString('utf8').trim());
      });
    });
  }
}
