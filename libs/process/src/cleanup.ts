// Cleanups of a tool that starts things (daemons, folders, a node's network): each is
// registered as the thing is made, before it can leak, and every one still pending runs once,
// newest first, when the tool gets SIGINT or SIGTERM (it then exits 130 or 143) or when its
// main ends (runTool). A tool may run one itself early (the function onCleanup returns) and
// it will not run again. After a signal, registering throws, so a tool still starting its
// daemons stops there instead of starting ones nobody will stop. Daemons are stopped only
// through their recorded PID files (stopDaemonsUnder); nothing is ever found by name.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stopDaemon } from './daemon';

interface Entry {
  name: string;
  fn: () => unknown;
  run?: Promise<void>;
}

const pending: Entry[] = [];
/** Cleanups the tool started itself that have not finished; a signal waits for them too. */
const inflight = new Set<Promise<void>>();
let draining: Promise<string[]> | undefined;
let signalled: { signal: NodeJS.Signals; done: Promise<void> } | undefined;
let installed = false;

/** Thrown by onCleanup once a signal has started the cleanups. */
export class ShuttingDownError extends Error {}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Registers `fn` (named for messages) to run once on SIGINT/SIGTERM or at the end of
 * runTool; returns a function that runs it now instead (and rejects if it fails).
 */
export function onCleanup(name: string, fn: () => unknown): () => Promise<void> {
  if (signalled) throw new ShuttingDownError(`stopping on ${signalled.signal}: not starting ${name}`);
  installSignalHandlers();
  const entry: Entry = { name, fn };
  pending.push(entry);
  return () => runEntry(entry);
}

function runEntry(entry: Entry): Promise<void> {
  entry.run ??= (async () => {
    const i = pending.indexOf(entry);
    if (i >= 0) pending.splice(i, 1);
    await entry.fn();
  })();
  const run = entry.run.catch(() => undefined);
  inflight.add(run);
  void run.finally(() => inflight.delete(run));
  return entry.run;
}

/** Names of the cleanups not yet run, oldest first. */
export function pendingCleanups(): string[] {
  return pending.map((e) => e.name);
}

/** Runs every pending cleanup once, newest first; returns the failures as "name: message". */
export function runCleanups(): Promise<string[]> {
  draining ??= (async () => {
    const problems: string[] = [];
    for (;;) {
      const e = pending.at(-1);
      if (!e) break;
      try {
        await runEntry(e);
      } catch (err) {
        problems.push(`${e.name}: ${message(err)}`);
      }
    }
    await Promise.all(inflight);
    return problems;
  })().finally(() => (draining = undefined));
  return draining;
}

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`${signal} again: still cleaning up (${pendingCleanups().join(', ') || 'last step'})\n`);
      return;
    }
    const code = signal === 'SIGINT' ? 130 : 143;
    process.stderr.write(`${signal}: stopping what this run started (${pendingCleanups().reverse().join(', ') || 'nothing'})\n`);
    signalled = {
      signal,
      done: runCleanups().then((problems) => {
        for (const p of problems) process.stderr.write(`cleanup failed: ${p}\n`);
        process.exit(code);
      }),
    };
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * Runs a tool's main: afterwards, whether it returned or threw, the cleanups still pending
 * run; a failure prints as `name: stack` and exits 1. While a signal's cleanups run, it only
 * waits for them (they exit the process).
 */
export function runTool(name: string, main: () => Promise<void>): void {
  const finish = async (err?: unknown) => {
    if (signalled) {
      await signalled.done;
      return;
    }
    if (err !== undefined) process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    const problems = await runCleanups();
    for (const p of problems) process.stderr.write(`${name}: cleanup failed: ${p}\n`);
    if (err !== undefined) process.exit(1);
    if (problems.length) process.exitCode = 1;
  };
  main().then(
    () => finish(),
    (err: unknown) => finish(err ?? new Error('failed')),
  );
}

/**
 * Stops every daemon whose PID file (`*.pid`, as startDaemon writes) lies under `dir`, in
 * parallel, each only if its PID still runs the recorded command line. Returns how many ran.
 */
export async function stopDaemonsUnder(dir: string, graceMs = 5000): Promise<number> {
  const pidFiles: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && depth < 4) walk(join(d, e.name), depth + 1);
      else if (e.isFile() && e.name.endsWith('.pid')) pidFiles.push(join(d, e.name));
    }
  };
  walk(dir, 0);
  const stopped = await Promise.all(pidFiles.map((f) => stopDaemon(f, graceMs).catch(() => false)));
  return stopped.filter(Boolean).length;
}

/**
 * A keel-… work folder's cleanup: stop the daemons recorded under it, then remove it. The
 * sweep repeats until it finds nothing running: the tool's main still runs while a signal's
 * cleanups do, and may have started one more daemon meanwhile.
 */
export async function removeWorkDir(dir: string): Promise<void> {
  for (let pass = 0; pass < 5 && (await stopDaemonsUnder(dir)) > 0; pass++);
  rmSync(dir, { recursive: true, force: true });
}
