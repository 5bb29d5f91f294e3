// Pod cgroup directories runc leaves behind. On cgroup v1 every hierarchy under
// /sys/fs/cgroup holds its own copy of a pod's `cgroup_parent` path; runc removes the
// container's leaf but not the parents. A cgroup directory is removed with rmdir, deepest
// first, and only once no process is left in it.
import { readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** The mounted hierarchies (cpu, memory, …, unified), as absolute paths. */
export function hierarchies(root = CGROUP_ROOT): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(root, e.name));
  } catch {
    return [];
  }
}

function removeTree(dir: string): boolean {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return false;
  }
  for (const child of entries) removeTree(join(dir, child));
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes `relative` (a cgroup path such as `/keel-node-a` or `/k8s.io/<id>`) from every
 * hierarchy; answers how many directories went and which could not (still busy).
 */
export function removeCgroup(relative: string, root = CGROUP_ROOT): { removed: number; busy: string[] } {
  const clean = relative.replace(/^\/+/, '');
  if (!clean || clean.split('/').includes('..')) throw new Error(`refusing cgroup path "${relative}"`);
  let removed = 0;
  const busy: string[] = [];
  for (const h of hierarchies(root)) {
    const path = join(h, clean);
    try {
      if (!statSync(path).isDirectory()) continue;
    } catch {
      continue;
    }
    if (removeTree(path)) removed++;
    else busy.push(path);
  }
  return { removed, busy };
}
