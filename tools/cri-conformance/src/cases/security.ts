// Cases for the security context and resources the agent sets: run as a user and
// group, a read-only root filesystem, dropped capabilities, no privileges by default,
// and a memory limit that shows in the container's cgroup (and follows an update).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, skip } from '../errors';
import type { Fixture } from '../fixture';
import type { ConformanceCase } from '../suite';

const SLEEP = ['sleep', '3600'];
const CAP = { CHOWN: 0, NET_RAW: 13, SYS_ADMIN: 21 } as const;

/** The capability sets of a process in the container, as bigint masks. */
async function caps(f: Fixture, container: string): Promise<{ eff: bigint; bnd: bigint }> {
  const out = (await f.exec(container, ['grep', '^Cap', '/proc/self/status'])).stdout;
  const get = (name: string) => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(out);
    check(m, `no ${name} in /proc/self/status: ${JSON.stringify(out)}`);
    return BigInt(`0x${m[1]}`);
  };
  return { eff: get('CapEff'), bnd: get('CapBnd') };
}

const has = (mask: bigint, bit: number) => ((mask >> BigInt(bit)) & 1n) === 1n;

async function memoryLimitInside(f: Fixture, container: string): Promise<string> {
  const r = await f.exec(container, ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
  return r.stdout.trim();
}

export const securityCases: ConformanceCase[] = [
  {
    name: 'security/run-as-user',
    description: 'run_as_user and run_as_group set the process identity',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, {
        command: SLEEP,
        linux: { security_context: { run_as_user: { value: '1000' }, run_as_group: { value: '3000' } } },
      });
      const uid = (await f.exec(c, ['id', '-u'])).stdout.trim();
      const gid = (await f.exec(c, ['id', '-g'])).stdout.trim();
      check(uid === '1000' && gid === '3000', `uid ${uid} gid ${gid}, want 1000 and 3000`);
      const status = (await f.exec(c, ['grep', '^[UG]id:', '/proc/self/status'])).stdout;
      check(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m.test(status), `real/effective/saved uids: ${JSON.stringify(status)}`);
      check(/^Gid:\s+3000\s+3000\s+3000\s+3000$/m.test(status), `real/effective/saved gids: ${JSON.stringify(status)}`);
    },
  },
  {
    name: 'security/readonly-rootfs',
    description: 'readonly_rootfs makes the root filesystem read-only',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, {
        command: SLEEP,
        linux: { security_context: { readonly_rootfs: true } },
      });
      const r = await f.exec(c, ['sh', '-c', 'touch /probe']);
      check(r.exitCode !== 0, 'writing to / succeeded');
      check(/read-only/i.test(r.stderr), `error does not say read-only: ${JSON.stringify(r.stderr)}`);
    },
  },
  {
    name: 'security/capabilities-drop',
    description: 'dropped capabilities leave the effective and bounding sets',
    async run(f) {
      const pod = await f.runPod();
      const plain = await f.container(pod, 'plain', f.images.busybox, { command: SLEEP });
      const dropped = await f.container(pod, 'dropped', f.images.busybox, {
        command: SLEEP,
        linux: { security_context: { capabilities: { drop_capabilities: ['CHOWN', 'NET_RAW'] } } },
      });
      const before = await caps(f, plain);
      check(has(before.eff, CAP.CHOWN) && has(before.eff, CAP.NET_RAW), 'the default set lacks CHOWN/NET_RAW: nothing to drop');
      const after = await caps(f, dropped);
      for (const [name, bit] of [['CHOWN', CAP.CHOWN], ['NET_RAW', CAP.NET_RAW]] as const) {
        check(!has(after.eff, bit) && !has(after.bnd, bit), `${name} still present (CapEff ${after.eff.toString(16)}, CapBnd ${after.bnd.toString(16)})`);
      }
      const r = await f.exec(dropped, ['sh', '-c', 'echo x > /tmp/f && chown 65534 /tmp/f']);
      check(r.exitCode !== 0, 'chown succeeded without CAP_CHOWN');
    },
  },
  {
    name: 'security/privileged-off-by-default',
    description: 'a container is not privileged unless asked: no CAP_SYS_ADMIN, no mounts',
    async run(f) {
      const pod = await f.runPod();
      const c = await f.container(pod, 'main', f.images.busybox, { command: SLEEP });
      const { eff, bnd } = await caps(f, c);
      check(!has(eff, CAP.SYS_ADMIN) && !has(bnd, CAP.SYS_ADMIN), `CAP_SYS_ADMIN present (CapEff ${eff.toString(16)})`);
      const m = await f.exec(c, ['sh', '-c', 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m']);
      check(m.exitCode !== 0, 'an unprivileged container could mount a tmpfs');
    },
  },
  {
    name: 'resources/memory-limit',
    description: "memory_limit_in_bytes shows in the container's cgroup and follows UpdateContainerResources",
    async run(f) {
      const pod = await f.runPod();
      const limit = 64 * 1024 * 1024;
      const c = await f.container(pod, 'main', f.images.busybox, {
        command: SLEEP,
        linux: { resources: { memory_limit_in_bytes: String(limit) } },
      });
      const inside = await memoryLimitInside(f, c);
      if (inside === '') skip('no memory cgroup visible in the container');
      check(inside === String(limit), `memory limit in the container's cgroup is ${inside}, want ${limit}`);
      // From the host too, when the runtime shares this machine: <parent>/<container id>.
      const hostFile = join('/sys/fs/cgroup/memory', pod.config.linux?.cgroup_parent ?? '', c, 'memory.limit_in_bytes');
      if (existsSync(hostFile)) {
        const onHost = readFileSync(hostFile, 'utf8').trim();
        check(onHost === String(limit), `host cgroup ${hostFile} says ${onHost}`);
      }
      const raised = 96 * 1024 * 1024;
      await f.client.updateContainerResources(c, { memory_limit_in_bytes: String(raised) });
      const updated = await memoryLimitInside(f, c);
      check(updated === String(raised), `after UpdateContainerResources the limit is ${updated}, want ${raised}`);
    },
  },
];
