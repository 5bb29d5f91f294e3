// The failover itself, shared by the demo (npm run demo:ha) and its CI test: write through
// the API without pause, kill every process of the store leader's host at once, measure
// how long until a surviving member leads and until a new write is acknowledged, bring the
// host back with `keel up --ha` and wait until its member has applied everything, then
// check that every acknowledged write exists — through the API and on every member's own
// copy of the data.
import type { KubeObject } from '@keel/api';
import { Resources, type Client } from '@keel/client';
import { killHost } from '@keel/hosts';
import { killDaemon } from '@keel/process';
import { listAll, leaderOf, Members, runKeel, type ClusterFile, type KeelCommand, type MemberView } from './cluster';
import type { ProbeSummary, ServiceProbe } from './probe';
import { failoverFigures, formatTimeline, ms, type FailoverFigures, type TimelineEvent } from './timeline';
import { checkWrites, ContinuousWriter, type WriteRecord, type WriterSummary } from './writer';

export interface FailoverOptions {
  file: ClusterFile;
  client: Client;
  keel: KeelCommand;
  /** The namespace the writer creates its ConfigMaps in (created if missing). */
  namespace: string;
  /** Writing before the kill, after writes resume, and after the host is back (ms). */
  beforeMs?: number;
  afterMs?: number;
  afterRejoinMs?: number;
  /** The app's probe, already running (the demo with workers). */
  probe?: ServiceProbe;
  log?: (line: string) => void;
}

export interface FailoverResult {
  killedHost: string;
  killedPids: number;
  oldLeader: { host: string; term: number };
  newLeader?: { host: string; term: number };
  figures: FailoverFigures;
  writes: WriterSummary;
  lost: WriteRecord[];
  /** Failed (unacknowledged) writes that were committed all the same. */
  failedButPresent: number;
  /** Per member: acknowledged writes missing from its own data after catch-up. */
  missingOnMember: Record<string, number>;
  /**
   * The host back: its member answering (ms after the restart began), level with the leader
   * (ms after it answered), and the revision all members reached once writes stopped.
   */
  caughtUp?: { revision: number; servingMs?: number; caughtUpMs?: number };
  probe?: ProbeSummary;
  events: TimelineEvent[];
  timeline: string;
}

/** The Leases of the scheduler and the controller-manager (keel up --ha names them so). */
const LEASE_NAMES = ['kube-scheduler', 'keel-controller-manager'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

export async function runFailover(opts: FailoverOptions): Promise<FailoverResult> {
  const log = opts.log ?? (() => undefined);
  const { file, client, namespace } = opts;
  const members = new Members(file);
  const events: TimelineEvent[] = [];
  const t0 = Date.now();
  const at = () => Date.now() - t0;
  const event = (what: string, when = at()) => {
    events.push({ at: when, what });
    log(`  [${(when / 1000).toFixed(3).padStart(8)} s] ${what}`);
  };

  try {
    await client
      .namespaces()
      .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
      .catch((err: { reason?: string }) => {
        if (err.reason !== 'AlreadyExists') throw err;
      });
    const configMaps = client.resource<KubeObject & { data?: Record<string, string> }>(Resources.configMaps).namespace(namespace);
    const writer = new ContinuousWriter({
      now: at,
      write: async (name, seq) => {
        const created = await configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { seq: String(seq) } });
        return created.metadata.resourceVersion ?? '';
      },
    });
    writer.start();
    event('writer started: one client creating ConfigMaps through the apiservers, each write waiting for its answer');
    await sleep(opts.beforeMs ?? 3000);

    const before = await until('a store leader', 30_000, async () => leaderOf(await members.views()));
    const oldLeader = { host: before.host, term: before.term ?? 0 };
    event(`store leader is ${oldLeader.host} (term ${oldLeader.term}, revision ${before.revision}); ${writer.acked().length} writes acknowledged so far`);

    // SIGKILL every process of the leader's host at once: store member, apiserver,
    // controller-manager, scheduler (as a machine losing power; its network stays up, so
    // peers see connections refused, not silence).
    // Who holds the components' Leases before the kill.
    const leases = client.resource<KubeObject & { spec?: { holderIdentity?: string } }>(Resources.leases).namespace('kube-system');
    const holders = new Map<string, string | undefined>();
    for (const name of LEASE_NAMES) holders.set(name, (await leases.get(name).catch(() => undefined))?.spec?.holderIdentity);

    // By the PIDs keel up recorded (each checked against its command line), all signalled
    // before any is waited for; then a sweep of the host's namespace for anything unrecorded.
    const recorded = Object.entries(file.pidFiles[oldLeader.host] ?? {});
    const killAt = at();
    const killed = await Promise.all(recorded.map(([part, pidFile]) => killDaemon(pidFile).then((k) => (k ? part : undefined))));
    const others = await killHost(oldLeader.host);
    const parts = killed.filter((p): p is string => p !== undefined);
    const pids = [...parts, ...others];
    event(`KILLED host ${oldLeader.host}: SIGKILL to its ${parts.length} recorded processes (${parts.join(', ')})${others.length ? ` and ${others.length} unrecorded ones` : ''}`, killAt);

    // The leader-elected parts: a Lease whose holder was on the killed host passes to a
    // surviving replica once it expires; record when a holder changes (keel status --ha
    // afterwards says which host holds each).
    let watchingLeases = true;
    const leaseWatch = (async () => {
      while (watchingLeases) {
        for (const name of LEASE_NAMES) {
          const holder = (await leases.get(name).catch(() => undefined))?.spec?.holderIdentity;
          if (holder && !holders.get(name)) holders.set(name, holder);
          else if (holder && holder !== holders.get(name)) {
            event(`Lease kube-system/${name} moved to another replica (holder …${holder.slice(-8)}, was …${(holders.get(name) ?? '').slice(-8)})`);
            holders.set(name, holder);
          }
        }
        await sleep(250);
      }
    })();

    const survivors = file.layout.controlPlanes.map((h) => h.name).filter((h) => h !== oldLeader.host);
    let newLeaderView: MemberView | undefined;
    let newLeaderAt: number | undefined;
    try {
      newLeaderView = await until('a new store leader', 30_000, async () => leaderOf(await members.views(survivors)), 25);
      newLeaderAt = at();
      event(`new store leader: ${newLeaderView.host} (term ${newLeaderView.term})`, newLeaderAt);
    } catch (err) {
      event(`NO new leader: ${(err as Error).message}`);
    }

    const resumed = await until('a write acknowledged after the kill', 60_000, async () => writer.firstAckStartedAfter(killAt)).catch(() => undefined);
    if (resumed) event(`writes resumed: ${resumed.name} acknowledged (started ${((resumed.startedAt - killAt) / 1000).toFixed(3)} s after the kill)`, resumed.endedAt);
    else event('writes did NOT resume within 60 s');
    await sleep(opts.afterMs ?? 3000);

    const restartAt = at();
    event(`bringing ${oldLeader.host} back: keel up --ha starts what is not running`, restartAt);
    // While keel up works, watch the member: when it answers again, and when it has applied
    // as much as the leader (with the writer still going).
    let restarting = true;
    const rejoin = (async () => {
      let servingAt: number | undefined;
      while (restarting || servingAt === undefined) {
        const views = await members.views();
        const leader = leaderOf(views);
        const mine = views.find((v) => v.host === oldLeader.host)!;
        if (mine.revision !== undefined && servingAt === undefined) {
          servingAt = at();
          event(`${oldLeader.host}'s store member answers again (revision ${mine.revision}, leader at ${leader?.revision ?? '?'})`, servingAt);
        }
        if (servingAt !== undefined && leader && mine.revision !== undefined && mine.revision >= leader.revision!) {
          const when = at();
          event(`${oldLeader.host}'s member caught up with the leader while writes go on (revision ${mine.revision})`, when);
          return { servingMs: servingAt - restartAt, caughtUpMs: when - servingAt };
        }
        if (!restarting && at() - restartAt > 120_000) return undefined;
        await sleep(50);
      }
      return undefined;
    })();
    await runKeel(opts.keel, ['up', '--ha', '--dir', file.dir, '--no-sample']).finally(() => (restarting = false));
    event(`${oldLeader.host} is back: keel up --ha has its store member, apiserver, controller-manager and scheduler serving`);
    const rejoined = await rejoin;
    await sleep(opts.afterRejoinMs ?? 2000);
    await writer.stop();
    watchingLeases = false;
    await leaseWatch;
    const stoppedAt = at();
    event(`writer stopped: ${writer.summary().acked} acknowledged, ${writer.summary().failed} failed (no answer or an error)`, stoppedAt);

    // Caught up: every member (the returned one too) at the same revision, with no writes coming.
    let caughtUp: FailoverResult['caughtUp'];
    try {
      const views = await until('every member at the same revision', 60_000, async () => {
        const v = await members.views();
        return v.every((m) => m.revision !== undefined) && new Set(v.map((m) => m.revision)).size === 1 ? v : undefined;
      });
      caughtUp = { revision: views[0]!.revision!, ...(rejoined ?? {}) };
      event(`all ${views.length} members at revision ${caughtUp.revision}`);
    } catch (err) {
      event(`members did NOT converge: ${(err as Error).message}`);
    }

    // Zero lost: every acknowledged write is there, with the value it was written with.
    const present = new Map<string, number>();
    for (const cm of await listAll<KubeObject & { data?: Record<string, string> }>(client, Resources.configMaps, namespace)) {
      present.set(cm.metadata.name!, Number(cm.data?.['seq']));
    }
    const check = checkWrites(writer.records, present);
    event(`checked through the API: ${check.acked} acknowledged writes, ${check.lost.length} lost; ${check.failedButPresent} unacknowledged writes were committed anyway`);
    const missingOnMember: Record<string, number> = {};
    const acked = writer.acked().map((r) => r.name);
    for (const h of file.layout.controlPlanes) {
      const keys = new Set((await members.keysOn(h.name, `/registry/configmaps/${namespace}/`)).map((k) => k.slice(k.lastIndexOf('/') + 1)));
      missingOnMember[h.name] = acked.filter((n) => !keys.has(n)).length;
    }
    event(`checked each member's own data: ${Object.entries(missingOnMember).map(([h, n]) => `${h} misses ${n}`).join(', ')}`);

    const figures = failoverFigures({ killAt, ...(newLeaderAt !== undefined ? { newLeaderAt } : {}), records: writer.records });
    const probe = opts.probe?.summary(t0 + killAt - 5000, t0 + stoppedAt);
    // Each failed request to the app goes on the timeline, so its cause can be placed.
    for (const a of opts.probe?.answers ?? []) {
      if (!a.ok && a.t >= t0 + killAt - 5000 && a.t <= t0 + stoppedAt) events.push({ at: a.t - t0, what: `app request failed: ${a.error ?? 'empty or non-2xx answer'}` });
    }
    return {
      killedHost: oldLeader.host,
      killedPids: pids.length,
      oldLeader,
      ...(newLeaderView ? { newLeader: { host: newLeaderView.host, term: newLeaderView.term ?? 0 } } : {}),
      figures,
      writes: writer.summary(),
      lost: check.lost,
      failedButPresent: check.failedButPresent,
      missingOnMember,
      ...(caughtUp ? { caughtUp } : {}),
      ...(probe ? { probe } : {}),
      events,
      timeline: formatTimeline(events, killAt),
    };
  } finally {
    members.close();
  }
}

/** The result as the demo prints it. */
export function formatResult(r: FailoverResult): string {
  const lines = [
    'timeline (relative to the kill):',
    r.timeline,
    '',
    'figures:',
    `  store leader killed:          ${r.oldLeader.host} (term ${r.oldLeader.term}), ${r.killedPids} processes`,
    `  new store leader:             ${r.newLeader ? `${r.newLeader.host} (term ${r.newLeader.term})` : 'NONE'}`,
    `  failover (kill → new leader): ${ms(r.figures.leaderElectedMs)}`,
    `  writes resumed after:         ${ms(r.figures.writesResumedMs)} (kill → first acknowledged write started after it)`,
    `  longest write gap:            ${ms(r.figures.longestAckGapMs)} (between two acknowledged writes, after the kill)`,
    `  writes:                       ${r.writes.attempted} attempted, ${r.writes.acked} acknowledged, ${r.writes.failed} failed`,
    `  acknowledged writes lost:     ${r.lost.length}${r.lost.length ? ` (${r.lost.slice(0, 5).map((w) => w.name).join(', ')}…)` : ''}`,
    `  missing on a member:          ${Object.entries(r.missingOnMember).map(([h, n]) => `${h} ${n}`).join(', ')}`,
    `  host back:                    ${r.caughtUp ? `member answers ${ms(r.caughtUp.servingMs)} after the restart began, level with the leader ${ms(r.caughtUp.caughtUpMs)} later; all at revision ${r.caughtUp.revision}` : 'NOT caught up'}`,
  ];
  if (r.probe) {
    lines.push(`  app via its Service:          ${r.probe.answered} answers, ${r.probe.failed} failures, longest silence ${ms(r.probe.longestSilence.ms)}`);
  }
  return lines.join('\n');
}

/** Whether the run proves what it should: a new leader, writes resumed, nothing lost, the host caught up. */
export function failoverProblems(r: FailoverResult): string[] {
  const problems: string[] = [];
  if (!r.newLeader) problems.push('no new store leader was elected');
  if (r.figures.writesResumedMs === undefined) problems.push('writes did not resume after the kill');
  if (r.lost.length > 0) problems.push(`${r.lost.length} acknowledged writes were lost`);
  for (const [h, n] of Object.entries(r.missingOnMember)) if (n > 0) problems.push(`${h}'s member misses ${n} acknowledged writes`);
  if (!r.caughtUp) problems.push('the host that came back did not catch up');
  return problems;
}
