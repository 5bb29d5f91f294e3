// Member and cluster identities. etcd derives a member's ID from its peer URLs and the
// cluster token, so a member started with `--initial-cluster-state existing` computes the
// same ID that MemberAdd gave it; we do the same. IDs fit in 48 bits, so they are exact as
// JavaScript numbers (Raft's NodeId) and print as etcd's hex IDs.
import { createHash } from 'node:crypto';

function hash48(text: string): number {
  const digest = createHash('sha1').update(text).digest();
  const id = digest.readUIntBE(0, 6);
  return id === 0 ? 1 : id;
}

/** `http://127.0.0.1:2380` → `127.0.0.1:2380` (what the Raft transport dials). */
export function hostPort(url: string): string {
  return url.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
}

export function memberId(peerUrl: string, token: string): number {
  return hash48(`member|${hostPort(peerUrl)}|${token}`);
}

export function clusterId(memberIds: number[], token: string): number {
  return hash48(`cluster|${[...memberIds].sort((a, b) => a - b).join(',')}|${token}`);
}

/** `a=http://h:1,b=http://h:2` → name → peer URL, in order. */
export function parseInitialCluster(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`initial cluster entry ${JSON.stringify(part)}: want name=url`);
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    if (!/^https?:\/\/[^:/\s]+:\d+\/?$/.test(url)) throw new Error(`initial cluster entry ${JSON.stringify(part)}: want name=http://host:port`);
    if (out.has(name)) throw new Error(`initial cluster names ${name} twice`);
    out.set(name, url.replace(/\/+$/, ''));
  }
  if (out.size === 0) throw new Error('initial cluster is empty');
  return out;
}
