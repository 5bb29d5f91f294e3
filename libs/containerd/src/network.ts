// The node's network side effects, and undoing them: the egress guard the launcher adds
// (pod traffic may not leave the machine), the portmap rules and chains CNI created for
// this node's network (found by the `dnat name: "<network>"` comment portmap writes),
// portmap's global CNI-HOSTPORT-* chains when this node created them and they are empty,
// and the bridge. Rules are removed with one `iptables-restore --noflush`, which parses
// iptables-save's quoting itself and leaves every other chain alone.
import { rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './system';

export const HOSTPORT_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'] as const;

/** The portmap chains that exist now in the nat table. */
export async function existingHostportChains(netns?: string): Promise<string[]> {
  const res = await run('iptables-save', ['-t', 'nat'], { netns });
  return HOSTPORT_CHAINS.filter((c) => res.stdout.includes(`:${c} `));
}

function guardComment(network: string): string {
  return `keel ${network} egress guard`;
}

function guardArgs(network: string, podCidr: string): string[] {
  // Forwarded packets from pods may only leave through keel-… links (the bridge itself,
  // or a node's link on this machine): never out of the machine's own interfaces.
  return ['FORWARD', '-s', podCidr, '!', '-o', 'keel-+', '-m', 'comment', '--comment', guardComment(network), '-j', 'DROP'];
}

export async function addEgressGuard(network: string, podCidr: string, netns?: string): Promise<void> {
  const args = guardArgs(network, podCidr);
  const present = await run('iptables', ['-w', '-C', ...args], { netns });
  if (present.code === 0) return;
  const res = await run('iptables', ['-w', '-I', ...args], { netns });
  if (res.code !== 0) throw new Error(`cannot add the egress guard: ${res.stderr.trim()}`);
}

export async function removeEgressGuard(network: string, podCidr: string, netns?: string): Promise<boolean> {
  let removed = false;
  while ((await run('iptables', ['-w', '-D', ...guardArgs(network, podCidr)], { netns })).code === 0) removed = true;
  return removed;
}

/**
 * Builds the iptables-restore input that removes this network's portmap rules and
 * per-container chains (pure, for tests): `-D` for every `-A` line carrying our comment,
 * then flush and delete each CNI-DN-… chain those rules jumped to.
 */
export function portmapCleanupScript(natSave: string, network: string): { script: string; chains: string[]; rules: number } {
  const marker = `dnat name: \\"${network}\\"`;
  const lines = natSave.split('\n');
  const ours = lines.filter((l) => l.startsWith('-A ') && l.includes(marker));
  const chains = new Set<string>();
  for (const l of ours) {
    const target = / -j (CNI-DN-[0-9a-f]+)/.exec(l)?.[1];
    if (target) chains.add(target);
    const own = /^-A (CNI-DN-[0-9a-f]+) /.exec(l)?.[1];
    if (own) chains.add(own);
  }
  // Rules inside our CNI-DN chains (they carry the comment too, but be thorough) go with -F.
  const deletions = ours.filter((l) => !/^-A CNI-DN-/.test(l)).map((l) => `-D${l.slice(2)}`);
  const body = [
    '*nat',
    ...deletions,
    ...[...chains].map((c) => `-F ${c}`),
    ...[...chains].map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ];
  return { script: body.join('\n'), chains: [...chains], rules: deletions.length };
}

/** Removes this network's portmap rules and chains; answers what it removed. */
export async function removePortmapRules(network: string, netns?: string): Promise<string[]> {
  const save = await run('iptables-save', ['-t', 'nat'], { netns });
  const { script, chains, rules } = portmapCleanupScript(save.stdout, network);
  if (rules === 0 && chains.length === 0) return [];
  const res = await run('iptables-restore', ['-w', '--noflush'], { netns, input: script });
  if (res.code !== 0) throw new Error(`iptables-restore failed removing portmap rules: ${res.stderr.trim()}`);
  return [`${rules} portmap rules`, ...chains];
}

/**
 * The iptables-restore input that removes portmap's global chains (pure, for tests):
 * only those that did not exist before this node started, and only when no pod of any
 * node still has a portmap rule (a CNI-DN-… chain or a `dnat name:` jump), since every
 * node's per-pod chains jump into the same global ones.
 */
export function hostportCleanupScript(natSave: string, before: string[]): { script: string; chains: string[] } {
  const save = natSave.split('\n');
  const inUse = save.some((l) => l.startsWith(':CNI-DN-') || l.includes('dnat name:'));
  const chains = HOSTPORT_CHAINS.filter((c) => !before.includes(c) && save.some((l) => l.startsWith(`:${c} `)));
  if (inUse || chains.length === 0) return { script: '', chains: [] };
  const jumps = save.filter(
    (l) => l.startsWith('-A ') && chains.some((c) => l.includes(` -j ${c}`)) && !chains.some((c) => l.startsWith(`-A ${c} `)),
  );
  const script = ['*nat', ...jumps.map((l) => `-D${l.slice(2)}`), ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''];
  return { script: script.join('\n'), chains };
}

/** Removes portmap's global chains this node brought and nobody uses any more. */
export async function removeIdleHostportChains(before: string[], netns?: string): Promise<string[]> {
  const save = await run('iptables-save', ['-t', 'nat'], { netns });
  const { script, chains } = hostportCleanupScript(save.stdout, before);
  if (chains.length === 0) return [];
  const res = await run('iptables-restore', ['-w', '--noflush'], { netns, input: script });
  if (res.code !== 0) throw new Error(`iptables-restore failed removing ${chains.join(', ')}: ${res.stderr.trim()}`);
  return chains;
}

/** CNI's result cache lives in /var/lib/cni/results whatever the config says: drop ours. */
export function removeCniResultCache(network: string, cacheDir = '/var/lib/cni/results'): string[] {
  let entries: string[];
  try {
    entries = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const ours = entries.filter((e) => e.startsWith(`${network}-`));
  for (const e of ours) rmSync(join(cacheDir, e), { force: true });
  return ours;
}

export async function deleteBridge(bridge: string, netns?: string): Promise<boolean> {
  const res = await run('ip', ['link', 'del', 'dev', bridge], { netns });
  return res.code === 0;
}
