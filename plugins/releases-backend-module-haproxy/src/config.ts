import { Config } from '@backstage/config';
import { parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';
import { parseRuntimeApiAddress } from './RuntimeApi';

const serverName = z.string().regex(/^[\w.-]+$/, 'a server name has letters, digits, ".", "_" or "-"');

export const haproxyOptionsSchema = z
  .object({
    type: z.literal('haproxy'),
    /** The runtime API: host:port of a `stats socket ipv4@host:port level admin`, or unix:/path. */
    runtimeApi: z.string().superRefine((value, ctx) => {
      try {
        parseRuntimeApiAddress(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
    /** The backend (section) holding both pools; `${entityName}` is filled in. Default `${entityName}`. */
    backend: z.string().regex(/^[\w.${}-]+$/).default('${entityName}'),
    stableServers: z.array(serverName).min(1).default(['stable']),
    canaryServers: z.array(serverName).min(1).default(['canary']),
    timeoutSeconds: z.number().positive().max(60).default(5),
  })
  .strict();

export type HaproxyOptions = z.infer<typeof haproxyOptionsSchema>;

/** Reads a target's `router` block, throwing an Error that names each bad key under `at`. */
export function readHaproxyOptions(config: Config, at: string): HaproxyOptions {
  return parseConfigBlock(haproxyOptionsSchema, config, at);
}
