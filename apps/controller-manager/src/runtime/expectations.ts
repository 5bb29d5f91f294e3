// Expectations (Kubernetes' ControllerExpectations): how many pod creations and which pod
// deletions a controller has asked for and not yet seen in its watch. Until they are seen
// (or `timeoutMs` passes, in case an event was lost) the controller does not count pods
// again, since its cache is behind its own writes and it would create or delete twice.

interface Record {
  adds: number;
  deletes: Set<string>;
  /** When the expectations were set, for the timeout. */
  at: number;
}

export class Expectations {
  private readonly records = new Map<string, Record>();

  constructor(
    private readonly now: () => number,
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  /** We are about to create `adds` pods and delete the pods with these keys. */
  expect(controllerKey: string, adds: number, deletes: readonly string[] = []): void {
    this.records.set(controllerKey, { adds, deletes: new Set(deletes), at: this.now() });
  }

  creationObserved(controllerKey: string): void {
    const r = this.records.get(controllerKey);
    if (r && r.adds > 0) r.adds--;
  }

  /** A create that failed will never be observed. */
  creationFailed(controllerKey: string): void {
    this.creationObserved(controllerKey);
  }

  deletionObserved(controllerKey: string, podKey: string): void {
    this.records.get(controllerKey)?.deletes.delete(podKey);
  }

  /** Whether the cache has caught up with our writes (or we waited long enough). */
  satisfied(controllerKey: string): boolean {
    const r = this.records.get(controllerKey);
    if (!r) return true;
    if (r.adds <= 0 && r.deletes.size === 0) return true;
    return this.now() - r.at > this.timeoutMs;
  }

  pending(controllerKey: string): { adds: number; deletes: number } | undefined {
    const r = this.records.get(controllerKey);
    return r ? { adds: r.adds, deletes: r.deletes.size } : undefined;
  }

  forget(controllerKey: string): void {
    this.records.delete(controllerKey);
  }
}
