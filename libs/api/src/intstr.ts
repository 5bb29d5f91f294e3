// IntOrString (`intstr.IntOrString`): a field that holds either a number or a string, such as
// a Service's targetPort (a port number or a named container port) or a rolling update's
// maxSurge (a count or a percentage like "25%"). This file owns the type and the one
// calculation controllers need from it: turning a count-or-percent into a count.

/** A number, or a string (a port name, or a percentage such as `"25%"`). */
export type IntOrString = number | string;

const percentPattern = /^[0-9]+%$/;

export function isPercent(value: IntOrString): value is string {
  return typeof value === 'string' && percentPattern.test(value);
}

/**
 * The count an int-or-percent stands for out of `total`. A percentage is rounded up when
 * `roundUp` (maxSurge) and down otherwise (maxUnavailable), as the Deployment controller does.
 * Throws on a string that is not a percentage.
 */
export function scaledValueFromIntOrPercent(value: IntOrString, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (!isPercent(value)) throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  const percent = Number(value.slice(0, -1));
  const exact = (percent * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
