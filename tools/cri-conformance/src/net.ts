// Address helpers and the one HTTP client the networking cases use (bounded by a
// deadline, and only ever pointed at loopback or at pod addresses the runtime gave us).

export function isIPv4(ip: string): boolean {
  const parts = ip.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/');
  if (!base || !len || !isIPv4(ip) || !isIPv4(base)) return false;
  const size = 2 ** (32 - Number(len));
  return Math.floor(toNumber(ip) / size) === Math.floor(toNumber(base) / size);
}

/** GET with a deadline; answers status and body, or throws with the reason. */
export async function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}
