// Liveness, readiness and startup probes. ProbeState is the pure part, kubelet's prober
// worker without its goroutine: when a probe is due (initialDelaySeconds after the
// container started, then every periodSeconds), and what its result is after
// successThreshold consecutive successes or failureThreshold consecutive failures. A
// readiness probe starts as failure (not ready), liveness as success, startup as not yet
// started. runHandler runs one check — exec through CRI ExecSync, httpGet against the pod
// IP (2xx/3xx succeed), tcpSocket connect — and is shared with preStop hooks.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Container, IntOrString, LifecycleHandler, Probe, ProbeHandler } from '@keel/api';
import type { Runtime } from './runtime';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure';

export class ProbeState {
  result: ProbeResult;
  private successes = 0;
  private failures = 0;
  private lastRunMs = -Infinity;
  readonly periodMs: number;
  readonly timeoutSeconds: number;
  private readonly initialDelayMs: number;
  private readonly successThreshold: number;
  private readonly failureThreshold: number;

  constructor(
    readonly kind: ProbeKind,
    probe: Probe,
    /** When the container started (ms). */
    readonly startedAtMs: number,
  ) {
    this.periodMs = (probe.periodSeconds ?? 10) * 1000;
    this.timeoutSeconds = probe.timeoutSeconds ?? 1;
    this.initialDelayMs = (probe.initialDelaySeconds ?? 0) * 1000;
    // Liveness and startup must use 1 (validation enforces it in Kubernetes).
    this.successThreshold = kind === 'readiness' ? (probe.successThreshold ?? 1) : 1;
    this.failureThreshold = probe.failureThreshold ?? 3;
    this.result = kind === 'liveness' ? 'success' : 'failure';
  }

  due(now: number): boolean {
    return now >= this.startedAtMs + this.initialDelayMs && now >= this.lastRunMs + this.periodMs;
  }

  /** When the next run is due (ms). */
  nextDueMs(): number {
    return Math.max(this.startedAtMs + this.initialDelayMs, this.lastRunMs + this.periodMs);
  }

  /** failureThreshold failures in a row: for a startup probe, the container must be restarted. */
  thresholdFailed(): boolean {
    return this.failures >= this.failureThreshold;
  }

  /** Records one outcome; answers true when the result flipped. */
  record(outcome: ProbeResult, now: number): boolean {
    this.lastRunMs = now;
    if (outcome === 'success') {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
    }
    const before = this.result;
    if (this.successes >= this.successThreshold) this.result = 'success';
    else if (this.failures >= this.failureThreshold) this.result = 'failure';
    return before !== this.result;
  }
}

export interface HandlerContext {
  cri: Runtime;
  containerId: string;
  container: Container;
  podIP?: string;
  timeoutSeconds: number;
}

/** A port by number or by the container's port name. */
export function resolvePort(port: IntOrString, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`port ${port} is not a named port of ${container.name}`);
  return named.containerPort;
}

/** Runs one probe or hook handler; answers success or failure with a message. */
export async function runHandler(handler: ProbeHandler | LifecycleHandler, ctx: HandlerContext): Promise<{ result: ProbeResult; message: string }> {
  try {
    if (handler.exec) {
      const res = await ctx.cri.execSync(ctx.containerId, handler.exec.command ?? [], ctx.timeoutSeconds);
      const out = Buffer.from(res.stdout ?? []).toString() + Buffer.from(res.stderr ?? []).toString();
      return res.exit_code === 0 ? { result: 'success', message: '' } : { result: 'failure', message: `exit code ${res.exit_code}: ${out.trim().slice(0, 200)}` };
    }
    if (handler.httpGet) {
      const h = handler.httpGet;
      const host = h.host || ctx.podIP;
      if (!host) return { result: 'failure', message: 'no pod IP yet' };
      const port = resolvePort(h.port, ctx.container);
      const status = await httpStatus(host, port, h.path ?? '/', Object.fromEntries((h.httpHeaders ?? []).map((x) => [x.name, x.value])), ctx.timeoutSeconds * 1000);
      return status >= 200 && status < 400 ? { result: 'success', message: '' } : { result: 'failure', message: `HTTP probe failed with statuscode: ${status}` };
    }
    if (handler.tcpSocket) {
      const host = handler.tcpSocket.host || ctx.podIP;
      if (!host) return { result: 'failure', message: 'no pod IP yet' };
      await tcpConnect(host, resolvePort(handler.tcpSocket.port, ctx.container), ctx.timeoutSeconds * 1000);
      return { result: 'success', message: '' };
    }
    if ('sleep' in handler && handler.sleep) {
      await new Promise((r) => setTimeout(r, handler.sleep!.seconds * 1000));
      return { result: 'success', message: '' };
    }
    return { result: 'failure', message: 'no supported handler (exec, httpGet, tcpSocket)' };
  } catch (err) {
    return { result: 'failure', message: (err as Error).message };
  }
}

function httpStatus(host: string, port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers: { 'User-Agent': 'kube-probe/keel', ...headers }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: timeoutMs }, () => {
      s.destroy();
      resolve();
    });
    s.on('timeout', () => {
      s.destroy();
      reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
    });
    s.on('error', reject);
  });
}
