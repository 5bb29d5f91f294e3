// Which conntrack entries go stale when endpoints change (pure). Only UDP matters: a TCP
// connection to a removed endpoint fails and is retried, but a UDP flow keeps its old NAT
// for as long as the client keeps talking, so kube-proxy deletes, and so do we:
//  - for each UDP endpoint that went away, the entries NATed from its cluster IP (and its
//    node port) to that endpoint;
//  - for a UDP port that was programmed with no endpoint and now has one, every entry to its cluster IP
//    (they were made while it rejected, and would keep rejecting).
import type { ProgrammedPort } from './rules';

export function staleConntrackDeletions(before: readonly ProgrammedPort[], after: readonly ProgrammedPort[]): string[][] {
  const id = (p: ProgrammedPort) => `${p.info.key}/${p.info.protocol}`;
  const now = new Map(after.map((p) => [id(p), p]));
  const deletions: string[][] = [];
  const seen = new Set<string>();
  const push = (args: string[]) => {
    const key = args.join(' ');
    if (seen.has(key)) return;
    seen.add(key);
    deletions.push(args);
  };
  for (const old of before) {
    if (old.info.protocol !== 'UDP') continue;
    const current = now.get(id(old));
    const kept = new Set((current?.endpoints ?? []).map((e) => `${e.ip}:${e.port}`));
    for (const ep of old.endpoints) {
      if (kept.has(`${ep.ip}:${ep.port}`)) continue;
      push(['-p', 'udp', '--orig-dst', old.info.clusterIp, '--dst-nat', ep.ip]);
      if (old.info.nodePort !== undefined) push(['-p', 'udp', '--orig-port-dst', String(old.info.nodePort), '--dst-nat', ep.ip]);
    }
  }
  const had = new Map(before.map((p) => [id(p), p.endpoints.length]));
  for (const p of after) {
    if (p.info.protocol === 'UDP' && p.endpoints.length > 0 && had.get(id(p)) === 0) {
      push(['-p', 'udp', '--orig-dst', p.info.clusterIp]);
    }
  }
  return deletions;
}
