// Integration: a real containerd started by the launcher, on the host and inside a
// network namespace (nsenter --net), answering CRI; stopped by its recorded PID and torn
// down without leaving a process, a mount, a rule or a file behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CriClient } from '@keel/cri';
import { readRecord, runningPid, startContainerd, teardownNode, type RunningContainerd } from '@keel/containerd';

const work = mkdtempSync(join(tmpdir(), 'keel-launcher-test-'));
const netns = `keel-lt-${process.pid}`;
const started: RunningContainerd[] = [];

afterAll(async () => {
  for (const node of started) await node.stop({ removeDir: true });
  execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}, 60_000);

const ourProcess = (node: RunningContainerd) =>
  existsSync(`/proc/${node.pid}/cmdline`) && readFileSync(`/proc/${node.pid}/cmdline`, 'utf8').includes(node.paths.config);

const canConnect = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });

describe('containerd launcher', () => {
  it('starts containerd on the host, answers CRI, and stops it by PID leaving nothing behind', async () => {
    const node = await startContainerd({
      dir: join(work, 'keel-host-node'),
      sandboxImage: '127.0.0.1:5000/keel/pause:3.9',
      podCidr: '10.244.241.0/24',
      bridge: 'keel-lt0',
    });
    started.push(node);
    expect(readFileSync(node.paths.pidFile, 'utf8').trim()).toBe(String(node.pid));
    expect(runningPid(node.paths.dir)).toBe(node.pid);
    expect(readRecord(node.paths.dir)).toMatchObject({ pid: node.pid, bridge: 'keel-lt0', network: 'keel-host-node', egressGuard: true });

    const client = new CriClient(node.endpoint);
    expect((await client.version()).runtime_name).toBe('containerd');
    expect(await client.conditions()).toMatchObject({ RuntimeReady: true, NetworkReady: true });
    client.close();
    expect(await canConnect('127.0.0.1', node.record.streamPort)).toBe(true);
    expect(execFileSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' })).toContain('keel keel-host-node egress guard');
    await expect(startContainerd({ dir: node.paths.dir, sandboxImage: 'x' })).rejects.toThrow(/already running/);

    const report = await node.stop();
    expect(report.problems).toEqual([]);
    expect(report.removed).toEqual(expect.arrayContaining(['containerd', 'egress guard']));
    expect(ourProcess(node)).toBe(false);
    expect(existsSync(node.paths.pidFile)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(node.paths.dir);
    expect(execFileSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' })).not.toContain('keel-host-node');
    expect(runningPid(node.paths.dir)).toBeUndefined();
  });

  it("runs containerd inside a node's network namespace with nsenter", async () => {
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const node = await startContainerd({
      dir: join(work, 'keel-ns-node'),
      sandboxImage: '127.0.0.1:5000/keel/pause:3.9',
      podCidr: '10.244.244.0/24',
      bridge: 'keel-lt1',
      netns,
      streamAddress: '127.0.0.1',
    });
    started.push(node);
    // The same network namespace as the one named in /var/run/netns.
    const inode = (path: string) => statSync(path).ino;
    expect(inode(`/proc/${node.pid}/ns/net`)).toBe(inode(`/var/run/netns/${netns}`));
    const client = new CriClient(node.endpoint);
    expect((await client.version()).runtime_api_version).toBe('v1');
    client.close();
    expect(node.record).toMatchObject({ netns, egressGuard: false, streamPort: 10010 });

    const report = await teardownNode(node.paths.dir);
    expect(report.problems).toEqual([]);
    expect(ourProcess(node)).toBe(false);
  });

  it('refuses a pod CIDR that overlaps a route it does not own', async () => {
    execFileSync('ip', ['-n', netns, 'addr', 'add', '10.99.0.1/24', 'dev', 'lo']);
    const attempt = startContainerd({ dir: join(work, 'keel-clash-node'), sandboxImage: 'x', podCidr: '10.99.0.0/16', bridge: 'keel-lt2', netns });
    // Should it start anyway, it must still be stopped.
    attempt.then((node) => started.push(node), () => undefined);
    await expect(attempt).rejects.toThrow(/overlaps the route 10\.99\.0\.0\/24/);
  });
});
