// A linearizability checker in the manner of Wing & Gong, as improved by Lowe and as
// Porcupine implements it: the history's call and return events form a linked list; the
// search repeatedly takes a pending call, asks the model whether the operation can take
// effect now, and if so "lifts" it out of the list; at a return whose call was never
// lifted it backtracks. A cache of (set of linearized operations, model states) already
// explored makes the search polynomial on most real histories. Nondeterminism (an
// operation with an unknown outcome may or may not have taken effect) is carried as a
// set of model states, as Porcupine's NondeterministicModel does. A step budget makes the
// answer `unknown` rather than hanging on a pathological partition.

/** One operation of a history. Times are any monotonic unit; `ret` is Infinity while the outcome is unknown. */
export interface Operation<I, O> {
  id: number;
  client: number;
  input: I;
  /** Undefined when the outcome is unknown (the call failed or timed out). */
  output: O | undefined;
  call: number;
  ret: number;
}

/** A sequential specification. `step` returns every state the operation may lead to; none means illegal. */
export interface Model<S, I, O> {
  init(): S;
  step(state: S, input: I, output: O | undefined): S[];
  /** Equal states must hash equal; used for the cache and to de-duplicate state sets. */
  hash(state: S): string;
  /** Splits a history into independently checkable parts (for a KV store, one per key). */
  partition?(history: Operation<I, O>[]): Operation<I, O>[][];
  describe?(op: Operation<I, O>): string;
}

export type CheckResult = 'ok' | 'illegal' | 'unknown';

/** Why a partition failed: the longest prefix that could be ordered and the operations none of which could come next. */
export interface Explanation<S, I, O> {
  partition: number;
  linearized: Operation<I, O>[];
  /** The candidates for the next place in that longest prefix, each of which the model refused. */
  stuck: Operation<I, O>[];
  states: S[];
  text: string;
}

export interface CheckReport<S, I, O> {
  result: CheckResult;
  partitions: number;
  operations: number;
  steps: number;
  explanation?: Explanation<S, I, O>;
}

interface Node<I, O> {
  op: Operation<I, O> | undefined; // undefined only for the head sentinel
  index: number;
  isCall: boolean;
  /** For a call node, its return node. */
  match: Node<I, O> | undefined;
  prev: Node<I, O> | undefined;
  next: Node<I, O> | undefined;
}

function buildList<I, O>(ops: Operation<I, O>[]): Node<I, O> {
  const events: { time: number; isCall: boolean; index: number }[] = [];
  ops.forEach((op, index) => {
    events.push({ time: op.call, isCall: true, index });
    events.push({ time: op.ret, isCall: false, index });
  });
  // At equal times calls come first: the operations are then concurrent, the lenient reading.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.index - b.index : a.isCall ? -1 : 1));
  const head: Node<I, O> = { op: undefined, index: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  const calls = new Map<number, Node<I, O>>();
  let last = head;
  for (const e of events) {
    const node: Node<I, O> = { op: ops[e.index], index: e.index, isCall: e.isCall, match: undefined, prev: last, next: undefined };
    last.next = node;
    last = node;
    if (e.isCall) calls.set(e.index, node);
    else calls.get(e.index)!.match = node;
  }
  return head;
}

function lift<I, O>(call: Node<I, O>): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift<I, O>(call: Node<I, O>): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function stepAll<S, I, O>(model: Model<S, I, O>, states: S[], op: Operation<I, O>): { states: S[]; key: string } {
  const seen = new Map<string, S>();
  for (const s of states) for (const n of model.step(s, op.input, op.output)) seen.set(model.hash(n), n);
  const keys = [...seen.keys()].sort();
  return { states: keys.map((k) => seen.get(k)!), key: keys.join('|') };
}

interface PartitionResult<S> {
  result: CheckResult;
  steps: number;
  deepest: { linearized: number[]; stuck: number[]; states: S[] };
}

function checkPartition<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], budget: number): PartitionResult<S> {
  const head = buildList(ops);
  const words = Math.ceil(ops.length / 32) || 1;
  const bits = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: { node: Node<I, O>; states: S[] }[] = [];
  let states: S[] = [model.init()];
  let entry = head.next;
  let steps = 0;
  let deepest = { linearized: [] as number[], stuck: [] as number[], states };
  const noteDeepest = () => {
    if (stack.length < deepest.linearized.length && deepest.linearized.length > 0) return;
    // The candidates are the calls before the first return still in the list.
    const stuck: number[] = [];
    for (let n = head.next; n && n.isCall; n = n.next) stuck.push(n.index);
    deepest = { linearized: stack.map((f) => f.node.index), stuck, states };
  };
  while (head.next) {
    if (++steps > budget) return { result: 'unknown', steps, deepest };
    const node = entry!;
    if (node.isCall) {
      const next = stepAll(model, states, node.op!);
      if (next.states.length > 0) {
        bits[node.index >> 5]! |= 1 << (node.index & 31);
        const key = `${bits.join(',')}#${next.key}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ node, states });
          states = next.states;
          lift(node);
          entry = head.next;
          continue;
        }
        bits[node.index >> 5]! &= ~(1 << (node.index & 31));
      }
      entry = node.next;
    } else {
      // A return whose call is still in the list: nothing ordered so far lets it complete.
      if (stack.length >= deepest.linearized.length) noteDeepest();
      const top = stack.pop();
      if (!top) return { result: 'illegal', steps, deepest };
      states = top.states;
      bits[top.node.index >> 5]! &= ~(1 << (top.node.index & 31));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { result: 'ok', steps, deepest };
}

export interface CheckOptions {
  /** Search steps per partition before answering `unknown`. */
  budget?: number;
}

/** Checks a history against a model; stops at the first illegal partition. */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: Operation<I, O>[],
  opts: CheckOptions = {},
): CheckReport<S, I, O> {
  const budget = opts.budget ?? 2_000_000;
  const parts = model.partition ? model.partition(history) : [history];
  let steps = 0;
  let unknown = false;
  for (let p = 0; p < parts.length; p++) {
    const ops = parts[p]!;
    const r = checkPartition(model, ops, budget);
    steps += r.steps;
    if (r.result === 'unknown') unknown = true;
    if (r.result === 'illegal') {
      const describe = model.describe ?? ((op: Operation<I, O>) => `#${op.id} ${JSON.stringify(op.input)} → ${JSON.stringify(op.output)}`);
      const linearized = r.deepest.linearized.map((i) => ops[i]!);
      const stuck = r.deepest.stuck.map((i) => ops[i]!);
      const text = [
        `partition ${p}: after ${linearized.length} operations in this order:`,
        ...linearized.slice(-10).map((op) => `  ${describe(op)}`),
        `none of these could come next (model states ${r.deepest.states.map((s) => model.hash(s)).join(' or ')}):`,
        ...stuck.map((op) => `  ${describe(op)} [call ${op.call}, return ${op.ret}]`),
      ].join('\n');
      return {
        result: 'illegal',
        partitions: parts.length,
        operations: history.length,
        steps,
        explanation: { partition: p, linearized, stuck, states: r.deepest.states, text },
      };
    }
  }
  return { result: unknown ? 'unknown' : 'ok', partitions: parts.length, operations: history.length, steps };
}
