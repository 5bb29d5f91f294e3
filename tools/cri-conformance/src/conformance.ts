// Runs the suite against a CRI endpoint: every case in order with its own deadline, then
// a sweep that removes what the run created — sandboxes labelled with the run (also those
// of a case that timed out), images the run pulled that were not there before, the pod
// cgroups under the run's cgroup parent, and the run's folder of logs.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { removeCgroup } from '@keel/tools-containerd';
import { allCases } from './cases';
import { reasonOf } from './errors';
import { Fixture, RUN_LABEL, imagesFromPrefix, type ConformanceImages } from './fixture';
import { runCase, summarize, type CaseResult, type ConformanceCase, type Summary } from './suite';

export interface ConformanceOptions {
  /** unix:///abs/path of the runtime's CRI socket. */
  endpoint: string;
  /** Where Keel's images are, e.g. 127.0.0.1:5000/keel (the default). */
  imagePrefix?: string;
  /** Exact image references, overriding those derived from the prefix. */
  images?: Partial<ConformanceImages>;
  /** A folder for logs, named keel-…; default: a new one under the system temp dir. */
  workDir?: string;
  /** The node's pod CIDR, if known: pod IPs are checked against it. */
  podCidr?: string;
  /** Host address for port mappings (127.0.0.1). */
  hostIp?: string;
  /** Deadline of one case (30 s). */
  caseTimeoutMs?: number;
  /** Default deadline of one CRI call (10 s). */
  callTimeoutMs?: number;
  /** Run only cases whose name matches. */
  focus?: RegExp;
  /** Leave out cases whose name matches. */
  skip?: RegExp;
  /** Leave pulled images in place. */
  keepImages?: boolean;
  /** Called as each case ends (the CLI prints from here). */
  onResult?: (result: CaseResult) => void;
  /** The cases to run (default: all). */
  cases?: ConformanceCase[];
}

export interface ConformanceReport {
  runId: string;
  results: CaseResult[];
  summary: Summary;
  durationMs: number;
  /** What the final sweep removed, and what it could not. */
  cleanup: { removed: string[]; problems: string[] };
}

export async function runConformance(opts: ConformanceOptions): Promise<ConformanceReport> {
  const started = Date.now();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const ownWorkDir = !opts.workDir;
  const workDir = opts.workDir ? resolve(opts.workDir) : mkdtempSync(join(tmpdir(), 'keel-cri-conformance-'));
  if (!basename(workDir).startsWith('keel-')) throw new Error(`work dir must be named keel-…, got ${workDir}`);
  mkdirSync(workDir, { recursive: true });
  const images = { ...imagesFromPrefix(opts.imagePrefix ?? '127.0.0.1:5000/keel'), ...opts.images };
  const cgroupParent = `/keel-cri-conformance-${runId}`;
  const fixture = Fixture.create({
    endpoint: opts.endpoint,
    images,
    runId,
    workDir,
    cgroupParent,
    podCidr: opts.podCidr,
    hostIp: opts.hostIp ?? '127.0.0.1',
    callTimeoutMs: opts.callTimeoutMs ?? 10_000,
  });
  const client = fixture.client;

  // Which images were there before, so the sweep removes only what this run pulled.
  let imagesBefore: Set<string> | undefined;
  try {
    imagesBefore = new Set((await client.listImages()).map((i) => i.id));
  } catch {
    imagesBefore = undefined; // the runtime is not answering; the cases will say so
  }

  const results: CaseResult[] = [];
  for (const c of opts.cases ?? allCases) {
    let result: CaseResult;
    if ((opts.focus && !opts.focus.test(c.name)) || opts.skip?.test(c.name)) {
      result = { name: c.name, status: 'skipped', reason: 'not selected', durationMs: 0 };
    } else {
      result = await runCase(c, fixture, opts.caseTimeoutMs ?? 30_000);
    }
    results.push(result);
    opts.onResult?.(result);
  }

  const cleanup = { removed: [] as string[], problems: [] as string[] };
  try {
    const leftovers = await client.listPodSandbox({ label_selector: { [RUN_LABEL]: runId } });
    for (const s of leftovers) {
      try {
        await client.stopPodSandbox(s.id, { timeoutMs: 30_000 });
        await client.removePodSandbox(s.id, { timeoutMs: 30_000 });
        cleanup.removed.push(`sandbox ${s.id.slice(0, 12)}`);
      } catch (err) {
        cleanup.problems.push(`sandbox ${s.id.slice(0, 12)}: ${reasonOf(err)}`);
      }
    }
  } catch (err) {
    if (imagesBefore) cleanup.problems.push(`listing leftover sandboxes: ${reasonOf(err)}`);
  }
  if (!opts.keepImages && imagesBefore) {
    const registry = images.busybox.split('/')[0] ?? '';
    try {
      for (const image of await client.listImages()) {
        if (imagesBefore.has(image.id)) continue;
        if (!image.repo_tags.some((t) => t.startsWith(`${registry}/`))) continue;
        try {
          await client.removeImage(image.id);
          cleanup.removed.push(`image ${image.repo_tags.join(',') || image.id}`);
        } catch (err) {
          cleanup.problems.push(`image ${image.id}: ${reasonOf(err)}`);
        }
      }
    } catch (err) {
      cleanup.problems.push(`listing images: ${reasonOf(err)}`);
    }
  }
  client.close();
  const cg = removeCgroup(cgroupParent);
  if (cg.removed) cleanup.removed.push(`cgroup ${cgroupParent}`);
  if (cg.busy.length) cleanup.problems.push(`busy cgroups: ${cg.busy.join(', ')}`);
  rmSync(ownWorkDir ? workDir : join(workDir, 'logs'), { recursive: true, force: true });

  return { runId, results, summary: summarize(results), durationMs: Date.now() - started, cleanup };
}
