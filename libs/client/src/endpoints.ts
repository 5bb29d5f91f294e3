// Several apiservers behind one client: an address flag may list them comma-separated
// (`10.241.0.11:6444,10.241.0.12:6444`), and the gRPC channel then fails over between them.
// grpc-js does this itself when given an `ipv4:` target with several addresses (pick_first:
// the first that connects, then the next when it goes away), so all this module does is check
// the flag and build that target. Only IPv4 literals can be listed: grpc-js' DNS resolver
// takes a single name.

/** A bad apiserver address: the message says what was expected, for a one-line flag error. */
export class AddressError extends Error {
  override readonly name = 'AddressError';
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^:,\s]+):(\d+)$/;
const IPV4_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d+)$/;

function checkPort(text: string, entry: string): void {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AddressError(`${entry}: port must be 1-65535`);
}

/**
 * The apiserver addresses in a flag's value: one `host:port`, or several IPv4 `a.b.c.d:port`
 * separated by commas. A `grpc://`, `http://` or `https://` prefix on an entry is dropped.
 */
export function parseApiserverAddresses(value: string): string[] {
  const entries = value
    .split(',')
    .map((e) => e.trim().replace(/^(grpc|https?):\/\//, ''))
    .filter((e) => e.length > 0);
  if (entries.length === 0) throw new AddressError('expected host:port (or several IPv4 a.b.c.d:port, comma-separated)');
  if (entries.length === 1) {
    const m = HOST_PORT.exec(entries[0]!);
    if (!m) throw new AddressError(`${entries[0]}: expected host:port`);
    checkPort(m[2]!, entries[0]!);
    return entries;
  }
  for (const entry of entries) {
    const m = IPV4_PORT.exec(entry);
    if (!m) throw new AddressError(`${entry}: several apiservers must each be an IPv4 a.b.c.d:port`);
    if (m.slice(1, 5).some((o) => Number(o) > 255)) throw new AddressError(`${entry}: not an IPv4 address`);
    checkPort(m[5]!, entry);
  }
  if (new Set(entries).size !== entries.length) throw new AddressError(`${value}: an apiserver is listed twice`);
  return entries;
}

/** The gRPC target for those addresses: the address itself for one, `ipv4:a,b,c` for several. */
export function apiserverTarget(addresses: string | string[]): string {
  const list = typeof addresses === 'string' ? parseApiserverAddresses(addresses) : addresses;
  if (list.length === 0) throw new AddressError('no apiserver address given');
  return list.length === 1 ? list[0]! : `ipv4:${list.join(',')}`;
}
