// The fixed pipeline every controller here follows (sample-controller's shape): informers
// enqueue keys, workers take a key and call the controller's idempotent reconcile(key),
// which rereads the cache and makes the world match. An error requeues the key with
// back-off; success forgets its failures. A reconcile never edits a cached object: it copies.
// The queue and the runner are @keel/client's.
import { ApiError } from '@keel/api';
import { ReconcileRunner, WorkQueue, type Client, type EventRecorder } from '@keel/client';
import type { InformerFactory } from './factory';
import type { Logger } from './log';
import type { RestAccess } from './rest';

export interface ControllerConfig {
  /** `--cluster-cidr`: where node pod CIDRs come from; node IPAM is off without it. */
  clusterCidr?: string;
  /** Prefix length of each node's pod CIDR. Default 24. */
  nodeCidrMaskSize?: number;
  /**
   * `--apiserver-url`: the apiserver's REST URL, used only for what keel.v1 does not serve
   * yet (namespaces/finalize).
   */
  apiserverUrl?: string;
  /** TLS and token for `apiserverUrl`, as the gRPC connection uses them. */
  apiserverAuth?: Omit<RestAccess, 'url'>;
  /** First delay before a Job replaces a failed pod, doubled per failure up to 6 min. Default 10 s. */
  jobBackoffBaseMs?: number;
  /** The cluster CA (PEM) the root CA publisher puts in every namespace's kube-root-ca.crt. */
  rootCA?: string;
  /** `--node-monitor-grace-period`, ms. Default 40 s. */
  nodeMonitorGracePeriodMs?: number;
}

export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  /** Events about the objects controllers act on (`kubectl describe` shows them). */
  recorder: EventRecorder;
  now: () => number;
  log: Logger;
  config: ControllerConfig;
}

export abstract class Controller {
  abstract readonly name: string;
  readonly queue = new WorkQueue<string>();
  /** Reconciles running now (the queue does not say). */
  inFlight = 0;
  /** For /metrics: reconciles done, and how many failed. */
  readonly counts = { reconciles: 0, errors: 0 };

  enqueue(key: string): void {
    this.queue.add(key);
  }

  abstract reconcile(key: string): Promise<void>;

  /** Nothing queued and nothing running (tests wait for this). */
  idle(): boolean {
    return this.queue.len() === 0 && this.inFlight === 0;
  }
}

/** A runner of `workers` loops over the controller's queue. */
export function runnerFor(controller: Controller, workers: number, log: Logger): ReconcileRunner<string> {
  return new ReconcileRunner<string>({
    queue: controller.queue,
    workers,
    reconcile: async (key) => {
      controller.inFlight++;
      controller.counts.reconciles++;
      try {
        await controller.reconcile(key);
      } catch (err) {
        controller.counts.errors++;
        throw err;
      } finally {
        controller.inFlight--;
      }
    },
    onError: (key, err) => {
      // A conflict is routine (someone wrote first): retry quietly from fresh state.
      const quiet = err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'AlreadyExists');
      if (!quiet) log.warn('reconcile failed', { controller: controller.name, key, err: (err as Error).message, retries: controller.queue.numRequeues(key) });
    },
  });
}

/** Whether an error means the object is already gone (deletes and updates that lost a race). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'NotFound';
}
