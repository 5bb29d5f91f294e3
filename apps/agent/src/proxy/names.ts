// Chain names and the numbers written into rules, computed exactly as kube-proxy does, so
// a reader who knows kube-proxy's iptables finds the same shapes here: a per-port chain
// is KEEL-SVC- plus the first 16 base32 characters of SHA-256("ns/name:port" + "tcp"), an
// endpoint chain is KEEL-SEP- plus the same over the endpoint "ip:port" appended. Only
// the prefix differs (KEEL- for KUBE-), so the hashes equal kube-proxy's.
import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding), without the padding we never reach. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

// Every sync names every chain again; remembering the names makes that a map lookup (a
// SHA-256 costs microseconds, times tens of thousands of chains). Cleared when it grows past
// what a large cluster needs, so names of long-gone endpoints do not pile up.
const names = new Map<string, string>();
const MAX_REMEMBERED = 500_000;

function hash16(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    // 16 base32 characters are the first 80 bits: 10 bytes of the digest.
    name = base32(createHash('sha256').update(text).digest().subarray(0, 10));
    if (names.size >= MAX_REMEMBERED) names.clear();
    names.set(text, name);
  }
  return name;
}

/** kube-proxy's ServicePortName string: "ns/name:port", or "ns/name" for an unnamed port. */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return `${namespace}/${name}${portName ? `:${portName}` : ''}`;
}

/** The chain that picks an endpoint for one service port (KUBE-SVC-… in kube-proxy). */
export function serviceChain(portName: string, protocol: string): string {
  return `KEEL-SVC-${hash16(portName + protocol.toLowerCase())}`;
}

/** The chain that DNATs to one endpoint of one service port (KUBE-SEP-…). */
export function endpointChain(portName: string, protocol: string, endpoint: string): string {
  return `KEEL-SEP-${hash16(portName + protocol.toLowerCase() + endpoint)}`;
}

/** The chains every sync owns by name; anything else of ours matches OWN_HASHED_CHAIN. */
export const FIXED_CHAINS = {
  nat: ['KEEL-SERVICES', 'KEEL-NODEPORTS', 'KEEL-POSTROUTING', 'KEEL-MARK-MASQ'],
  filter: ['KEEL-SERVICES', 'KEEL-EXTERNAL-SERVICES', 'KEEL-FIREWALL'],
} as const;

export const OWN_HASHED_CHAIN = /^KEEL-(SVC|SEP)-[A-Z2-7]{16}$/;

/** True for a chain the proxy made (and may therefore flush and delete). */
export function isOwnChain(table: 'nat' | 'filter', chain: string): boolean {
  return (FIXED_CHAINS[table] as readonly string[]).includes(chain) || OWN_HASHED_CHAIN.test(chain);
}

/**
 * The probability written for an endpoint when n remain to choose from, 1/n, in the form
 * iptables itself prints it back. kube-proxy writes "%0.10f" (0.3333333333); xt_statistic
 * keeps round(2^31 · p) of that as an integer, and iptables-save prints the integer over
 * 2^31 with 11 decimals (0.33333333349). We write the printed form of the very integer
 * kube-proxy's text becomes: the kernel state is identical, and what iptables-save shows
 * is what we wrote.
 */
export function probability(n: number): string {
  const stored = Math.round(0x80000000 * Number((1 / n).toFixed(10)));
  return (stored / 0x80000000).toFixed(11);
}
