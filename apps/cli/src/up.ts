// `keel up`'s report: every part of a local cluster — the runtime prerequisites, the local
// registry, each Keel process — with its state, and what the sample app is waiting for,
// so a user is never left guessing which parts exist yet. Pure formatting over probes,
// so it is tested without a machine.
import type { PartStatus } from './local/cluster';

export type CheckState = 'ready' | 'missing';

export interface CheckReport {
  part: string;
  state: CheckState;
  detail: string;
}

/** What `keel up` looks at before it starts anything; production wiring in main.ts. */
export interface UpProbes {
  /** Absolute path of an executable on PATH, or undefined. */
  which(binary: string): string | undefined;
  /** The repositories and tags the registry at `addr` holds, or an error message. */
  registryImages(addr: string): Promise<{ images: string[] } | { error: string }>;
}

/** The Debian binaries a local cluster runs on. */
export const RUNTIME_BINARIES = ['containerd', 'runc', 'iptables', 'conntrack', 'docker-registry', 'skopeo'] as const;

/** The images the sample app and the runtime need in the local registry. */
export const REQUIRED_IMAGES = ['keel/pause:3.9', 'keel/web:1.0'] as const;

export async function prerequisiteChecks(probes: UpProbes, registryAddr: string): Promise<CheckReport[]> {
  const report: CheckReport[] = [];
  for (const binary of RUNTIME_BINARIES) {
    const path = probes.which(binary);
    report.push(
      path
        ? { part: binary, state: 'ready', detail: path }
        : { part: binary, state: 'missing', detail: 'not installed: run tools/prereqs/install.sh' },
    );
  }
  const registry = await probes.registryImages(registryAddr);
  if ('error' in registry) {
    report.push({ part: 'registry', state: 'missing', detail: `${registryAddr}: ${registry.error}` });
  } else {
    const absent = REQUIRED_IMAGES.filter((ref) => !registry.images.includes(ref));
    report.push(
      absent.length === 0
        ? { part: 'registry', state: 'ready', detail: `${registryAddr}, ${registry.images.length} images` }
        : { part: 'registry', state: 'missing', detail: `${registryAddr} lacks ${absent.join(', ')}` },
    );
  }
  return report;
}

/** Why the sample app's pods cannot run yet, from which parts are missing. */
export function sampleAppNote(parts: PartStatus[]): string | undefined {
  const up = new Set(parts.filter((p) => p.state === 'running' || p.state === 'started').map((p) => p.part));
  const needed = ['keel-controller-manager', 'keel-scheduler', 'containerd', 'keel-agent'] as const;
  const missing = needed.filter((p) => !up.has(p));
  if (missing.length === 0) return undefined;
  return `its pods wait for ${missing.join(', ')}: the Deployment is stored, but nothing creates, places or runs its pods until those run.`;
}

export function formatReport(checks: CheckReport[], parts: PartStatus[]): string {
  const rows = [
    ...checks.map((c) => [c.part, c.state, c.detail] as const),
    ...parts.map((p) => [p.part, p.state, p.detail] as const),
  ];
  const width = Math.max(...rows.map(([part]) => part.length));
  const lines = rows.map(([part, state, detail]) => `  ${part.padEnd(width)}  ${state.padEnd(9)}  ${detail}`);
  const missing = checks.filter((c) => c.state === 'missing').map((c) => c.part);
  if (missing.length > 0) lines.push('', `missing: ${missing.join(', ')}`);
  const notBuilt = parts.filter((p) => p.state === 'not-built').map((p) => p.part);
  if (notBuilt.length > 0) lines.push('', `not built yet: ${notBuilt.join(', ')}.`);
  const skipped = parts.filter((p) => p.state === 'skipped').map((p) => p.part);
  if (skipped.length > 0) lines.push('', `built but not started by keel up yet: ${skipped.join(', ')}.`);
  const failed = parts.filter((p) => p.state === 'failed').map((p) => p.part);
  if (failed.length > 0) lines.push('', `failed: ${failed.join(', ')} (see the logs named above)`);
  return lines.join('\n');
}
