// The CLI's REST client: Node https (fetch cannot take a private CA or a client certificate)
// with the kubeconfig's CA, client certificate or bearer token. Answers are JSON; Kubernetes
// Status errors become ApiStatusError (printed as kubectl prints them), and a server that
// cannot be reached becomes a ConnectionError that names the server and what to check.
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import type { ClientConfig } from './kubeconfig';

export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

export interface Status {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { type?: string; message?: string; field?: string }[] };
}

/** An error Status from the server. */
export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status,
  ) {
    super(status.message ?? `the server answered ${code}`);
  }

  get reason(): string {
    return this.status.reason ?? reasonForCode(this.code);
  }

  /** kubectl's line: `Error from server (NotFound): pods "x" not found`. */
  get display(): string {
    return `Error from server (${this.reason}): ${this.message}`;
  }
}

function reasonForCode(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Gone',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? `Status ${code}`;
}

/** The server could not be reached (or its TLS could not be trusted). */
export class ConnectionError extends Error {}

export interface RequestSpec {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** ms; 0 for none (watches, followed logs). */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export function withQuery(path: string, query: RequestSpec['query']): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export class RestClient {
  private readonly agent: Agent | undefined;

  constructor(readonly config: ClientConfig) {
    const url = new URL(config.server);
    if (url.protocol === 'https:') {
      this.agent = new Agent({
        keepAlive: true,
        ...(config.ca ? { ca: config.ca } : {}),
        ...(config.cert ? { cert: config.cert } : {}),
        ...(config.key ? { key: config.key } : {}),
        ...(config.servername ? { servername: config.servername } : {}),
        rejectUnauthorized: !config.insecure,
      });
    } else if (url.protocol !== 'http:') {
      throw new ConnectionError(`the server URL ${config.server} must start with https:// or http://`);
    }
  }

  /** Headers every request carries (auth). */
  authHeaders(): Record<string, string> {
    const h: Record<string, string> = { 'User-Agent': 'keel/0.1.0' };
    if (this.config.token) h['Authorization'] = `Bearer ${this.config.token}`;
    else if (this.config.basic) h['Authorization'] = `Basic ${Buffer.from(`${this.config.basic.username}:${this.config.basic.password}`).toString('base64')}`;
    return h;
  }

  /** TLS options for other transports (WebSocket) to reach the same server the same way. */
  tlsOptions(): RequestOptions {
    return {
      ...(this.config.ca ? { ca: this.config.ca } : {}),
      ...(this.config.cert ? { cert: this.config.cert } : {}),
      ...(this.config.key ? { key: this.config.key } : {}),
      ...(this.config.servername ? { servername: this.config.servername } : {}),
      rejectUnauthorized: !this.config.insecure,
    };
  }

  /** Opens a request and resolves with the response once headers arrive (the body is left to the caller). */
  open(spec: RequestSpec): Promise<{ res: IncomingMessage; req: ClientRequest }> {
    const method = spec.method ?? 'GET';
    const url = new URL(withQuery(spec.path, spec.query), this.config.server + '/');
    const headers: Record<string, string> = { Accept: spec.accept ?? 'application/json', ...this.authHeaders(), ...spec.headers };
    let payload: string | undefined;
    if (spec.body !== undefined) {
      payload = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, ...(this.agent ? { agent: this.agent } : {}) }, (res) => resolve({ res, req }));
      const timeout = spec.timeoutMs ?? 60_000;
      if (timeout > 0) {
        req.setTimeout(timeout, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      }
      req.on('error', (err) => reject(this.connectionError(err)));
      req.end(payload);
    });
  }

  /** A request whose whole answer is read; errors (>= 300) throw ApiStatusError. */
  async raw(spec: RequestSpec): Promise<{ status: number; text: string; headers: IncomingMessage['headers'] }> {
    const { res } = await this.open(spec);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status >= 300) throw statusError(status, text);
    return { status, text, headers: res.headers };
  }

  async json<T = unknown>(spec: RequestSpec): Promise<T> {
    const { text } = await this.raw(spec);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`the server answered ${spec.method ?? 'GET'} ${spec.path} with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  get<T = unknown>(path: string, query?: RequestSpec['query'], accept?: string): Promise<T> {
    return this.json<T>({ path, ...(query ? { query } : {}), ...(accept ? { accept } : {}) });
  }

  /** Turns a socket-level failure into a message naming the server and what to check. */
  connectionError(err: Error & { code?: string }): Error {
    const where = `${this.config.server}${this.config.contextName ? ` (context "${this.config.contextName}"` : ' ('}${
      this.config.files.length ? `${this.config.contextName ? ', ' : ''}kubeconfig ${this.config.files.join(':')})` : ')'
    }`;
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT') {
      const why = { ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', EHOSTUNREACH: 'host unreachable', ENOTFOUND: 'host not found', EAI_AGAIN: 'host lookup failed', ETIMEDOUT: 'timed out' }[code];
      return new ConnectionError(
        `cannot reach the API server at ${where}: ${why}. Is the cluster running? For a local one check "keel status" or start it with "keel up"; ` +
          `otherwise check the server address in that kubeconfig, or choose another with --kubeconfig, --context or --server.`,
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new ConnectionError(
        `cannot trust the API server at ${where}: ${err.message} (${code}). Check certificate-authority(-data) for that cluster in the kubeconfig.`,
      );
    }
    return new ConnectionError(`request to the API server at ${where} failed: ${err.message}`);
  }

  close(): void {
    this.agent?.destroy();
  }
}

export function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export function statusError(code: number, text: string): ApiStatusError {
  try {
    const body = JSON.parse(text) as Status;
    if (body && typeof body === 'object' && body.kind === 'Status') return new ApiStatusError(code, body);
  } catch {
    // not a Status
  }
  return new ApiStatusError(code, { message: text.trim() || `the server answered ${code}` });
}

/** Reads a newline-delimited JSON stream (watch events), calling onEvent for each line. */
export function readJsonLines(res: IncomingMessage, onEvent: (e: unknown) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      try {
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) onEvent(JSON.parse(line));
        }
      } catch (err) {
        reject(err as Error);
        res.destroy();
      }
    });
    res.on('end', () => {
      try {
        if (buf.trim()) onEvent(JSON.parse(buf));
        resolve();
      } catch (err) {
        reject(err as Error);
      }
    });
    res.on('close', () => resolve());
    res.on('error', reject);
  });
}
