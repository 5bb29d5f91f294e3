// The one REST call this process makes: keel.v1 does not serve every subresource yet
// (namespaces/finalize), so for those it speaks Kubernetes' REST API to --apiserver-url,
// with the same TLS and bearer token as its gRPC connection.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RestAccess {
  url: string;
  tls?: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  token?: string;
}

/** PUT a JSON body; resolves with the status code and body text. */
export function restPut(access: RestAccess, path: string, body: unknown, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const url = new URL(path, access.url.endsWith('/') ? access.url : `${access.url}/`);
  const data = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': data.length };
  if (access.token) headers.Authorization = `Bearer ${access.token}`;
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: 'PUT', headers, timeout: timeoutMs, ...(secure && access.tls ? { ca: access.tls.ca, cert: access.tls.cert, key: access.tls.key } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`PUT ${url.pathname}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}
