// `keel up`: brings up a local cluster from the parts that exist. Each part is a step
// with a probe that says whether it is ready; the report names every part, what state
// it is in, and which parts are not built yet, so a user is never left guessing.
// Probes are injected, so the report logic is tested without a machine.

export type PartState = 'ready' | 'missing' | 'not-built';

export interface PartReport {
  part: string;
  state: PartState;
  detail: string;
}

/** What `keel up` looks at; production wiring in main.ts, fakes in tests. */
export interface UpProbes {
  /** Absolute path of an executable on PATH, or undefined. */
  which(binary: string): string | undefined;
  /** The repositories and tags the registry at `addr` holds, or an error message. */
  registryImages(addr: string): Promise<{ images: string[] } | { error: string }>;
  /** The Keel commands this build provides (from package.json `bin`). */
  builtCommands(): string[];
}

/** The Debian binaries a local cluster runs on. */
export const RUNTIME_BINARIES = ['containerd', 'runc', 'iptables', 'conntrack', 'docker-registry', 'skopeo'] as const;

/** The images the sample app and the runtime need in the local registry. */
export const REQUIRED_IMAGES = ['keel/pause:3.9', 'keel/web:1.0'] as const;

/** The control-plane and node commands, in the order `keel up` starts them. */
export const CLUSTER_COMMANDS = [
  'keel-store',
  'keel-apiserver',
  'keel-controller-manager',
  'keel-scheduler',
  'keel-agent',
] as const;

export async function upReport(probes: UpProbes, registryAddr: string): Promise<PartReport[]> {
  const report: PartReport[] = [];
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
  const built = new Set(probes.builtCommands());
  for (const command of CLUSTER_COMMANDS) {
    report.push(
      built.has(command)
        ? { part: command, state: 'ready', detail: 'built' }
        : { part: command, state: 'not-built', detail: 'not built yet in this version of Keel' },
    );
  }
  return report;
}

export function formatReport(report: PartReport[]): string {
  const width = Math.max(...report.map((r) => r.part.length));
  const lines = report.map((r) => `  ${r.part.padEnd(width)}  ${r.state.padEnd(9)}  ${r.detail}`);
  const notBuilt = report.filter((r) => r.state === 'not-built').map((r) => r.part);
  const missing = report.filter((r) => r.state === 'missing').map((r) => r.part);
  if (missing.length > 0) lines.push('', `missing: ${missing.join(', ')}`);
  if (notBuilt.length > 0) {
    lines.push(
      '',
      `not built yet: ${notBuilt.join(', ')}.`,
      'Keel can run what exists: the runtime prerequisites, the local registry and its images.',
      'The cluster itself (store, apiserver, controllers, scheduler, agent) starts here once those parts land.',
    );
  }
  return lines.join('\n');
}
