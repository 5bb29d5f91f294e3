// keel-pki: makes a cluster's certificates offline. `cluster` does everything `keel up` needs
// (CA, apiserver serving cert, a client cert and kubeconfig per component and node, the
// ServiceAccount key pair) and prints the file paths as JSON; the other commands make one piece.
//   npx tsx tools/pki/src/main.ts cluster --dir /tmp/keel-pki --nodes n1,n2 --server https://127.0.0.1:6443
import { Command, CommanderError } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, createClusterPki, createServiceAccountKeys, issueCert, kubeconfig } from '@keel/pki';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const program = new Command('keel-pki').description('Keel PKI: a CA, serving and client certificates, ServiceAccount keys, kubeconfigs').exitOverride();

program
  .command('cluster')
  .description('everything a local cluster needs, under --dir (an existing CA is reused)')
  .requiredOption('--dir <dir>', 'output folder')
  .option('--hosts <list>', 'SANs of the apiserver serving certificate', list, ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'])
  .option('--nodes <list>', 'node names, one client certificate each (system:node:<name>)', list, [])
  .option('--server <url>', 'apiserver URL written into the kubeconfigs', 'https://127.0.0.1:6443')
  .action(async (o: { dir: string; hosts: string[]; nodes: string[]; server: string }) => {
    const pki = await createClusterPki(o.dir, { hosts: o.hosts, nodes: o.nodes });
    const kubeconfigs: Record<string, string> = {};
    for (const [name, client] of Object.entries(pki.clients)) {
      const file = join(o.dir, `${name}.kubeconfig`);
      writeFileSync(file, kubeconfig({ server: o.server, caFile: pki.ca.certFile, client, user: client.user }), { mode: 0o600 });
      kubeconfigs[name] = file;
    }
    process.stdout.write(JSON.stringify({ ...pki, kubeconfigs }, null, 2) + '\n');
  });

program
  .command('ca')
  .description('a self-signed CA (<dir>/ca.crt, ca.key)')
  .requiredOption('--dir <dir>', 'output folder')
  .option('--cn <name>', 'subject CN', 'keel-ca')
  .action(async (o: { dir: string; cn: string }) => {
    process.stdout.write(JSON.stringify(await createCa(o.dir, { cn: o.cn })) + '\n');
  });

program
  .command('cert')
  .description('a certificate signed by <dir>/ca.crt')
  .requiredOption('--dir <dir>', 'folder holding ca.crt and ca.key; output goes there too')
  .requiredOption('--name <file>', 'file name stem (<name>.crt, <name>.key)')
  .requiredOption('--cn <cn>', 'subject CN (the user name of a client certificate)')
  .option('--groups <list>', 'subject O entries (the user\'s groups)', list, [])
  .option('--usage <usage>', 'client, server or both', 'client')
  .option('--hosts <list>', 'SANs (IPs and DNS names)', list, [])
  .action(async (o: { dir: string; name: string; cn: string; groups: string[]; usage: string; hosts: string[] }) => {
    if (!['client', 'server', 'both'].includes(o.usage)) throw new Error(`--usage must be client, server or both, not "${o.usage}"`);
    const ca = { certFile: join(o.dir, 'ca.crt'), keyFile: join(o.dir, 'ca.key') };
    const files = await issueCert(ca, o.dir, o.name, { cn: o.cn, groups: o.groups, usage: o.usage as 'client', hosts: o.hosts });
    process.stdout.write(JSON.stringify(files) + '\n');
  });

program
  .command('sa-keys')
  .description('the ServiceAccount token signing key (sa.key) and its public key (sa.pub)')
  .requiredOption('--dir <dir>', 'output folder')
  .action((o: { dir: string }) => {
    process.stdout.write(JSON.stringify(createServiceAccountKeys(o.dir)) + '\n');
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? 0 : 2);
  process.stderr.write(`keel-pki: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
