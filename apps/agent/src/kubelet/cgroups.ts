// Pod cgroup folders runc leaves behind (RUNTIME.md): on cgroup v1 each hierarchy under
// /sys/fs/cgroup has its own copy of the pod's cgroup_parent; runc removes the container
// leaves but not the pod folder. Removed deepest first with rmdir, which fails while a
// process is still inside, so a live pod's cgroup is never lost. (The same rule as
// tools/containerd's teardown; apps may not import tools, and it is a dozen lines.)
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

function removeTree(dir: string): boolean {
  let children: string[];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return true; // not there: nothing to do
  }
  for (const c of children) removeTree(join(dir, c));
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Removes `relative` (e.g. /keel-node/pod<uid>) from every hierarchy; answers the busy ones. */
export function removePodCgroup(relative: string, root = ROOT): string[] {
  const clean = relative.replace(/^\/+/, '');
  if (!clean || clean.split('/').includes('..')) throw new Error(`refusing cgroup path "${relative}"`);
  let hierarchies: string[];
  try {
    hierarchies = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, e.name));
  } catch {
    return [];
  }
  return hierarchies.map((h) => join(h, clean)).filter((p) => !removeTree(p));
}
