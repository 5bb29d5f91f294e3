// The latency histograms: cumulative buckets as Prometheus exposes them, and the scheduler
// filling Kubernetes' attempt and end-to-end histograms as it binds.
import { describe, expect, it } from 'vitest';
import { makeNode, makePod } from '../testing/builders';
import { Scheduler } from '../scheduler';
import { Histogram } from './histogram';
import { metricsText } from './metrics';

describe('Histogram', () => {
  it('counts each observation in every bucket at or above it', () => {
    const h = Histogram.exponential(0.001, 2, 3);
    for (const v of [0.0005, 0.0015, 0.003, 1]) h.observe(v);
    expect(h.lines('x', 'result="scheduled"')).toEqual([
      'x_bucket{result="scheduled",le="0.001"} 1',
      'x_bucket{result="scheduled",le="0.002"} 2',
      'x_bucket{result="scheduled",le="0.004"} 3',
      'x_bucket{result="scheduled",le="+Inf"} 4',
      'x_sum{result="scheduled"} 1.005',
      'x_count{result="scheduled"} 4',
    ]);
  });

  it('is what the scheduler reports per attempt and per pod on /metrics', async () => {
    let now = 0;
    const s = new Scheduler({
      api: { bind: async () => undefined, deletePod: async () => undefined, updatePodStatus: async () => undefined, recordEvent: async () => undefined },
      now: () => now,
      random: () => 0.5,
    });
    s.onNodeEvent('ADDED', makeNode('a', { cpu: '1' }));
    s.onPodEvent('ADDED', makePod('fits', { cpu: '500m' }));
    s.onPodEvent('ADDED', makePod('too-big', { cpu: '2' }));
    now = 30; // both waited 30 ms in the queue
    while (s.scheduleOne());
    await s.settle();
    const text = metricsText(s, true);
    expect(text).toContain('scheduler_scheduling_attempt_duration_seconds_count{result="scheduled"} 1');
    expect(text).toContain('scheduler_scheduling_attempt_duration_seconds_count{result="unschedulable"} 1');
    expect(text).toContain('scheduler_pod_scheduling_sli_duration_seconds_count 1');
    // 30 ms falls in the 0.04 s bucket, not in the 0.02 s one.
    expect(text).toContain('scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.02"} 0');
    expect(text).toContain('scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.04"} 1');
  });
});
