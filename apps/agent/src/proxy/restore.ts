// Turning a wanted rule set into one iptables-restore --noflush batch (pure). A batch names
// only the chains it rewrites: `:CHAIN - [0:0]` flushes and refills that chain and leaves
// every other chain of the table alone (CNI's, the kubelet's, the host's). A partial sync
// writes the chains whose lines differ from the last applied state; a full sync writes them
// all and also removes our chains it finds in iptables-save that nothing wants any more
// (left by an earlier process). Chains no longer wanted are flushed and deleted in the same
// batch, after the rules that jumped to them were rewritten, so the batch applies atomically.
import { isOwnChain } from './names';
import { TABLES, type Chains, type Jump, type Table, type TableChains } from './rules';

export interface ChainRef {
  table: Table;
  chain: string;
}

export interface RestorePlan {
  /** The iptables-restore input; empty when nothing changed. */
  script: string;
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
}

function sameLines(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function planRestore(input: PlanInput): RestorePlan {
  const written: ChainRef[] = [];
  const deleted: ChainRef[] = [];
  const jumps = [...(input.missingJumps ?? [])];
  const out: string[] = [];
  for (const table of TABLES) {
    const desired = input.desired[table];
    const applied = input.applied?.[table];
    const write = [...desired.entries()].filter(([chain, lines]) => !applied || !sameLines(applied.get(chain), lines));
    const gone = new Set<string>();
    if (applied) for (const chain of applied.keys()) if (!desired.has(chain)) gone.add(chain);
    if (input.existing) {
      for (const chain of input.existing[table]) if (isOwnChain(table, chain) && !desired.has(chain)) gone.add(chain);
    }
    const tableJumps = jumps.filter((j) => j.table === table);
    if (write.length === 0 && gone.size === 0 && tableJumps.length === 0) continue;
    out.push(`*${table}`);
    for (const [chain] of write) out.push(`:${chain} - [0:0]`);
    for (const chain of gone) out.push(`:${chain} - [0:0]`);
    // Jumps go first in their built-in chain, as kube-proxy's do, so no other rule shadows them.
    for (const j of tableJumps) out.push(`-I ${j.chain} 1 ${j.rule}`);
    for (const [, lines] of write) for (const line of lines) out.push(line);
    for (const chain of gone) out.push(`-X ${chain}`);
    out.push('COMMIT');
    written.push(...write.map(([chain]) => ({ table, chain })));
    deleted.push(...[...gone].map((chain) => ({ table, chain })));
  }
  return { script: out.length ? `${out.join('\n')}\n` : '', written, deleted, jumps };
}

/** The nat and filter tables of an iptables-save dump: chain names and `-A` lines. */
export interface SavedTable {
  chains: Set<string>;
  rules: string[];
}

export function parseSave(save: string): Record<Table, SavedTable> {
  const result: Record<Table, SavedTable> = { nat: { chains: new Set(), rules: [] }, filter: { chains: new Set(), rules: [] } };
  let current: SavedTable | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) current = (TABLES as readonly string[]).includes(line.slice(1)) ? result[line.slice(1) as Table] : undefined;
    else if (!current) continue;
    else if (line.startsWith(':')) current.chains.add(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) current.rules.push(line);
  }
  return result;
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
