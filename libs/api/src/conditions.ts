// Status conditions, as every controller keeps them: find one by type, and set one so that
// lastTransitionTime moves only when the status really changes (a heartbeat that repeats
// "Ready=True" must not look like a fresh transition). Pure: returns new lists, and the
// time comes in as an argument.

import { formatTime } from './objects';

/** The fields every condition type shares (PodCondition, NodeCondition, DeploymentCondition...). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function findCondition<C extends Condition>(conditions: readonly C[] | undefined, type: string): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether the condition of this type is present with status True. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * The list with `condition` set in place of any of its type. lastTransitionTime is `now` when
 * the status changed (or the condition is new) and kept otherwise; other fields come from
 * `condition`. Order is kept; a new type goes last.
 */
export function setCondition<C extends Condition>(conditions: readonly C[] | undefined, condition: C, now: number | Date): C[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === condition.type);
  const existing = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    existing && existing.status === condition.status && existing.lastTransitionTime ? existing.lastTransitionTime : formatTime(now);
  const next = { ...condition, lastTransitionTime };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/** The list without the condition of this type. */
export function removeCondition<C extends Condition>(conditions: readonly C[] | undefined, type: string): C[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
