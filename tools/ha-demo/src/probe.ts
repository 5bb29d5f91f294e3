// "The app kept answering": a client inside a worker host asking the web app's Service
// (its ClusterIP, so the host's Service rules pick a pod) several times a second, for the
// whole demo. It runs as one Node process entered into the host's network namespace
// (nsenter --net; the host has no other route out), printing a JSON line per request; this
// side counts answers and failures and finds the longest time without an answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProbeAnswer {
  /** Date.now() when the request ended. */
  t: number;
  ok: boolean;
  error?: string;
}

// The probe itself, run inside the host: one request at a time, 2 s deadline each.
const PROBE_SCRIPT = `
const url = process.argv[1], every = Number(process.argv[2]);
const once = async () => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = await res.text();
    const ok = res.ok && body.length > 0;
    console.log(JSON.stringify({ t: Date.now(), ok, ...(ok ? {} : { error: 'HTTP ' + res.status + ', ' + body.length + ' bytes' }) }));
  } catch (err) {
    console.log(JSON.stringify({ t: Date.now(), ok: false, error: String(err && err.cause ? err.cause.code || err.cause : err).slice(0, 80) }));
  }
  setTimeout(once, every);
};
once();
`;

export class ServiceProbe {
  readonly answers: ProbeAnswer[] = [];
  private child: ChildProcess | undefined;

  constructor(readonly opts: { host: string; url: string; everyMs?: number }) {}

  start(): void {
    if (!/^keel-[a-z0-9-]+$/.test(this.opts.host)) throw new Error(`probe host must be a keel-… host, got ${this.opts.host}`);
    this.child = spawn('nsenter', [`--net=/var/run/netns/${this.opts.host}`, process.execPath, '-e', PROBE_SCRIPT, this.opts.url, String(this.opts.everyMs ?? 200)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => {
      try {
        this.answers.push(JSON.parse(line) as ProbeAnswer);
      } catch {
        // not a probe line
      }
    });
  }

  /** Stops the probe process (by the handle this object started it with). */
  stop(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
  }

  summary(from = 0, to = Number.POSITIVE_INFINITY): ProbeSummary {
    return summarizeProbe(this.answers.filter((a) => a.t >= from && a.t <= to));
  }
}

export interface ProbeSummary {
  answered: number;
  failed: number;
  /** Longest time between two answers (ms), and when it began (Date.now() ms). */
  longestSilence: { ms: number; from: number };
}

export function summarizeProbe(answers: ProbeAnswer[]): ProbeSummary {
  let answered = 0;
  let failed = 0;
  let last: number | undefined;
  let longest = { ms: 0, from: 0 };
  for (const a of answers) {
    if (!a.ok) {
      failed++;
      continue;
    }
    answered++;
    if (last !== undefined && a.t - last > longest.ms) longest = { ms: a.t - last, from: last };
    last = a.t;
  }
  return { answered, failed, longestSilence: longest };
}
