// Container log rotation. containerd writes each container's log file and never rotates it
// (RUNTIME.md), so the agent does, as kubelet's container log manager: when a running
// container's current file passes maxBytes, rename it to `<file>.<UTC timestamp>`, ask the
// runtime to ReopenContainerLog (it creates a fresh file at the old path), and keep at most
// maxFiles files per container, dropping the oldest rotated ones. If the reopen fails the
// rename is undone, so no output is lost.
import { readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Runtime } from './runtime';
import { Labels, ManagedBy, containerLogPath, podLogDir } from './cri-config';

export interface RotationOptions {
  maxBytes: number;
  /** Files kept per container, the current one included (≥ 2). */
  maxFiles: number;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/** The rotated siblings of `file` (file.<stamp>), oldest first, beyond what `maxFiles` keeps. */
export function excessRotated(siblings: string[], file: string, maxFiles: number): string[] {
  const rotated = siblings.filter((f) => f.startsWith(`${file}.`)).sort();
  return rotated.slice(0, Math.max(0, rotated.length - (maxFiles - 1)));
}

/** One pass over the running containers; answers the files rotated. */
export async function rotateLogs(cri: Pick<Runtime, 'listContainers' | 'reopenContainerLog'>, rootDir: string, opts: RotationOptions, now = Date.now()): Promise<string[]> {
  const rotated: string[] = [];
  const running = await cri.listContainers({ state: { state: 'CONTAINER_RUNNING' }, label_selector: { [Labels.managedBy]: ManagedBy } });
  for (const c of running) {
    const namespace = c.labels[Labels.podNamespace];
    const name = c.labels[Labels.podName];
    const uid = c.labels[Labels.podUid];
    const container = c.labels[Labels.containerName];
    if (!namespace || !name || !uid || !container) continue;
    const file = join(podLogDir(rootDir, { metadata: { namespace, name, uid } }), containerLogPath(container, c.metadata?.attempt ?? 0));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      continue;
    }
    if (size > opts.maxBytes) {
      const target = `${file}.${stamp(now)}`;
      renameSync(file, target);
      try {
        await cri.reopenContainerLog(c.id);
        rotated.push(target);
      } catch {
        renameSync(target, file);
        continue;
      }
    }
    const dir = dirname(file);
    for (const old of excessRotated(readdirSync(dir), basename(file), opts.maxFiles)) rmSync(join(dir, old), { force: true });
  }
  return rotated;
}
