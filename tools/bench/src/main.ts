// keel bench: the one entry point for every benchmark. Runs each benchmark command
// (suites.ts) one after the other as a child process — never two at once, they would
// compete for the cores — with the sizes of a full run or of --quick, its output in a log
// file and its JSON in the run's folder; then writes bench-results/<UTC time>/report.md,
// report.json and charts/*.svg. A benchmark that fails (non-zero exit, no JSON, timeout) is
// reported as failed and the others still run; the command exits non-zero at the end.
// On Ctrl-C or SIGTERM the running benchmark gets SIGINT (SIGKILL a minute later) and is
// waited for, so it stops its own daemons; then this exits 130 or 143.
//   npm run bench [-- --quick] [--only store,pods] [--skip proxy] [--note "machine shared"] [--out-dir bench-results] [--rerender <run folder>]
import { onCleanup } from '@keel/process';
import { Command } from 'commander';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exitCode, reportJson, reportMarkdown, runFolderName, type Outcome, type RunInfo } from './report';
import { SUITES, type Suite } from './suites';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(REPO_ROOT, 'node_modules/.bin/tsx');
const LINGER_SECONDS = 20;

function gitCommit(): Promise<string> {
  return new Promise((done) => {
    const child = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => done('unknown'));
    child.on('close', () => done(out.trim() || 'unknown'));
  });
}

function tail(file: string, lines = 6): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** Runs one benchmark; never throws: a failure becomes the outcome's status. */
async function runSuite(suite: Suite, quick: boolean, dir: string): Promise<Outcome> {
  const jsonFile = join(dir, 'raw', `${suite.id}.json`);
  const logFile = join(dir, 'logs', `${suite.id}.log`);
  const args = [suite.script, ...suite.args(quick), '--out', jsonFile];
  const command = `npx tsx ${args.map((a) => (a.startsWith('/') ? relative(REPO_ROOT, a) : a)).join(' ')}`;
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  const log = createWriteStream(logFile);
  let lingered = false;
  const result = await new Promise<{ code: number | null; timedOut: boolean; spawnError?: string }>((done) => {
    const child = spawn(TSX, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let exited = false;
    const stopChild = onCleanup(`benchmark ${suite.id}`, () =>
      exited
        ? undefined
        : new Promise<void>((stopped) => {
            child.once('close', () => stopped());
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
          }),
    );
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    let timedOut = false;
    // A command that wrote its whole JSON but lingers (a pending timer, an open handle) is
    // stopped after a grace period instead of holding up the suite until its timeout.
    let grace: NodeJS.Timeout | undefined;
    const watchJson = setInterval(() => {
      if (grace || !existsSync(jsonFile)) return;
      try {
        JSON.parse(readFileSync(jsonFile, 'utf8'));
      } catch {
        return;
      }
      grace = setTimeout(() => {
        lingered = true;
        child.kill('SIGTERM');
      }, LINGER_SECONDS * 1000);
    }, 1000);
    // SIGINT first: the benchmarks stop their clusters on the way out; SIGKILL if they hang.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
    }, suite.timeoutSeconds(quick) * 1000);
    const clear = () => {
      exited = true;
      void stopChild();
      clearTimeout(timer);
      clearTimeout(grace);
      clearInterval(watchJson);
    };
    child.on('error', (err) => {
      clear();
      done({ code: null, timedOut, spawnError: err.message });
    });
    child.on('close', (code) => {
      clear();
      done({ code, timedOut });
    });
  });
  await new Promise<void>((r) => log.end(r));
  const seconds = (performance.now() - t0) / 1000;
  const base = { id: suite.id, title: suite.title, command, seconds, loadBefore, loadAfter: loadavg()[0]!, logFile: relative(dir, logFile) };
  const failed = (error: string): Outcome => ({ ...base, status: 'failed', error });
  if (result.spawnError) return failed(`could not start: ${result.spawnError}`);
  if (result.timedOut) return failed(`timed out after ${suite.timeoutSeconds(quick)} s; ${tail(logFile)}`);
  if (result.code !== 0 && !lingered) return failed(`exit code ${result.code}: ${tail(logFile)}`);
  if (!existsSync(jsonFile)) return failed(`no JSON written; ${tail(logFile)}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    return failed(`unreadable JSON: ${(err as Error).message}`);
  }
  try {
    return { ...base, status: 'ok', json, section: suite.render(json), ...(lingered ? { note: `wrote its JSON but had not exited ${LINGER_SECONDS} s later; stopped with SIGTERM` } : {}) };
  } catch (err) {
    return { ...base, status: 'failed', json, error: `report could not read its JSON: ${(err as Error).message}` };
  }
}

/** Writes report.md, report.json and the charts of a run folder. */
function writeReport(dir: string, run: RunInfo, outcomes: Outcome[]): void {
  mkdirSync(join(dir, 'charts'), { recursive: true });
  for (const o of outcomes) for (const c of o.section?.charts ?? []) writeFileSync(join(dir, 'charts', c.file), c.svg);
  writeFileSync(join(dir, 'report.md'), reportMarkdown(run, outcomes));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(reportJson(run, outcomes), null, 2) + '\n');
}

function rerender(dir: string): void {
  const saved = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { run: RunInfo; benchmarks: (Omit<Outcome, 'json' | 'section'> & { result: unknown })[] };
  const outcomes = saved.benchmarks.map(({ result, ...o }): Outcome => {
    const suite = SUITES.find((s) => s.id === o.id);
    return o.status === 'ok' && suite && result ? { ...o, json: result, section: suite.render(result) } : { ...o, ...(result ? { json: result } : {}) };
  });
  writeReport(dir, saved.run, outcomes);
  process.stdout.write(`rewrote ${relative(REPO_ROOT, join(dir, 'report.md'))} from its report.json\n`);
}

async function main(): Promise<void> {
  const ids = SUITES.map((s) => s.id);
  const idList = (v: string) => {
    const list = v.split(',').filter(Boolean);
    for (const id of list) if (!ids.includes(id)) throw new Error(`unknown benchmark ${id} (known: ${ids.join(', ')})`);
    return list;
  };
  const opts = new Command('bench')
    .description(`runs every benchmark (${ids.join(', ')}) and writes a report with tables, JSON and charts`)
    .option('--quick', 'small sizes: the whole suite in a few minutes', false)
    .option('--only <ids>', 'run only these benchmarks, comma-separated', idList)
    .option('--skip <ids>', 'skip these benchmarks, comma-separated', idList, [])
    .option('--note <text>', 'a line about the conditions for the report (e.g. what else ran on the machine)')
    .option('--out-dir <dir>', 'where run folders go', join(REPO_ROOT, 'bench-results'))
    .option('--rerender <run folder>', "rewrite a run's report.md and charts from its report.json (after a change to the report), running nothing")
    .parse()
    .opts<{ quick: boolean; only?: string[]; skip: string[]; note?: string; outDir: string; rerender?: string }>();
  if (opts.rerender) return rerender(resolve(opts.rerender));
  const suites = SUITES.filter((s) => (!opts.only || opts.only.includes(s.id)) && !opts.skip.includes(s.id));
  const started = new Date();
  const dir = join(resolve(opts.outDir), runFolderName(started));
  for (const sub of ['raw', 'logs', 'charts']) mkdirSync(join(dir, sub), { recursive: true });
  const mode = opts.quick ? 'quick' : 'full';
  process.stdout.write(`keel bench (${mode}): ${suites.map((s) => s.id).join(', ')} → ${relative(REPO_ROOT, dir)}\n`);
  const outcomes: Outcome[] = [];
  for (const suite of suites) {
    process.stdout.write(`  ${suite.id.padEnd(10)} running…`);
    const o = await runSuite(suite, opts.quick, dir);
    outcomes.push(o);
    process.stdout.write(`\r  ${suite.id.padEnd(10)} ${o.status} in ${o.seconds.toFixed(0)} s${o.status === 'ok' ? ` — ${o.section?.comparison ?? ''}` : ` — ${o.error ?? ''}`}\n`);
  }
  const run: RunInfo = {
    mode,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
    node: process.version,
    commit: await gitCommit(),
    ...(opts.note ? { note: opts.note } : {}),
  };
  writeReport(dir, run, outcomes);
  process.stdout.write(`wrote ${relative(REPO_ROOT, join(dir, 'report.md'))}, report.json and ${outcomes.reduce((n, o) => n + (o.section?.charts.length ?? 0), 0)} charts\n`);
  process.exitCode = exitCode(outcomes);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
