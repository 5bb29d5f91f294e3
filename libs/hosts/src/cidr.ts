// IPv4 address arithmetic for host bridges and pod CIDRs: parse, format, the n-th address
// of a subnet, containment and overlap. Pure; addresses are unsigned 32-bit numbers.

export interface Ipv4Cidr {
  /** The network address (host bits cleared). */
  base: number;
  prefix: number;
  /** Number of addresses, 2^(32 - prefix). */
  size: number;
}

export function parseIpv4(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const octets = m ? m.slice(1).map(Number) : [];
  if (!m || octets.some((o) => o > 255)) throw new Error(`not an IPv4 address: "${text}"`);
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses a.b.c.d/len; the address must be the network address (no host bits set). */
export function parseCidr(text: string): Ipv4Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m) throw new Error(`not an IPv4 CIDR: "${text}"`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`prefix length above 32 in "${text}"`);
  const addr = parseIpv4(m[1]!);
  const base = (addr & mask(prefix)) >>> 0;
  if (base !== addr) throw new Error(`"${text}" has host bits set; the network is ${formatIpv4(base)}/${prefix}`);
  return { base, prefix, size: 2 ** (32 - prefix) };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** The n-th address of the subnet (1 = the first usable one); refuses network and broadcast. */
export function nthAddress(cidr: string, n: number): string {
  const c = parseCidr(cidr);
  if (!Number.isInteger(n) || n < 1 || (c.size > 2 && n >= c.size - 1)) {
    throw new Error(`address #${n} is not a usable address of ${cidr}`);
  }
  return formatIpv4(c.base + n);
}

export function containsAddress(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  return ((parseIpv4(ip) & mask(c.prefix)) >>> 0) === c.base;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const prefix = Math.min(x.prefix, y.prefix);
  return ((x.base & mask(prefix)) >>> 0) === ((y.base & mask(prefix)) >>> 0);
}

/** The i-th subnet of length `prefix` inside `cidr` (e.g. the i-th /24 of a /16, for pod CIDRs). */
export function nthSubnet(cidr: string, prefix: number, i: number): string {
  const c = parseCidr(cidr);
  if (prefix < c.prefix || prefix > 32) throw new Error(`cannot cut /${prefix} subnets out of ${cidr}`);
  const count = 2 ** (prefix - c.prefix);
  if (!Number.isInteger(i) || i < 0 || i >= count) throw new Error(`${cidr} has ${count} /${prefix} subnets, no #${i}`);
  return formatCidr({ base: c.base + i * 2 ** (32 - prefix), prefix, size: 2 ** (32 - prefix) });
}
