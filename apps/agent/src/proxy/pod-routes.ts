// Routes to the other nodes' pods: every other Node with a spec.podCIDR and an InternalIP
// is routed to through that IP, so a pod on this node reaches a pod (or a Service's
// endpoint) on another node on this machine. The Node informer feeds `PodRouteSync`, which
// applies the wanted set one sync at a time through the proxy's syncPodRoutes (which only
// ever routes through keel-… links, and records what it added for --cleanup).
import type { Node } from '@keel/api';
import type { PodRoute } from './node-net';

const LOOPBACK = /^127\./;

/**
 * The routes this node needs, given every Node (pure): one per other node that has a pod
 * CIDR and a routable InternalIP. Nodes sharing this node's IP (or on loopback) are skipped:
 * their pods are not behind another address. Sorted by CIDR for stable comparisons.
 */
export function podRoutesFor(nodes: readonly Node[], self: { name: string; ip: string }): PodRoute[] {
  const routes: PodRoute[] = [];
  for (const node of nodes) {
    if (node.metadata.name === self.name) continue;
    const cidr = node.spec?.podCIDR ?? node.spec?.podCIDRs?.[0];
    const via = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!cidr || !via || via === self.ip || LOOPBACK.test(via)) continue;
    routes.push({ cidr, via });
  }
  return routes.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

export interface PodRouteSyncOptions {
  /** Applies the wanted routes (RunningProxy.setPodRoutes). */
  apply(routes: readonly PodRoute[]): Promise<{ added: PodRoute[]; removed: PodRoute[] }>;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Retry after a failed apply (e.g. a node IP not yet reachable); default 5 s. */
  retryMs?: number;
}

/** Applies the latest wanted routes, never two applies at once, retrying after a failure. */
export class PodRouteSync {
  private wanted: PodRoute[] | undefined;
  private applied = '';
  private running = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly opts: PodRouteSyncOptions) {}

  /** Sets the routes wanted now; they are applied soon (coalesced with later updates). */
  set(routes: PodRoute[]): void {
    this.wanted = routes;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      while (this.wanted && !this.stopped) {
        const routes = this.wanted;
        const key = JSON.stringify(routes);
        if (key === this.applied) break;
        try {
          const { added, removed } = await this.opts.apply(routes);
          this.applied = key;
          if (added.length || removed.length) this.opts.log?.('info', 'routes to other nodes\' pods', { added, removed });
        } catch (err) {
          this.opts.log?.('warn', 'cannot route to other nodes\' pods; retrying', { error: (err as Error).message });
          if (this.retry) clearTimeout(this.retry);
          this.retry = setTimeout(() => void this.run(), this.opts.retryMs ?? 5_000);
          break;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
