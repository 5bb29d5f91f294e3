// `tsx tools/containerd/src/main.ts start|stop|teardown|config`: one node's containerd
// from the command line (development and `keel up`); the same calls the tests make.
import { Command } from 'commander';
import { resolve } from 'node:path';
import { renderNodeFiles, runningPid, startContainerd, stopContainerd, teardownNode } from '@keel/containerd';

const program = new Command('keel-containerd').description("a Keel node's containerd: config, start, stop, teardown");

program
  .command('start')
  .requiredOption('--dir <dir>', 'the node folder (named keel-…)')
  .option('--sandbox-image <ref>', 'the pause image', '127.0.0.1:5000/keel/pause:3.9')
  .option('--pod-cidr <cidr>', "the node's pod CIDR", '10.244.0.0/24')
  .option('--bridge <name>', 'the CNI bridge', 'keel-cni0')
  .option('--node-ip <ip>', 'stream server address', '127.0.0.1')
  .option('--stream-port <port>', 'stream server port (default: a free one)')
  .option('--netns <name>', 'run in /var/run/netns/<name>')
  .option('--registry <host=url...>', 'registry mirrors', ['127.0.0.1:5000=http://127.0.0.1:5000'])
  .action(async (o: Record<string, string | string[] | undefined>) => {
    const running = await startContainerd({
      dir: resolve(String(o['dir'])),
      sandboxImage: String(o['sandboxImage']),
      podCidr: String(o['podCidr']),
      bridge: String(o['bridge']),
      streamAddress: String(o['nodeIp']),
      streamPort: o['streamPort'] ? Number(o['streamPort']) : undefined,
      netns: o['netns'] as string | undefined,
      registries: (o['registry'] as string[]).map((r) => {
        const [host, endpoint] = r.split('=');
        if (!host || !endpoint) throw new Error(`--registry wants host=url, got ${r}`);
        return { host, endpoint };
      }),
    });
    console.log(`containerd running (pid ${running.pid}) at ${running.endpoint}; pods under cgroup ${running.cgroupParent}`);
  });

program
  .command('stop')
  .description('stop containerd by its recorded PID (pods keep running)')
  .requiredOption('--dir <dir>', 'the node folder')
  .action(async (o: { dir: string }) => {
    console.log((await stopContainerd(resolve(o.dir))) ? 'containerd stopped' : 'containerd was not running');
  });

program
  .command('teardown')
  .description('remove pods, stop containerd and clean up what it left (cgroups, CNI rules, bridge, mounts)')
  .requiredOption('--dir <dir>', 'the node folder')
  .option('--remove-dir', 'also delete the node folder')
  .action(async (o: { dir: string; removeDir?: boolean }) => {
    const report = await teardownNode(resolve(o.dir), { removeDir: o.removeDir });
    for (const r of report.removed) console.log(`removed ${r}`);
    for (const p of report.problems) console.error(`problem: ${p}`);
    if (report.problems.length) process.exitCode = 1;
  });

program
  .command('status')
  .requiredOption('--dir <dir>', 'the node folder')
  .action((o: { dir: string }) => {
    const pid = runningPid(resolve(o.dir));
    console.log(pid ? `running (pid ${pid})` : 'not running');
    if (!pid) process.exitCode = 3;
  });

program
  .command('config')
  .description('print the files start would write')
  .requiredOption('--dir <dir>', 'the node folder')
  .option('--sandbox-image <ref>', 'the pause image', '127.0.0.1:5000/keel/pause:3.9')
  .option('--pod-cidr <cidr>', "the node's pod CIDR", '10.244.0.0/24')
  .option('--bridge <name>', 'the CNI bridge', 'keel-cni0')
  .action((o: { dir: string; sandboxImage: string; podCidr: string; bridge: string }) => {
    const files = renderNodeFiles({
      dir: resolve(o.dir),
      sandboxImage: o.sandboxImage,
      podCidr: o.podCidr,
      bridge: o.bridge,
      streamAddress: '127.0.0.1',
      streamPort: 10010,
      registries: [{ host: '127.0.0.1:5000', endpoint: 'http://127.0.0.1:5000' }],
    });
    for (const [path, content] of files) console.log(`==> ${path}\n${content}`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`keel-containerd: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
