// Pieces every kubectl-style describer shares: RFC 1123 times, multi-line Labels /
// Annotations / Taints / Tolerations, the controller line, condition tables and a pod
// template (containers, probes, environment, mounts, volumes). Everything here returns lines
// with tabs where kubectl's describers put them; tabwrite() aligns them at the end.
import { formatLabelSelector, type LabelSelector, type ObjectMeta, type Taint, type Toleration } from '@keel/api';

export const LEVEL = (n: number): string => '  '.repeat(n);

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/**
 * Go's RFC1123Z (`Mon, 02 Jan 2006 15:04:05 -0700`) in local time, as kubectl shows times;
 * Go's zero time when unset, as kubectl prints an empty condition time.
 */
export function rfc1123z(ts: string | null | undefined): string {
  if (!ts) return 'Mon, 01 Jan 0001 00:00:00 +0000';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${two(Math.floor(Math.abs(off) / 60))}${two(Math.abs(off) % 60)}`;
  return `${DAYS[d.getDay()]}, ${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}`;
}

/** `Title:\tk=v` then `\tk=v` per further label, sorted; `<none>` when empty. */
export function labelLines(title: string, labels: Record<string, string> | undefined): string[] {
  const keys = Object.keys(labels ?? {}).sort();
  if (!keys.length) return [`${title}:\t<none>`];
  return keys.map((k, i) => `${i === 0 ? `${title}:` : ''}\t${k}=${labels![k]}`);
}

const MAX_ANNOTATION = 140;
/** The client-side apply record is noise in a description; kubectl leaves it out too. */
const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** Annotations as `k: v`, long or multi-line values on their own shortened lines. */
export function annotationLines(title: string, annotations: Record<string, string> | undefined): string[] {
  const keys = Object.keys(annotations ?? {}).filter((k) => !SKIPPED_ANNOTATIONS.has(k)).sort();
  if (!keys.length) return [`${title}:\t<none>`];
  const out: string[] = [];
  keys.forEach((k, i) => {
    const head = i === 0 ? `${title}:\t` : '\t';
    const value = annotations![k]!.replace(/\n$/, '');
    if (value.length + k.length + 2 > MAX_ANNOTATION || value.includes('\n')) {
      out.push(`${head}${k}:`);
      for (const s of value.split('\n')) out.push(`\t  ${s.length > MAX_ANNOTATION - 2 ? `${s.slice(0, MAX_ANNOTATION - 2)}...` : s}`);
    } else {
      out.push(`${head}${k}: ${value}`);
    }
  });
  return out;
}

export function taintText(t: Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

export function taintLines(title: string, taints: Taint[] | undefined): string[] {
  const sorted = [...(taints ?? [])].sort((a, b) => `${a.effect},${a.key}`.localeCompare(`${b.effect},${b.key}`));
  if (!sorted.length) return [`${title}:\t<none>`];
  return sorted.map((t, i) => `${i === 0 ? `${title}:` : ''}\t${taintText(t)}`);
}

export function tolerationText(t: Toleration): string {
  let s = t.key ?? '';
  if (t.value) s += `=${t.value}`;
  if (t.effect) s += `:${t.effect}`;
  // A bare `operator: Exists` tolerates every taint.
  if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
  if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
  return s;
}

export function tolerationLines(title: string, tolerations: Toleration[] | undefined): string[] {
  const sorted = [...(tolerations ?? [])].sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
  if (!sorted.length) return [`${title}:\t<none>`];
  return sorted.map((t, i) => `${i === 0 ? `${title}:` : ''}\t${tolerationText(t)}`);
}

/** `Kind/name` of the controlling owner, or undefined. */
export function controllerOf(md: ObjectMeta | undefined): string | undefined {
  const ref = md?.ownerReferences?.find((o) => o.controller);
  return ref ? `${ref.kind}/${ref.name}` : undefined;
}

/** The query-string form of a selector, as kubectl prints `Selector:`. */
export function selectorText(selector: LabelSelector | undefined): string {
  return formatLabelSelector(selector ?? {});
}

/** `Events:\t<none>` joins the last alignment block, as kubectl's does; real events print apart. */
export const NO_EVENTS = 'Events:\t<none>';
