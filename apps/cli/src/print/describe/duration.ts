// Ages as kubectl prints them (`45s`, `3m12s`, `2d3h`): for event ages, `Terminating (lasts …)`
// and the Age column of a node's pods.

/** kubectl's short duration: 45s, 3m12s, 5h, 2d3h, 400d. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return d < 365 * 2 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

export function age(ts: string | null | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  return shortDuration(now.getTime() - Date.parse(ts));
}
