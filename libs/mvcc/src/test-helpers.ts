// Shared by the tests: a store in a fresh `keel-mvcc-` temp directory, a log-index counter
// so tests apply operations the way the store app will, and small builders.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MvccStore, type MvccOptions } from './store';
import type { KeyValue, Operation, OperationResult } from './types';
import type { WatchMessage, Watcher } from './watch';

export const b = (text: string): Buffer => Buffer.from(text, 'utf8');

export class TestStore {
  store!: MvccStore;
  private nextIndex = 1;

  private constructor(
    readonly dir: string,
    private readonly opts: Omit<MvccOptions, 'dir'>,
  ) {}

  static async create(opts: Omit<MvccOptions, 'dir'> = {}): Promise<TestStore> {
    const dir = await mkdtemp(join(tmpdir(), 'keel-mvcc-'));
    const t = new TestStore(dir, opts);
    t.store = await MvccStore.open({ dir, ...opts });
    return t;
  }

  /** Applies at the next log index. */
  apply<O extends Operation>(op: O): Promise<OperationResult<O>> {
    return this.store.apply(op, this.nextIndex++);
  }

  put(key: string, value: string, extra: Partial<Extract<Operation, { type: 'put' }>['request']> = {}) {
    return this.apply({ type: 'put', request: { key: b(key), value: b(value), ...extra } });
  }

  del(key: string, rangeEnd?: string, prevKv = false) {
    return this.apply({
      type: 'deleteRange',
      request: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd), prevKv },
    });
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    return (await this.store.range({ key: b(key), revision })).kvs[0];
  }

  async reopen(opts: Omit<MvccOptions, 'dir'> = this.opts): Promise<void> {
    await this.store.close();
    this.store = await MvccStore.open({ dir: this.dir, ...opts });
    this.nextIndex = this.store.appliedIndex + 1;
  }

  async cleanup(): Promise<void> {
    await this.store.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function text(buf: Buffer | undefined): string | undefined {
  return buf?.toString('utf8');
}

/** Reads messages until `pred` holds or `timeoutMs` passes. */
export async function collect(
  watcher: Watcher,
  until: (messages: WatchMessage[]) => boolean,
  timeoutMs = 2000,
): Promise<WatchMessage[]> {
  const messages: WatchMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(messages)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`watch: timed out after ${messages.length} messages: ${JSON.stringify(summary(messages))}`);
    const message = await Promise.race([
      watcher.next(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), left)),
    ]);
    if (message === 'timeout') continue;
    if (!message) break;
    messages.push(message);
  }
  return messages;
}

/** Events as `TYPE key@rev` strings, for compact assertions. */
export function summary(messages: WatchMessage[]): string[] {
  return messages.flatMap((m) =>
    m.type === 'events'
      ? m.events.map((e) => `${e.type} ${e.kv.key.toString()}@${e.kv.modRevision}`)
      : m.type === 'progress'
        ? [`progress@${m.revision}`]
        : [`canceled compact=${m.compactRevision}`],
  );
}
