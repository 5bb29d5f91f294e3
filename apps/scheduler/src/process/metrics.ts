// /healthz and Prometheus /metrics for the scheduler process, on a plain loopback HTTP port.

import { createServer, type Server } from 'node:http';
import type { Scheduler } from '../scheduler';

export function metricsText(s: Scheduler, leading: boolean): string {
  const m = s.metrics;
  const q = s.queue.lengths();
  const lines = [
    '# HELP scheduler_schedule_attempts_total Scheduling attempts by result.',
    '# TYPE scheduler_schedule_attempts_total counter',
    `scheduler_schedule_attempts_total{result="scheduled"} ${m.scheduled}`,
    `scheduler_schedule_attempts_total{result="unschedulable"} ${m.unschedulable}`,
    `scheduler_schedule_attempts_total{result="error"} ${m.errors}`,
    '# HELP scheduler_preemption_attempts_total Preemptions that chose victims.',
    '# TYPE scheduler_preemption_attempts_total counter',
    `scheduler_preemption_attempts_total ${m.preemptions}`,
    '# HELP scheduler_binding_failures_total Bindings the apiserver refused.',
    '# TYPE scheduler_binding_failures_total counter',
    `scheduler_binding_failures_total ${m.bindFailures}`,
    '# HELP scheduler_pending_pods Pods waiting, by queue.',
    '# TYPE scheduler_pending_pods gauge',
    `scheduler_pending_pods{queue="active"} ${q.active}`,
    `scheduler_pending_pods{queue="backoff"} ${q.backoff}`,
    `scheduler_pending_pods{queue="unschedulable"} ${q.unschedulable}`,
    '# HELP scheduler_scheduling_algorithm_duration_seconds Time from pop to assume.',
    '# TYPE scheduler_scheduling_algorithm_duration_seconds summary',
    `scheduler_scheduling_algorithm_duration_seconds_sum ${m.decisionMsSum / 1000}`,
    `scheduler_scheduling_algorithm_duration_seconds_count ${m.scheduled}`,
    '# HELP scheduler_scheduling_attempt_duration_seconds One scheduling attempt: pop to assume, or to the unschedulable verdict.',
    '# TYPE scheduler_scheduling_attempt_duration_seconds histogram',
    ...s.latencies.attempt.scheduled.lines('scheduler_scheduling_attempt_duration_seconds', 'result="scheduled"'),
    ...s.latencies.attempt.unschedulable.lines('scheduler_scheduling_attempt_duration_seconds', 'result="unschedulable"'),
    ...s.latencies.attempt.error.lines('scheduler_scheduling_attempt_duration_seconds', 'result="error"'),
    '# HELP scheduler_pod_scheduling_sli_duration_seconds From a pod first entering the queue to its binding, over all attempts.',
    '# TYPE scheduler_pod_scheduling_sli_duration_seconds histogram',
    ...s.latencies.podScheduling.lines('scheduler_pod_scheduling_sli_duration_seconds'),
    '# HELP leader_election_master_status 1 while this replica leads.',
    '# TYPE leader_election_master_status gauge',
    `leader_election_master_status{name="keel-scheduler"} ${leading ? 1 : 0}`,
  ];
  return lines.join('\n') + '\n';
}

export function serveHealth(s: Scheduler, leading: () => boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(metricsText(s, leading()));
    } else res.writeHead(404).end('not found');
  });
}
