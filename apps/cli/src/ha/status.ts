// `keel status --ha`: what an operator asks of an HA control plane. The store: each member's
// own view (etcd Maintenance Status on that member alone: its ID, the leader it follows,
// term, revision), so a member that lags or is cut off shows as such. The components: is
// each process alive, does it answer its health check, and which replica holds the
// scheduler's and controller-manager's Leases. The nodes and whether they are Ready.
// gatherHaStatus does the I/O; formatHaStatus is pure and unit-tested.
import type { Lease, Node } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { EtcdClient } from '@keel/etcd-client';
import { httpAnswers } from '@keel/process';
import { readFileSync } from 'node:fs';
import { httpsAnswers } from '../local/connection';
import type { HaCluster } from './cluster';
import { CONTROL_PLANE_PARTS, LEASES, PORTS, apiserverAddresses, apiserverUrl, type PartName } from './layout';

export interface MemberStatus {
  host: string;
  endpoint: string;
  /** Absent when the member did not answer. */
  memberId?: string;
  leaderId?: string;
  term?: number;
  revision?: number;
  raftIndex?: number;
  error?: string;
}

export interface ComponentStatus {
  host: string;
  part: PartName;
  pid?: number;
  healthy: boolean;
  /** For leader-elected parts: does this replica hold the Lease. */
  leader?: boolean;
}

export interface NodeStatus {
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  address?: string;
  podCidr?: string;
}

export interface HaStatus {
  members: MemberStatus[];
  components: ComponentStatus[];
  leases: { part: PartName; holder?: string; host?: string }[];
  nodes: NodeStatus[] | { error: string };
}

/** The member the answering members agree leads, with its host; undefined when there is none. */
export function storeLeader(members: MemberStatus[]): { host: string; memberId: string; term: number } | undefined {
  const answering = members.filter((m) => m.memberId !== undefined);
  for (const m of answering) {
    if (m.leaderId && m.leaderId !== '0' && m.leaderId === m.memberId) return { host: m.host, memberId: m.memberId!, term: m.term ?? 0 };
  }
  return undefined;
}

function firstLine(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return (e.message ?? String(err)).split('\n')[0]!;
}

/** The last leader-election identity a part logged (replicas on one machine share a hostname). */
export function identityInLog(log: string): string | undefined {
  let found: string | undefined;
  for (const line of log.split('\n')) {
    if (!line.includes('"identity"')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; identity?: unknown };
      // Only a replica's own start line names its identity; other lines name the leader's.
      if ((entry.msg === 'serving' || entry.msg === 'starting') && typeof entry.identity === 'string') found = entry.identity;
    } catch {
      // not a JSON line
    }
  }
  return found;
}

export async function gatherHaStatus(cluster: HaCluster): Promise<HaStatus> {
  const layout = cluster.layout;
  const running = cluster.running();
  const members = await Promise.all(
    layout.controlPlanes.map(async (h): Promise<MemberStatus> => {
      const endpoint = `${h.ip}:${PORTS.storeClient}`;
      const c = new EtcdClient({ endpoints: [endpoint], callTimeoutMs: 1500 });
      try {
        const s = await c.status();
        return { host: h.name, endpoint, memberId: s.memberId, leaderId: s.leader, term: s.raftTerm, revision: s.revision, raftIndex: s.raftIndex };
      } catch (err) {
        return { host: h.name, endpoint, error: firstLine(err) };
      } finally {
        c.close();
      }
    }),
  );

  const ca = JSON.parse(readFileSync(cluster.clusterFile, 'utf8')) as { admin: { caFile: string; certFile: string; keyFile: string } };
  const admin = ca.admin;
  const client = new Client(
    new GrpcTransport({
      address: apiserverAddresses(layout).join(','),
      tls: { ca: readFileSync(admin.caFile), cert: readFileSync(admin.certFile), key: readFileSync(admin.keyFile) },
      callTimeoutMs: 3000,
    }),
  );
  try {
    const leases: HaStatus['leases'] = [];
    const identities = new Map<string, string>();
    for (const h of layout.controlPlanes) {
      for (const part of ['keel-scheduler', 'keel-controller-manager'] as const) {
        try {
          const id = identityInLog(readFileSync(cluster.logFile(h, part), 'utf8'));
          if (id) identities.set(id, h.name);
        } catch {
          // no log yet
        }
      }
    }
    for (const [part, name] of Object.entries(LEASES) as [PartName, string][]) {
      try {
        const lease = await client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' }).namespace('kube-system').get(name);
        const holder = lease.spec?.holderIdentity ?? undefined;
        const host = holder ? identities.get(holder) : undefined;
        leases.push({ part, ...(holder ? { holder } : {}), ...(host ? { host } : {}) });
      } catch {
        leases.push({ part });
      }
    }

    const components: ComponentStatus[] = [];
    for (const h of layout.controlPlanes) {
      for (const part of CONTROL_PLANE_PARTS) {
        const pid = running[h.name]?.[part];
        let healthy = false;
        if (pid) {
          if (part === 'keel-store') healthy = await httpAnswers(`http://${h.ip}:${PORTS.storeMetrics}/health`);
          else if (part === 'keel-apiserver') healthy = await httpsAnswers(apiserverUrl(h), admin.caFile, '/readyz');
          else if (part === 'keel-scheduler') healthy = await httpAnswers(`http://${h.ip}:${PORTS.schedulerHealth}/healthz`);
          else healthy = await cluster.controllerManagerHealthy(h);
        }
        const lease = leases.find((l) => l.part === part);
        components.push({ host: h.name, part, ...(pid ? { pid } : {}), healthy, ...(LEASES[part] ? { leader: lease?.host === h.name } : {}) });
      }
    }
    for (const w of layout.workers) {
      for (const part of ['containerd', 'keel-agent'] as const) {
        const pid = running[w.name]?.[part];
        const healthy = part === 'keel-agent' ? Boolean(pid) && (await httpAnswers(`http://${w.ip}:${PORTS.agent}/healthz`)) : Boolean(pid);
        components.push({ host: w.name, part, ...(pid ? { pid } : {}), healthy });
      }
    }

    let nodes: HaStatus['nodes'];
    try {
      const list = await client.nodes().list();
      nodes = list.items.map((n: Node) => {
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
        const address = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
        return { name: n.metadata.name!, ready: ready as NodeStatus['ready'], ...(address ? { address } : {}), ...(n.spec?.podCIDR ? { podCidr: n.spec.podCIDR } : {}) };
      });
    } catch (err) {
      nodes = { error: firstLine(err) };
    }
    return { members, components, leases, nodes };
  } finally {
    client.close();
  }
}

const pad = (s: string, n: number) => s.padEnd(n);

export function formatHaStatus(s: HaStatus): string {
  const lines: string[] = [];
  const leader = storeLeader(s.members);
  const revisions = s.members.map((m) => m.revision).filter((r): r is number => r !== undefined);
  lines.push(
    `store: ${s.members.length} members, ${s.members.filter((m) => m.memberId).length} answering; ` +
      (leader ? `leader ${leader.host} (term ${leader.term})` : 'NO LEADER') +
      (revisions.length ? `, revision ${Math.max(...revisions)}` : ''),
  );
  lines.push(`  ${pad('HOST', 14)}${pad('ENDPOINT', 20)}${pad('MEMBER', 18)}${pad('ROLE', 10)}${pad('TERM', 6)}${pad('REVISION', 10)}`);
  for (const m of s.members) {
    if (!m.memberId) {
      lines.push(`  ${pad(m.host, 14)}${pad(m.endpoint, 20)}unreachable: ${m.error ?? ''}`);
      continue;
    }
    const role = m.leaderId === m.memberId ? 'leader' : m.leaderId && m.leaderId !== '0' ? 'follower' : 'no leader';
    lines.push(`  ${pad(m.host, 14)}${pad(m.endpoint, 20)}${pad(m.memberId, 18)}${pad(role, 10)}${pad(String(m.term ?? ''), 6)}${pad(String(m.revision ?? ''), 10)}`);
  }
  lines.push('components:');
  lines.push(`  ${pad('HOST', 14)}${pad('PART', 26)}${pad('PID', 9)}${pad('HEALTH', 10)}LEADER`);
  for (const c of s.components) {
    const health = c.pid === undefined ? 'down' : c.healthy ? 'ok' : 'unhealthy';
    const lead = c.leader === undefined ? '' : c.leader ? 'yes (holds the Lease)' : '-';
    lines.push(`  ${pad(c.host, 14)}${pad(c.part, 26)}${pad(c.pid ? String(c.pid) : '-', 9)}${pad(health, 10)}${lead}`);
  }
  for (const l of s.leases) {
    lines.push(`  lease kube-system/${LEASES[l.part]}: ${l.holder ? `${l.holder}${l.host ? ` (${l.host})` : ' (not a replica of this cluster)'}` : 'not held'}`);
  }
  if ('error' in s.nodes) {
    lines.push(`nodes: cannot list: ${s.nodes.error}`);
  } else {
    lines.push(`nodes: ${s.nodes.length}, ${s.nodes.filter((n) => n.ready === 'True').length} ready`);
    for (const n of s.nodes) lines.push(`  ${pad(n.name, 14)}${pad(n.ready === 'True' ? 'Ready' : `NotReady (${n.ready})`, 20)}${pad(n.address ?? '', 16)}${n.podCidr ?? ''}`);
  }
  return lines.join('\n');
}
