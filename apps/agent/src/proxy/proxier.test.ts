import { afterEach, describe, expect, it } from 'vitest';
import { service, slice } from './fixtures';
import type { ConntrackBackend, IptablesBackend } from './iptables';
import { serviceChain } from './names';
import { Proxier, type ProxierOptions } from './proxier';
import { ProxyError } from './errors';

/** An iptables that keeps nat and filter in memory and applies restore batches as iptables-restore --noflush would. */
class FakeIptables implements IptablesBackend {
  tables: Record<string, Map<string, string[]>> = {
    nat: new Map(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((c) => [c, []])),
    filter: new Map(['INPUT', 'FORWARD', 'OUTPUT'].map((c) => [c, []])),
  };
  scripts: string[] = [];
  saves = 0;
  failNext = false;

  async save(): Promise<string> {
    this.saves++;
    const out: string[] = [];
    for (const [table, chains] of Object.entries(this.tables)) {
      out.push(`*${table}`, ...[...chains.keys()].map((c) => `:${c} - [0:0]`), ...[...chains.values()].flat(), 'COMMIT');
    }
    return out.join('\n');
  }

  async restore(script: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new ProxyError('RestoreFailed', 'iptables-restore failed (1): injected');
    }
    this.scripts.push(script);
    let table = this.tables.nat!;
    for (const line of script.split('\n')) {
      const chain = line.split(' ')[1] ?? '';
      if (line.startsWith('*')) table = this.tables[line.slice(1)]!;
      else if (line.startsWith(':')) table.set(line.slice(1).split(' ')[0]!, []);
      else if (line.startsWith('-A ')) table.get(chain)!.push(line);
      else if (line.startsWith('-I ')) table.get(chain)!.unshift(`-A ${chain} ${line.split(' ').slice(3).join(' ')}`);
      else if (line.startsWith('-X ')) table.delete(chain);
    }
  }

  chains(table: 'nat' | 'filter'): string[] {
    return [...this.tables[table]!.keys()].filter((c) => c.startsWith('KEEL-'));
  }
}

const web = (ips: string[]) => slice('web', ips, [{ name: 'http', port: 80 }]);
const webSvc = service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 80 }]);
const live: Proxier[] = [];

function proxier(iptables: FakeIptables, extra: Partial<ProxierOptions> = {}): Proxier {
  const p = new Proxier({ iptables, rules: { nodeIps: ['192.168.77.1'], masqueradeOut: ['keel-cni0'] }, minSyncIntervalMs: 20, ...extra });
  live.push(p);
  return p;
}

afterEach(() => {
  for (const p of live.splice(0)) p.stop();
});

describe('Proxier', () => {
  it('does not sync before its sources are synced, then coalesces a burst into one full sync', async () => {
    const ipt = new FakeIptables();
    const p = proxier(ipt);
    p.upsertService(webSvc);
    p.upsertEndpointSlice(web(['10.244.0.2']));
    await new Promise((r) => setTimeout(r, 50));
    expect(ipt.scripts).toHaveLength(0);
    p.setSynced();
    for (let i = 3; i < 50; i++) p.upsertEndpointSlice(web(['10.244.0.2', `10.244.0.${i}`]));
    await p.idle();
    expect(ipt.scripts).toHaveLength(1);
    expect(p.metrics.syncs).toEqual({ full: 1, partial: 0, failed: 0 });
    expect(ipt.tables.nat!.get('PREROUTING')).toEqual(['-A PREROUTING -m comment --comment "keel service portals" -j KEEL-SERVICES']);
    expect(ipt.tables.nat!.get(serviceChain('default/web:http', 'TCP'))).toHaveLength(2);
  });

  it('a later change is a partial sync writing only the chains that changed', async () => {
    const ipt = new FakeIptables();
    const p = proxier(ipt);
    p.upsertService(webSvc);
    p.upsertService(service('api', '10.96.0.11', [{ name: 'http', port: 80, targetPort: 80 }]));
    p.upsertEndpointSlice(web(['10.244.0.2']));
    p.upsertEndpointSlice(slice('api', ['10.244.0.9'], [{ name: 'http', port: 80 }]));
    p.setSynced();
    await p.idle();
    p.upsertEndpointSlice(web(['10.244.0.2', '10.244.0.3']));
    await p.idle();
    expect(p.metrics.syncs).toMatchObject({ full: 1, partial: 1 });
    expect(p.metrics.lastPartial).toMatchObject({ chainsWritten: 2, chainsDeleted: 0 });
    const last = ipt.scripts.at(-1)!;
    expect(last).not.toContain(serviceChain('default/api:http', 'TCP'));
    expect(last).toContain(`:${serviceChain('default/web:http', 'TCP')} - [0:0]`);
    // The same objects again change nothing: no batch at all.
    p.upsertEndpointSlice(web(['10.244.0.2', '10.244.0.3']));
    await p.idle();
    expect(ipt.scripts).toHaveLength(2);
  });

  it('after a failed restore the next sync is a full one, and the retry happens by itself', async () => {
    const ipt = new FakeIptables();
    const p = proxier(ipt);
    p.upsertService(webSvc);
    p.setSynced();
    await p.idle();
    ipt.failNext = true;
    p.upsertEndpointSlice(web(['10.244.0.2']));
    // The retry waits at least a second after a failure (back-off), then succeeds.
    await new Promise((r) => setTimeout(r, 1_300));
    await p.idle();
    expect(p.metrics.syncs).toEqual({ full: 2, partial: 0, failed: 1 });
    expect(ipt.tables.nat!.has(serviceChain('default/web:http', 'TCP'))).toBe(true);
  });

  it('a restarted proxy removes chains its predecessor left and inserts no second jump', async () => {
    const ipt = new FakeIptables();
    const first = proxier(ipt);
    first.upsertService(webSvc);
    first.upsertEndpointSlice(web(['10.244.0.2', '10.244.0.3']));
    first.setSynced();
    await first.idle();
    first.stop();
    const second = proxier(ipt);
    second.upsertService(webSvc);
    second.upsertEndpointSlice(web(['10.244.0.3']));
    second.setSynced();
    await second.idle();
    expect(second.metrics.lastFull).toMatchObject({ chainsDeleted: 1 });
    expect(ipt.chains('nat').filter((c) => c.startsWith('KEEL-SEP-'))).toHaveLength(1);
    expect(ipt.tables.nat!.get('OUTPUT')).toHaveLength(1);
    expect(ipt.tables.filter!.get('FORWARD')).toHaveLength(2);
  });

  it('a full sync compares with the tables as they are: only a chain that drifted is rewritten', async () => {
    const ipt = new FakeIptables();
    const p = proxier(ipt);
    p.upsertService(webSvc);
    p.upsertEndpointSlice(web(['10.244.0.2', '10.244.0.3']));
    p.setSynced();
    await p.idle();
    expect((await p.sync({ full: true })).chainsWritten).toBe(0);
    ipt.tables.nat!.get(serviceChain('default/web:http', 'TCP'))!.pop();
    ipt.tables.nat!.get('PREROUTING')!.length = 0;
    const repair = await p.sync({ full: true });
    expect(repair).toMatchObject({ chainsWritten: 1 });
    expect(ipt.tables.nat!.get(serviceChain('default/web:http', 'TCP'))).toHaveLength(2);
    expect(ipt.tables.nat!.get('PREROUTING')).toHaveLength(1);
  });

  it('deletes conntrack entries of a removed UDP endpoint after the rules are applied', async () => {
    const ipt = new FakeIptables();
    const deleted: string[] = [];
    const conntrack: ConntrackBackend = { delete: async (args) => void deleted.push(args.join(' ')) };
    const p = proxier(ipt, { conntrack });
    p.upsertService(service('dns', '10.96.0.53', [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }]));
    p.upsertEndpointSlice(slice('dns', ['10.244.0.2', '10.244.0.3'], [{ name: 'dns', port: 53, protocol: 'UDP' }]));
    p.setSynced();
    await p.idle();
    p.upsertEndpointSlice(slice('dns', ['10.244.0.3'], [{ name: 'dns', port: 53, protocol: 'UDP' }]));
    await p.idle();
    expect(deleted).toEqual(['-p udp --orig-dst 10.96.0.53 --dst-nat 10.244.0.2']);
    expect(p.metrics.lastPartial?.conntrackDeletions).toBe(1);
  });

  it('runs a full sync every full-sync interval, and reports metrics', async () => {
    const ipt = new FakeIptables();
    const p = proxier(ipt, { fullSyncIntervalMs: 40 });
    p.upsertService(webSvc);
    p.setSynced();
    await new Promise((r) => setTimeout(r, 150));
    await p.idle();
    expect(p.metrics.syncs.full).toBeGreaterThanOrEqual(3);
    expect(ipt.saves).toBe(p.metrics.syncs.full);
    expect(p.metricsText()).toMatch(/keel_proxy_sync_duration_seconds\{kind="full"\} [0-9.e-]+/);
    expect(p.metricsText()).toContain('keel_proxy_service_ports 1');
  });

  it('reports kube-proxy-like metrics: a duration histogram by kind, the last sync time, and rules and chains per table as programmed', async () => {
    const ipt = new FakeIptables();
    const p = proxier(ipt);
    p.upsertService(webSvc);
    p.upsertEndpointSlice(web(['10.244.0.2']));
    p.setSynced();
    await p.idle();
    p.upsertEndpointSlice(web(['10.244.0.2', '10.244.0.3']));
    await p.idle();
    const text = p.metricsText();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(text).toContain('# TYPE keel_proxy_sync_proxy_rules_duration_seconds histogram');
    expect(value('keel_proxy_sync_proxy_rules_duration_seconds_count{kind="full"}')).toBe(1);
    expect(value('keel_proxy_sync_proxy_rules_duration_seconds_count{kind="partial"}')).toBe(1);
    expect(value('keel_proxy_sync_proxy_rules_duration_seconds_bucket{kind="partial",le="+Inf"}')).toBe(1);
    expect(value('keel_proxy_sync_proxy_rules_duration_seconds_sum{kind="full"}')).toBe(p.metrics.lastFull!.durationMs / 1000);
    const last = value('keel_proxy_sync_proxy_rules_last_timestamp_seconds');
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);
    // What the fake kernel holds in our chains is what the metrics say was programmed.
    const ours = (table: 'nat' | 'filter') => ipt.chains(table).map((c) => ipt.tables[table]!.get(c)!.length);
    expect(value('keel_proxy_iptables_chains{table="nat"}')).toBe(ours('nat').length);
    expect(value('keel_proxy_iptables_rules{table="filter"}')).toBe(ours('filter').reduce((a, b) => a + b, 0));
    expect(value('keel_proxy_iptables_rules{table="nat"}') + value('keel_proxy_iptables_rules{table="filter"}')).toBe(p.metrics.rules);
  });
});
