// Integration: the whole CRI conformance suite against a real containerd 1.6 started by
// tools/containerd, pulling Keel's images from a real docker-registry on a free loopback
// port. Then the same suite against two misconfigured runtimes (a sandbox image the
// registry lacks, a CNI conflist naming a plugin that does not exist): the suite must
// name the failing cases with the reason, quickly, instead of hanging. Everything is torn
// down afterwards and checked to be gone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeLoopbackPort } from '@keel/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, type BuiltImage } from '@keel/tools-images';
import { pushImage, startRegistry, type Registry } from '@keel/tools-registry';
import { startContainerd, type RunningContainerd } from '@keel/tools-containerd';
import { CriClient } from '@keel/cri';
import { allCases, formatResult, runConformance, summaryLine, type ConformanceReport } from '../src';

function print(title: string, report: ConformanceReport): void {
  // The count line gets a prefix here, so it is never mistaken for the test run's own closing line.
  const short = (line: string) => (line.length > 200 ? `${line.slice(0, 200)}…` : line);
  const lines = [title, ...report.results.map((r) => short(formatResult(r))), `${title} took ${(report.durationMs / 1000).toFixed(1)} s: ${summaryLine(report.summary)}`];
  console.log(lines.join('\n'));
}

/** Asserts the node left nothing on the machine: process, mounts, bridge, rules, cgroups. */
function expectGone(node: RunningContainerd): void {
  expect(existsSync(`/proc/${node.pid}/cmdline`) && readFileSync(`/proc/${node.pid}/cmdline`, 'utf8').includes(node.paths.config)).toBe(false);
  expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(node.paths.dir);
  expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(`${node.record.bridge}:`);
  const rules = execFileSync('iptables-save', { encoding: 'utf8' });
  expect(rules).not.toContain(node.record.network);
  expect(existsSync(join('/sys/fs/cgroup/memory', node.cgroupParent))).toBe(false);
  const shims = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(node.paths.socket));
  expect(shims).toEqual([]);
}

describe('CRI conformance against containerd', () => {
  const work = mkdtempSync(join(tmpdir(), 'keel-cri-conformance-test-'));
  let registry: Registry | undefined;
  let images: BuiltImage[] = [];
  const nodes: RunningContainerd[] = [];

  const startNode = async (name: string, overrides: { sandboxImage?: string; cniConflist?: string; podCidr: string; bridge: string }) => {
    const node = await startContainerd({
      dir: join(work, name),
      sandboxImage: overrides.sandboxImage ?? `${registry!.addr}/keel/pause:3.9`,
      podCidr: overrides.podCidr,
      bridge: overrides.bridge,
      registries: [{ host: registry!.addr, endpoint: `http://${registry!.addr}` }],
      cniConflist: overrides.cniConflist,
    });
    nodes.push(node);
    return node;
  };

  const suite = (node: RunningContainerd, podCidr?: string) =>
    runConformance({
      endpoint: node.endpoint,
      imagePrefix: `${registry!.addr}/keel`,
      images: { busybox: `${registry!.addr}/${images.find((i) => i.name === 'keel/busybox')!.ref}` },
      podCidr,
      workDir: join(work, `keel-logs-${node.record.network}`),
    });

  beforeAll(async () => {
    images = await buildImages(join(work, 'images'));
    registry = await startRegistry({ dir: join(work, 'keel-registry'), addr: `127.0.0.1:${await freeLoopbackPort()}` });
    for (const image of images) await pushImage(image.layoutDir, image.ref, registry.addr);
  }, 120_000);

  afterAll(async () => {
    for (const node of nodes) await node.stop({ removeDir: true });
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('passes every case against a well-configured containerd, and cleans up after itself', async () => {
    const podCidr = '10.244.240.0/24';
    const node = await startNode('keel-node-good', { podCidr, bridge: 'keel-ct0' });
    const report = await suite(node, podCidr);
    print('conformance (containerd, well configured)', report);
    expect(report.results.filter((r) => r.status !== 'passed').map(formatResult)).toEqual([]);
    expect(report.summary).toEqual({ passed: allCases.length, failed: 0, skipped: 0 });
    expect(report.cleanup.problems).toEqual([]);
    expect(report.durationMs).toBeLessThan(120_000);
    // The run removed its pods and the images it pulled (none were there before).
    const client = new CriClient(node.endpoint);
    expect(await client.listPodSandbox()).toEqual([]);
    expect((await client.listImages()).filter((i) => i.repo_tags.some((t) => t.startsWith(registry!.addr)))).toEqual([]);
    client.close();

    // The CLI: one line per case, the closing count line, JUnit XML, exit 0.
    const junit = join(work, 'junit.xml');
    const out = execFileSync(
      'npx',
      ['tsx', 'tools/cri-conformance/src/main.ts', '--endpoint', node.endpoint, '--image-prefix', `${registry!.addr}/keel`,
        '--focus', '^(runtime|image)/', '--junit', junit],
      { cwd: resolve(import.meta.dirname, '../../..'), encoding: 'utf8' },
    );
    expect(out).toContain('PASS  runtime/version');
    expect(out.trimEnd().split('\n').pop()).toBe(`7 passed, 0 failed, ${allCases.length - 7} skipped`);
    expect(readFileSync(junit, 'utf8')).toContain(`tests="${allCases.length}" failures="0"`);

    const teardown = await node.stop({ removeDir: true });
    expect(teardown.problems).toEqual([]);
    expectGone(node);
  });

  it('names the failing cases and why when the sandbox image is missing, without hanging', async () => {
    const node = await startNode('keel-node-badimage', {
      sandboxImage: `${registry!.addr}/keel/no-such-pause:0`,
      podCidr: '10.244.242.0/24',
      bridge: 'keel-ct1',
    });
    const report = await suite(node);
    print('conformance (sandbox image missing)', report);
    const failed = report.results.filter((r) => r.status === 'failed');
    const passed = report.results.filter((r) => r.status === 'passed').map((r) => r.name);
    // What needs no pod still works; every case that runs a pod fails, saying why.
    expect(passed).toEqual(expect.arrayContaining(['runtime/version', 'runtime/status', 'image/pull', 'image/pull-missing-fails']));
    expect(failed.map((r) => r.name)).toEqual(expect.arrayContaining(['sandbox/run-status', 'container/lifecycle', 'exec/sync', 'network/pod-to-pod']));
    for (const r of failed) expect(r.reason).toMatch(/sandbox image .*no-such-pause/);
    expect(failed.length + passed.length).toBe(allCases.length);
    expect(report.durationMs).toBeLessThan(30_000);
    expect((await node.stop({ removeDir: true })).problems).toEqual([]);
    expectGone(node);
  });

  it('names the failing cases and why when the CNI plugin is missing, without hanging', async () => {
    const node = await startNode('keel-node-badcni', {
      podCidr: '10.244.243.0/24',
      bridge: 'keel-ct2',
      cniConflist: JSON.stringify({ cniVersion: '0.4.0', name: 'keel-node-badcni', plugins: [{ type: 'keel-no-such-plugin' }] }),
    });
    const report = await suite(node);
    print('conformance (CNI plugin missing)', report);
    const failed = report.results.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.name)).toEqual(expect.arrayContaining(['sandbox/run-status', 'pod/shared-network', 'network/host-to-pod']));
    for (const r of failed) expect(r.reason).toMatch(/failed to setup network for sandbox.*keel-no-such-plugin/);
    expect(report.results.find((r) => r.name === 'image/pull')?.status).toBe('passed');
    expect(report.durationMs).toBeLessThan(30_000);
    // Such sandboxes cannot be stopped (CNI DEL fails too): the sweep says so, and the
    // node's teardown still removes them with containerd's state.
    expect(report.cleanup.problems.join('\n')).toMatch(/failed to destroy network/);
    await node.stop({ removeDir: true });
    expectGone(node);
  });
});
