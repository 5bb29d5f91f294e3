// The syncer: holds the Services and EndpointSlices it has been told about, and makes
// iptables match them. Level-triggered, as kube-proxy: a change only asks for a sync;
// syncs are coalesced (at most one per minimum interval, one at a time) and each one
// recomputes every rule from the current objects. A partial sync writes only the chains
// that differ from the last applied state; a full sync (the first, every full-sync
// interval, and after any failure, since the tables may then be anything) reads the tables
// back with iptables-save and rewrites every chain of ours that differs from what it wants,
// re-inserts missing jumps and deletes stale chains it finds. After a
// successful sync, conntrack entries of removed UDP endpoints are deleted. Metrics, in
// kube-proxy's terms: a histogram of sync durations by kind, the time of the last good
// sync, and rules and chains per table.
import type { Endpoints, EndpointSlice, Service } from '@keel/api';
import { staleConntrackDeletions } from './conntrack';
import type { ConntrackBackend, IptablesBackend } from './iptables';
import { family, Histogram, SyncDurationBuckets } from '../metrics';
import { endpointsToSlices } from './model';
import { missingJumps, ownChains, parseSave, planRestore } from './restore';
import { computeRules, JUMPS, RuleCache, type ProgrammedPort, type RuleConfig, type TableChains } from './rules';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface ProxierOptions {
  iptables: IptablesBackend;
  conntrack?: ConntrackBackend;
  rules: RuleConfig;
  /** At most one sync per this many ms (kube-proxy's --iptables-min-sync-period); default 1,000. */
  minSyncIntervalMs?: number;
  /** A full sync at least this often (kube-proxy's --iptables-sync-period); default 300,000. */
  fullSyncIntervalMs?: number;
  /**
   * A sync that changes more chains than this is applied in ordered batches of this many
   * (iptables-nft's restore slows down faster than linearly with one batch's size); each
   * batch leaves every jump with a target. Default 500; Infinity keeps every sync atomic.
   */
  maxChainsPerBatch?: number;
  /** A full sync rewrites every chain (as kube-proxy's does) instead of only those that differ from the kernel's. */
  rewriteAllOnFullSync?: boolean;
  log?: LogFn;
  now?: () => number;
}

export interface SyncResult {
  full: boolean;
  /** Whole sync, compute and iptables-restore (and iptables-save for a full sync), in ms. */
  durationMs: number;
  computeMs: number;
  applyMs: number;
  chainsWritten: number;
  chainsDeleted: number;
  /** Lines in the restore input, over all batches. */
  scriptLines: number;
  /** iptables-restore runs (more than one only for a sync too big for one batch). */
  batches: number;
  rules: number;
  conntrackDeletions: number;
}

export interface ProxierMetrics {
  syncs: { full: number; partial: number; failed: number };
  last?: SyncResult;
  lastFull?: SyncResult;
  lastPartial?: SyncResult;
  lastSuccessAt?: number;
  rules: number;
  chains: number;
  servicePorts: number;
  endpoints: number;
  /** Rules and chains per table (nat, filter), as last programmed. */
  tables: Record<string, { rules: number; chains: number }>;
}

const gauge = (name: string, help: string, value: number) => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];

const key = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name ?? ''}`;

export class Proxier {
  private readonly services = new Map<string, Service>();
  /** Slices by "ns/name"; Endpoints objects converted to slices under "endpoints:ns/name". */
  private readonly slices = new Map<string, EndpointSlice[]>();
  private applied?: TableChains;
  private readonly cache = new RuleCache();
  private programmed: ProgrammedPort[] = [];
  private synced = false;
  private stopped = false;
  private needFull = true;
  private timer?: ReturnType<typeof setTimeout>;
  private fullTimer?: ReturnType<typeof setInterval>;
  private tail: Promise<unknown> = Promise.resolve();
  private lastSyncStart = Number.NEGATIVE_INFINITY;
  /** Scheduled syncs that failed in a row, for the retry back-off. */
  private failures = 0;
  private readonly now: () => number;
  private readonly log: LogFn;
  readonly metrics: ProxierMetrics = { syncs: { full: 0, partial: 0, failed: 0 }, rules: 0, chains: 0, servicePorts: 0, endpoints: 0, tables: {} };
  /** Every successful sync's duration, by kind (full, partial). */
  readonly syncDurations = new Histogram('keel_proxy_sync_proxy_rules_duration_seconds', 'Duration of proxy rule syncs, by kind (full, partial).', SyncDurationBuckets);

  constructor(private readonly opts: ProxierOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? (() => undefined);
  }

  upsertService(svc: Service): void {
    this.services.set(key(svc), svc);
    this.requestSync();
  }

  deleteService(svc: Service): void {
    this.services.delete(key(svc));
    this.requestSync();
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    this.slices.set(key(slice), [slice]);
    this.requestSync();
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    this.slices.delete(key(slice));
    this.requestSync();
  }

  upsertEndpoints(ep: Endpoints): void {
    this.slices.set(`endpoints:${key(ep)}`, endpointsToSlices(ep));
    this.requestSync();
  }

  deleteEndpoints(ep: Endpoints): void {
    this.slices.delete(`endpoints:${key(ep)}`);
    this.requestSync();
  }

  /**
   * The sources have delivered their first complete list: syncing before that would
   * write REJECT for every Service whose endpoints have not arrived yet.
   */
  setSynced(): void {
    if (this.synced) return;
    this.synced = true;
    const every = this.opts.fullSyncIntervalMs ?? 300_000;
    this.fullTimer = setInterval(() => {
      this.needFull = true;
      this.requestSync();
    }, every);
    this.fullTimer.unref?.();
    this.requestSync();
  }

  /** Asks for a sync; many asks within the minimum interval make one sync. */
  requestSync(): void {
    if (!this.synced || this.stopped || this.timer) return;
    const min = this.opts.minSyncIntervalMs ?? 1_000;
    // After failures, wait longer each time (up to 30 s) rather than hammer a broken iptables.
    const gap = this.failures === 0 ? min : Math.min(30_000, Math.max(min, 1_000) * 2 ** (this.failures - 1));
    const wait = Math.max(0, this.lastSyncStart + gap - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync().then(
        () => (this.failures = 0),
        (err: unknown) => {
          this.failures++;
          this.log('error', 'proxy sync failed; retrying with a full sync', { error: String(err), failures: this.failures });
          this.requestSync();
        },
      );
    }, wait);
  }

  /** Syncs now (after any sync in progress); full when asked or when the state is unknown. */
  sync(opts: { full?: boolean } = {}): Promise<SyncResult> {
    const next = this.tail.then(() => this.syncOnce(opts.full === true || this.needFull));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Waits for the sync in progress and any already scheduled. */
  async idle(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, 5));
    await this.tail;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.fullTimer) clearInterval(this.fullTimer);
    this.timer = undefined;
  }

  /** The rules last applied, by table and chain (for tests and debugging). */
  appliedChains(): TableChains | undefined {
    return this.applied;
  }

  private async syncOnce(full: boolean): Promise<SyncResult> {
    const started = this.now();
    this.lastSyncStart = started;
    this.needFull = true; // until this sync succeeds
    try {
      const ruleSet = computeRules([...this.services.values()], [...this.slices.values()].flat(), this.opts.rules, this.cache);
      const computed = this.now();
      let plan;
      if (full) {
        const saved = parseSave(await this.opts.iptables.save());
        plan = planRestore({
          desired: ruleSet.tables,
          // The kernel's own state, not what we believe we wrote: anything that drifted is rewritten.
          applied: this.opts.rewriteAllOnFullSync ? undefined : ownChains(saved),
          existing: { nat: saved.nat.chains, filter: saved.filter.chains },
          missingJumps: missingJumps(saved, JUMPS),
          maxChainsPerBatch: this.opts.maxChainsPerBatch ?? 500,
        });
      } else {
        plan = planRestore({ desired: ruleSet.tables, applied: this.applied, maxChainsPerBatch: this.opts.maxChainsPerBatch ?? 500 });
      }
      for (const batch of plan.batches) await this.opts.iptables.restore(batch);
      const applied = this.now();
      this.applied = ruleSet.tables;
      this.needFull = false;

      const deletions = staleConntrackDeletions(this.programmed, ruleSet.ports);
      this.programmed = ruleSet.ports;
      for (const args of deletions) {
        try {
          await this.opts.conntrack?.delete(args);
        } catch (err) {
          this.log('warn', 'conntrack cleanup failed', { args, error: String(err) });
        }
      }
      const result: SyncResult = {
        full,
        durationMs: this.now() - started,
        computeMs: computed - started,
        applyMs: applied - computed,
        chainsWritten: plan.written.length,
        chainsDeleted: plan.deleted.length,
        scriptLines: plan.batches.reduce((n, b) => n + b.split('\n').length - 1, 0),
        batches: plan.batches.length,
        rules: ruleSet.counts.rules,
        conntrackDeletions: deletions.length,
      };
      const m = this.metrics;
      m.syncs[full ? 'full' : 'partial']++;
      m.last = result;
      if (full) m.lastFull = result;
      else m.lastPartial = result;
      m.lastSuccessAt = Date.now();
      Object.assign(m, { rules: ruleSet.counts.rules, chains: ruleSet.counts.chains, servicePorts: ruleSet.counts.servicePorts, endpoints: ruleSet.counts.endpoints });
      m.tables = Object.fromEntries(
        Object.entries(ruleSet.tables).map(([table, chains]: [string, Map<string, string[]>]) => [table, { chains: chains.size, rules: [...chains.values()].reduce((n, lines) => n + lines.length, 0) }]),
      );
      this.syncDurations.observe(result.durationMs / 1000, { kind: full ? 'full' : 'partial' });
      this.log('info', full ? 'proxy full sync' : 'proxy partial sync', { ...result });
      return result;
    } catch (err) {
      this.applied = undefined;
      this.metrics.syncs.failed++;
      throw err;
    }
  }

  /** Prometheus text for /metrics: sync durations and counts, rule counts. */
  metricsText(): string {
    const m = this.metrics;
    const lines = [
      '# HELP keel_proxy_sync_duration_seconds Duration of the last proxy sync of each kind.',
      '# TYPE keel_proxy_sync_duration_seconds gauge',
      ...(m.lastFull ? [`keel_proxy_sync_duration_seconds{kind="full"} ${m.lastFull.durationMs / 1000}`] : []),
      ...(m.lastPartial ? [`keel_proxy_sync_duration_seconds{kind="partial"} ${m.lastPartial.durationMs / 1000}`] : []),
      '# HELP keel_proxy_syncs_total Proxy syncs by kind and outcome.',
      '# TYPE keel_proxy_syncs_total counter',
      `keel_proxy_syncs_total{kind="full"} ${m.syncs.full}`,
      `keel_proxy_syncs_total{kind="partial"} ${m.syncs.partial}`,
      `keel_proxy_syncs_total{kind="failed"} ${m.syncs.failed}`,
      ...gauge('keel_proxy_rules', 'Rules the proxy has programmed.', m.rules),
      ...gauge('keel_proxy_chains', 'Chains the proxy has programmed.', m.chains),
      ...gauge('keel_proxy_service_ports', 'Service ports the proxy has programmed.', m.servicePorts),
      ...gauge('keel_proxy_endpoints', 'Ready endpoints the proxy balances across.', m.endpoints),
      ...this.syncDurations.text(),
      ...family('keel_proxy_sync_proxy_rules_last_timestamp_seconds', 'When the last successful sync of proxy rules ended (seconds since the epoch).', 'gauge', m.lastSuccessAt ? [{ value: m.lastSuccessAt / 1000 }] : []),
      ...family('keel_proxy_iptables_rules', 'iptables rules the proxy programmed, by table.', 'gauge', Object.entries(m.tables).map(([table, t]) => ({ labels: { table }, value: t.rules }))),
      ...family('keel_proxy_iptables_chains', 'iptables chains the proxy programmed, by table.', 'gauge', Object.entries(m.tables).map(([table, t]) => ({ labels: { table }, value: t.chains }))),
    ];
    return `${lines.join('\n')}\n`;
  }
}
