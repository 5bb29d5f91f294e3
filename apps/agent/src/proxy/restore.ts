// Turning a wanted rule set into one iptables-restore --noflush batch (pure). A batch names
// only the chains it rewrites: `:CHAIN - [0:0]` flushes and refills that chain and leaves
// every other chain of the table alone (CNI's, the kubelet's, the host's). A partial sync
// writes the chains whose lines differ from the last applied state; a full sync compares
// with what iptables-save shows instead (rules are written in iptables-save's own form),
// so it rewrites what drifted or is missing, and removes our chains that nothing wants any
// more (left by an earlier process). Chains no longer wanted are flushed and deleted in the same
// batch, after the rules that jumped to them were rewritten, so the batch applies atomically.
// Only a sync too big for one batch (thousands of chains: a full sync of a large cluster) is
// split, in an order that keeps every intermediate state consistent.
import { isOwnChain } from './names';
import { TABLES, type Chains, type Jump, type Table, type TableChains } from './rules';

export interface ChainRef {
  table: Table;
  chain: string;
}

export interface RestorePlan {
  /**
   * The iptables-restore inputs, applied in order; empty when nothing changed. One batch
   * (atomic) unless more chains change than fit in one (see splitting below).
   */
  batches: string[];
  written: ChainRef[];
  deleted: ChainRef[];
  jumps: Jump[];
}

export interface PlanInput {
  desired: TableChains;
  /** The state the last successful sync wrote; absent means a full sync (write everything). */
  applied?: TableChains;
  /** Full sync: the chains that exist now (from iptables-save), to find stale ones of ours. */
  existing?: Record<Table, Set<string>>;
  /** Full sync: jumps from built-in chains that are missing and must be inserted. */
  missingJumps?: readonly Jump[];
  /** Split into several batches when more chains than this change (default: never split). */
  maxChainsPerBatch?: number;
}

function sameLines(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === b) return true; // the rule cache hands back the very same lines for an unchanged Service
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Section {
  table: Table;
  declare: string[];
  lines: string[];
}

function render(sections: Section[]): string {
  const out: string[] = [];
  for (const table of TABLES) {
    const parts = sections.filter((s) => s.table === table);
    if (parts.length === 0) continue;
    out.push(`*${table}`, ...parts.flatMap((p) => p.declare.map((c) => `:${c} - [0:0]`)), ...parts.flatMap((p) => p.lines), 'COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * The order chains are written in when a sync is split: a chain only after every chain
 * its rules jump to, so each batch leaves the tables consistent (every jump has a target).
 */
function rank(table: Table, chain: string): number {
  if (table === 'filter' || chain === 'KEEL-MARK-MASQ' || chain === 'KEEL-POSTROUTING') return 0;
  if (chain.startsWith('KEEL-SEP-')) return 1;
  if (chain.startsWith('KEEL-SVC-')) return 2;
  return chain === 'KEEL-NODEPORTS' ? 3 : 4;
}

export function planRestore(input: PlanInput): RestorePlan {
  const written: ChainRef[] = [];
  const deleted: ChainRef[] = [];
  const jumps = [...(input.missingJumps ?? [])];
  const writes: { table: Table; chain: string; lines: string[] }[] = [];
  for (const table of TABLES) {
    const desired = input.desired[table];
    const applied = input.applied?.[table];
    for (const [chain, lines] of desired) if (!applied || !sameLines(applied.get(chain), lines)) writes.push({ table, chain, lines });
    const gone = new Set<string>();
    if (applied) for (const chain of applied.keys()) if (!desired.has(chain)) gone.add(chain);
    if (input.existing) {
      for (const chain of input.existing[table]) if (isOwnChain(table, chain) && !desired.has(chain)) gone.add(chain);
    }
    deleted.push(...[...gone].map((chain) => ({ table, chain })));
  }
  written.push(...writes.map(({ table, chain }) => ({ table, chain })));
  // Jumps go first in their built-in chain, as kube-proxy's do, so no other rule shadows them.
  const jumpLines = (table: Table) => jumps.filter((j) => j.table === table).map((j) => `-I ${j.chain} 1 ${j.rule}`);
  const max = input.maxChainsPerBatch ?? Number.POSITIVE_INFINITY;

  if (writes.length + deleted.length <= max) {
    // One atomic batch: declare (flush) every written and every gone chain, insert jumps,
    // fill the written chains, then delete the gone ones, whose referrers were just rewritten.
    const sections: Section[] = TABLES.map((table) => ({
      table,
      declare: [...writes.filter((w) => w.table === table).map((w) => w.chain), ...deleted.filter((d) => d.table === table).map((d) => d.chain)],
      lines: [
        ...jumpLines(table),
        ...writes.filter((w) => w.table === table).flatMap((w) => w.lines),
        ...deleted.filter((d) => d.table === table).map((d) => `-X ${d.chain}`),
      ],
    })).filter((s) => s.declare.length > 0 || s.lines.length > 0);
    const script = render(sections);
    return { batches: script ? [script] : [], written, deleted, jumps };
  }

  // Too big for one batch: iptables-nft's restore grows faster than linearly with the size
  // of one batch, so a large sync goes in ordered chunks, each leaving every jump with a
  // target: leaf chains, endpoint chains, service chains, then the top chains and the
  // jumps into them; then the chains nobody wants, flushed first and deleted after.
  const ordered = writes.map((w, i) => ({ ...w, i })).sort((a, b) => rank(a.table, a.chain) - rank(b.table, b.chain) || a.i - b.i);
  const batches: string[] = [];
  for (let at = 0; at < ordered.length; at += max) {
    const chunk = ordered.slice(at, at + max);
    const last = at + max >= ordered.length;
    batches.push(
      render(
        TABLES.map((table) => ({
          table,
          declare: chunk.filter((w) => w.table === table).map((w) => w.chain),
          lines: [...(last ? jumpLines(table) : []), ...chunk.filter((w) => w.table === table).flatMap((w) => w.lines)],
        })).filter((s) => s.declare.length > 0 || s.lines.length > 0),
      ),
    );
  }
  if (ordered.length === 0 && jumps.length > 0) {
    batches.push(render(TABLES.map((table) => ({ table, declare: [], lines: jumpLines(table) })).filter((s) => s.lines.length > 0)));
  }
  for (const phase of ['flush', 'delete'] as const) {
    for (let at = 0; at < deleted.length; at += max) {
      const chunk = deleted.slice(at, at + max);
      batches.push(
        render(
          TABLES.map((table) => {
            const chains = chunk.filter((d) => d.table === table).map((d) => d.chain);
            return phase === 'flush' ? { table, declare: chains, lines: [] } : { table, declare: [], lines: chains.map((c) => `-X ${c}`) };
          }).filter((s) => s.declare.length > 0 || s.lines.length > 0),
        ),
      );
    }
  }
  return { batches, written, deleted, jumps };
}

/** The nat and filter tables of an iptables-save dump: chain names and `-A` lines. */
export interface SavedTable {
  chains: Set<string>;
  rules: string[];
  /** The rules of each chain, in order, as printed. */
  byChain: Map<string, string[]>;
}

export function parseSave(save: string): Record<Table, SavedTable> {
  const empty = (): SavedTable => ({ chains: new Set(), rules: [], byChain: new Map() });
  const result: Record<Table, SavedTable> = { nat: empty(), filter: empty() };
  let current: SavedTable | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) current = (TABLES as readonly string[]).includes(line.slice(1)) ? result[line.slice(1) as Table] : undefined;
    else if (!current) continue;
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0]!;
      current.chains.add(chain);
      current.byChain.set(chain, []);
    } else if (line.startsWith('-A ')) {
      current.rules.push(line);
      current.byChain.get(line.slice(3, line.indexOf(' ', 3)))?.push(line);
    }
  }
  return result;
}

/** Our chains as the kernel has them now: what a full sync compares the wanted rules with. */
export function ownChains(saved: Record<Table, SavedTable>): TableChains {
  const own = (table: Table): Chains => new Map([...saved[table].byChain].filter(([chain]) => isOwnChain(table, chain)));
  return { nat: own('nat'), filter: own('filter') };
}

/** The jumps of `JUMPS` that a dump does not have (matched by chain and target, not by spelling). */
export function missingJumps(saved: Record<Table, SavedTable>, jumps: readonly Jump[]): Jump[] {
  return jumps.filter((j) => !saved[j.table].rules.some((line) => line.startsWith(`-A ${j.chain} `) && line.endsWith(` -j ${j.target}`)));
}

/**
 * The batch that removes everything the proxy made (pure): each rule in another chain
 * that jumps into one of ours (`-D` of the saved line: iptables-restore parses its own
 * quoting), then every chain of ours, flushed and deleted.
 */
export function cleanupScript(saved: Record<Table, SavedTable>): { script: string; chains: ChainRef[]; rules: number } {
  const out: string[] = [];
  const chains: ChainRef[] = [];
  let rules = 0;
  for (const table of TABLES) {
    const own = [...saved[table].chains].filter((c) => isOwnChain(table, c));
    const jumpsIn = saved[table].rules.filter((line) => {
      const from = line.split(' ')[1]!;
      const to = / -j (\S+)/.exec(line)?.[1];
      return !isOwnChain(table, from) && to !== undefined && isOwnChain(table, to);
    });
    if (own.length === 0 && jumpsIn.length === 0) continue;
    out.push(`*${table}`);
    for (const c of own) out.push(`:${c} - [0:0]`);
    for (const line of jumpsIn) out.push(`-D${line.slice(2)}`);
    for (const c of own) out.push(`-X ${c}`);
    out.push('COMMIT');
    rules += jumpsIn.length;
    chains.push(...own.map((chain) => ({ table, chain })));
  }
  return { script: out.length ? `${out.join('\n')}\n` : '', chains, rules };
}

/** A deep copy, so the applied state never aliases a rule set someone may still hold. */
export function copyTables(tables: TableChains): TableChains {
  const copy = (c: Chains): Chains => new Map([...c].map(([k, v]) => [k, [...v]]));
  return { nat: copy(tables.nat), filter: copy(tables.filter) };
}
