// The proxy's view of iptables and conntrack as two small interfaces, with the real
// implementations over iptables-save, iptables-restore --noflush and conntrack -D, run on
// the host or in a node's network namespace. The syncer takes the interfaces, so its
// tests can run on fakes and the integration tests on real namespaces.
import { ProxyError } from './errors';
import { run, type Target } from './exec';
import { cleanupScript, parseSave, type ChainRef } from './restore';

export interface IptablesBackend {
  /** iptables-save of every table. */
  save(): Promise<string>;
  /** iptables-restore --noflush; throws ProxyError RestoreFailed. */
  restore(script: string): Promise<void>;
}

export interface ConntrackBackend {
  /** conntrack -D with these arguments; no matching entry is not an error. */
  delete(args: readonly string[]): Promise<void>;
}

export function iptablesIn(target: Target): IptablesBackend {
  return {
    async save() {
      const res = await run(target, 'iptables-save', []);
      if (res.code !== 0) throw new ProxyError('CommandFailed', `iptables-save failed (${res.code}): ${res.stderr.trim()}`);
      return res.stdout;
    },
    async restore(script) {
      const res = await run(target, 'iptables-restore', ['-w', '--noflush'], script);
      if (res.code !== 0) throw new ProxyError('RestoreFailed', `iptables-restore failed (${res.code}): ${res.stderr.trim()}`);
    },
  };
}

export function conntrackIn(target: Target): ConntrackBackend {
  return {
    async delete(args) {
      const res = await run(target, 'conntrack', ['-D', ...args]);
      // conntrack answers 1 with "0 flow entries have been deleted" when nothing matched.
      if (res.code !== 0 && !/0 flow entries/.test(res.stderr)) {
        throw new ProxyError('CommandFailed', `conntrack -D ${args.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
      }
    },
  };
}

/** Removes every chain of ours and every jump into one; answers what went. */
export async function removeAllRules(iptables: IptablesBackend): Promise<{ chains: ChainRef[]; rules: number }> {
  const { script, chains, rules } = cleanupScript(parseSave(await iptables.save()));
  if (script) await iptables.restore(script);
  return { chains, rules };
}
