import { describe, expect, it } from 'vitest';
import { ProbeState, resolvePort } from './probes';

describe('ProbeState', () => {
  it('readiness starts failing, waits initialDelaySeconds, and needs successThreshold successes', () => {
    const p = new ProbeState('readiness', { initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 2, failureThreshold: 3 }, 1_000);
    expect(p.result).toBe('failure');
    expect(p.due(5_999)).toBe(false);
    expect(p.due(6_000)).toBe(true);
    expect(p.record('success', 6_000)).toBe(false);
    expect(p.due(7_000)).toBe(false);
    expect(p.nextDueMs()).toBe(8_000);
    expect(p.record('success', 8_000)).toBe(true);
    expect(p.result).toBe('success');
    p.record('failure', 10_000);
    p.record('failure', 12_000);
    expect(p.result).toBe('success');
    expect(p.record('failure', 14_000)).toBe(true);
    expect(p.result).toBe('failure');
  });

  it('liveness starts successful and fails after failureThreshold in a row', () => {
    const p = new ProbeState('liveness', { failureThreshold: 2 }, 0);
    expect(p.result).toBe('success');
    p.record('failure', 0);
    p.record('success', 10_000);
    p.record('failure', 20_000);
    expect(p.result).toBe('success');
    p.record('failure', 30_000);
    expect(p.result).toBe('failure');
  });

  it('startup is not started until one success (its successThreshold is always 1)', () => {
    const p = new ProbeState('startup', { successThreshold: 5 }, 0);
    expect(p.result).toBe('failure');
    expect(p.record('success', 0)).toBe(true);
  });

  it('resolves named ports', () => {
    const c = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] };
    expect(resolvePort('http', c)).toBe(8080);
    expect(resolvePort(81, c)).toBe(81);
    expect(() => resolvePort('grpc', c)).toThrow('not a named port');
  });
});

describe('ProbeState.thresholdFailed', () => {
  it('is true after failureThreshold failures in a row', () => {
    const p = new ProbeState('startup', { failureThreshold: 2 }, 0);
    p.record('failure', 0);
    expect(p.thresholdFailed()).toBe(false);
    p.record('failure', 10_000);
    expect(p.thresholdFailed()).toBe(true);
  });
});
