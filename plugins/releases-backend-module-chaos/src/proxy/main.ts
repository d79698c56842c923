import { parseArgs } from 'node:util';
import { startFaultProxy } from './faultProxy';

/** `release-pilot-fault-proxy --port N --target URL --control-port N`: the fault proxy as a process of its own. */
export function faultProxyMain(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, target: { type: 'string' }, 'control-port': { type: 'string' } } });
  const port = Number(values.port);
  const controlPort = Number(values['control-port']);
  if (!Number.isInteger(port) || !Number.isInteger(controlPort) || !/^http:\/\/\S+$/.test(values.target ?? '')) {
    process.stderr.write('usage: release-pilot-fault-proxy --port N --target http://host:port --control-port N\n');
    process.exit(2);
  }
  startFaultProxy({ port, host: values.host, target: values.target!, controlPort }).then(
    () => process.stdout.write(`release-pilot-fault-proxy on ${port} to ${values.target}, control on 127.0.0.1:${controlPort}\n`),
    error => {
      process.stderr.write(`release-pilot-fault-proxy: ${error.message}\n`);
      process.exit(1);
    },
  );
  process.on('SIGTERM', () => process.exit(0));
}
