// Prometheus text for /metrics, under etcd's own metric names so dashboards and alerts made
// for etcd read keel-store too. Hand-written: a few counters, gauges and one histogram do
// not need a library.

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }

  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.buckets.forEach((le, i) => lines.push(`${name}_bucket{le="${le}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join('\n');
  }
}

// etcd's buckets for disk latencies: 1 ms doubling to about 8 s.
const diskBuckets = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

export class Metrics {
  readonly walFsync = new Histogram(diskBuckets);
  readonly backendCommit = new Histogram(diskBuckets);
  leaderChanges = 0;
  proposalsCommitted = 0;
  proposalsApplied = 0;
  proposalsPending = 0;
  proposalsFailed = 0;

  render(extra: { hasLeader: boolean; isLeader: boolean; dbSize: number; revision: number; watchers: number }): string {
    const one = (name: string, type: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}`;
    return (
      [
        this.walFsync.render('etcd_disk_wal_fsync_duration_seconds', 'The latency distributions of fsync called by WAL.'),
        this.backendCommit.render('etcd_disk_backend_commit_duration_seconds', 'The latency distributions of commit called by backend.'),
        one('etcd_server_has_leader', 'gauge', 'Whether or not a leader exists. 1 is existence, 0 is not.', extra.hasLeader ? 1 : 0),
        one('etcd_server_is_leader', 'gauge', 'Whether or not this member is a leader.', extra.isLeader ? 1 : 0),
        one('etcd_server_leader_changes_seen_total', 'counter', 'The number of leader changes seen.', this.leaderChanges),
        one('etcd_server_proposals_committed_total', 'gauge', 'The total number of consensus proposals committed.', this.proposalsCommitted),
        one('etcd_server_proposals_applied_total', 'gauge', 'The total number of consensus proposals applied.', this.proposalsApplied),
        one('etcd_server_proposals_pending', 'gauge', 'The current number of pending proposals to commit.', this.proposalsPending),
        one('etcd_server_proposals_failed_total', 'counter', 'The total number of failed proposals seen.', this.proposalsFailed),
        one('etcd_mvcc_db_total_size_in_bytes', 'gauge', 'Total size of the underlying database physically allocated in bytes.', extra.dbSize),
        one('etcd_debugging_mvcc_current_revision', 'gauge', 'The current revision of store.', extra.revision),
        one('etcd_debugging_mvcc_watcher_total', 'gauge', 'Total number of watchers.', extra.watchers),
      ].join('\n') + '\n'
    );
  }
}
