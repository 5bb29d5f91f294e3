// Names of what libs/hosts creates. Everything is named keel-…, so a cleanup can tell
// ours from the machine's, and the egress guard's `! -o keel-+` matches every link we
// own. Link names are capped by the kernel at 15 characters; a host's name may be
// longer (it is a network namespace name), so its veth end gets a short name derived
// from a hash of the host name.

/** Linux's limit on an interface name (IFNAMSIZ - 1). */
export const MAX_LINK_NAME = 15;

const KEEL_NAME = /^keel-[a-z0-9][a-z0-9-]*$/;

/** Throws unless `name` is a keel-… name made of lower-case letters, digits and dashes. */
export function assertKeelName(what: string, name: string, maxLength = 63): string {
  if (!KEEL_NAME.test(name)) {
    throw new Error(`${what} must be named keel-… (lower-case letters, digits, dashes), got "${name}"`);
  }
  if (name.length > maxLength) throw new Error(`${what} "${name}" is longer than ${maxLength} characters`);
  return name;
}

/** Throws unless `name` is a keel-… link name the kernel accepts. */
export function assertLinkName(what: string, name: string): string {
  return assertKeelName(what, name, MAX_LINK_NAME);
}

/** FNV-1a over the UTF-16 code units: a stable short hash, no crypto needed. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The root-side end of a host's veth pair: keel-v + 8 hex digits (14 characters). */
export function vethName(host: string): string {
  assertKeelName('host', host);
  return `keel-v${fnv1a(host).toString(16).padStart(8, '0')}`;
}

/**
 * The host's end of the pair, inside its namespace. Named keel-… like every link we make,
 * so the rules that only let pod traffic out through keel-… links (the containerd
 * launcher's egress guard, the proxy's pod routes) accept it as a link to other hosts.
 */
export const HOST_INTERFACE = 'keel-eth0';

/** The comment on every iptables rule made for a bridge, so removeBridge finds them all. */
export function ruleComment(bridge: string, what: string): string {
  return `keel-hosts ${bridge} ${what}`;
}

/** Where a named network namespace lives. */
export function netnsPath(host: string): string {
  return `/var/run/netns/${assertKeelName('host', host)}`;
}
