// Per-resource rules layered on the generic handler, in the manner of kube-apiserver's
// "strategies": what a create or update must reset or fill in, how an object is validated,
// whether deletion is graceful, and what happens around a write (IP allocation, for one).
// The generic behaviour (uid, timestamps, generation, status split) lives in handler.ts;
// a strategy only adds what is particular to its resource.
import type { DeleteOptions, KubeObject, ResourceInfo, StatusCause } from '@keel/api';

export interface StrategyContext {
  now: Date;
}

export interface Strategy {
  /** Resets what a client may not set on create (status, for most) and fills server fields. */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Adjusts an update after the generic rules (status split, generation) ran. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void;
  /** Field errors for a new object (after defaulting). */
  validate?(obj: KubeObject): StatusCause[];
  /** Field errors for an update, including immutable fields. */
  validateUpdate?(obj: KubeObject, old: KubeObject): StatusCause[];
  /**
   * Seconds of grace for a delete, or undefined to delete at once. A graceful delete sets
   * deletionTimestamp and leaves removal to whoever finishes the object (the node agent).
   */
  gracePeriod?(obj: KubeObject, options: DeleteOptions): number | undefined;
  /** True when the object may not be removed yet although its metadata finalizers are empty. */
  blocksRemoval?(obj: KubeObject): boolean;
  /** Marks the object as being deleted (beyond deletionTimestamp), e.g. a Terminating phase. */
  prepareForDelete?(obj: KubeObject): void;
  /** Runs before the store write of a create (allocations); may throw an ApiError. */
  beforeCreate?(obj: KubeObject): Promise<void>;
  /** Undoes beforeCreate's effects when the create did not happen. */
  createFailed?(obj: KubeObject): Promise<void>;
  /** Runs after the object is gone from the store (releases). */
  afterDelete?(obj: KubeObject): Promise<void>;
}

export type StrategyTable = (info: ResourceInfo) => Strategy;
