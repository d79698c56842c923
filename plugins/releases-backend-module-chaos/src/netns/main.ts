import { ensureNamespace, removeNamespace } from './namespaces';

/** `release-pilot-netns up NAME HOST_CIDR INSIDE_CIDR | down NAME`: the namespace an instance runs in (`ip netns exec NAME ...`). */
export function netnsMain(argv: string[]): void {
  const [action, name, hostAddress, address] = argv;
  let work: Promise<void> | undefined;
  if (action === 'up' && address) work = ensureNamespace(name, hostAddress, address);
  else if (action === 'down' && name) work = removeNamespace(name);
  if (!work) {
    process.stderr.write('usage: release-pilot-netns up NAME 10.203.0.1/30 10.203.0.2/30 | down NAME\n');
    process.exit(2);
  }
  work.then(
    () => process.exit(0),
    error => {
      process.stderr.write(`release-pilot-netns: ${error.message}\n`);
      process.exit(1);
    },
  );
}
