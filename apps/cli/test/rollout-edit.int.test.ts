// `keel rollout` on a DaemonSet and `keel edit`'s reopen-on-error loop, against one real control
// plane started by `keel up --no-node` (as kubectl.int.test.ts does). No node runs pods, so the
// DaemonSet selects no node: its rollout is done at once, and history/undo/restart exercise the
// ControllerRevisions the controller-manager writes. edit runs in a real pseudo-terminal with an
// $EDITOR script that answers differently on each run.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliCluster, cli, until } from './cli-cluster';

const cluster = new CliCluster('rollout-edit-test');
const { work, keel } = cluster;
const ns = 'keel-rollout-edit';

/** `keel edit` in a pseudo-terminal, with the given environment (the editor). */
const editInTerminal = (target: string, env: Record<string, string>) =>
  cluster.inTerminal(['edit', target, '-n', ns], { KUBE_EDITOR: '', ...env }, { cols: 200, rows: 30 });

beforeAll(async () => {
  expect((await cluster.up()).out).toMatch(/keel-apiserver\s+started/);
  const made = await keel(
    ['apply', '-f', '-'],
    {
      input: `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ${ns}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      nodeSelector: {keel.test/none: "true"}
      containers:
      - name: agent
        image: keel/agent:1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
  labels: {app: web}
data:
  mode: fast
`,
    },
  );
  expect(made.err).toBe('');
}, 180_000);

afterAll(() => cluster.down(), 60_000);

const history = async (want: RegExp) =>
  until(`history matching ${want}`, async () => {
    const h = await keel(['rollout', 'history', 'daemonset/agent', '-n', ns]);
    return want.test(h.out) ? h.out : undefined;
  });

describe('keel rollout on a DaemonSet', () => {
  it('waits for status, restarts, lists ControllerRevisions, and undoes to a revision', async () => {
    const status = await keel(['rollout', 'status', 'ds/agent', '-n', ns, '--timeout', '30s']);
    expect(status.err).toBe('');
    expect(status.out.trim().split('\n').pop()).toBe('daemon set "agent" successfully rolled out');
    expect(await history(/^1\s+<none>$/m)).toMatch(/^daemonset\.apps\/agent\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n$/);

    expect((await keel(['rollout', 'restart', 'ds/agent', '-n', ns])).out.trim()).toBe('daemonset.apps/agent restarted');
    expect(await history(/^2\s+<none>$/m)).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n$/);
    const two = await keel(['rollout', 'history', 'ds/agent', '-n', ns, '--revision', '2']);
    expect(two.out).toMatch(/^daemonset\.apps\/agent with revision #2\nPod Template:\n/);
    expect(two.out).toContain('kubectl.kubernetes.io/restartedAt');
    expect(two.out).not.toContain('$patch');
    const again = await keel(['rollout', 'status', 'ds/agent', '-n', ns, '--timeout', '30s']);
    expect(again.out.trim().split('\n').pop()).toBe('daemon set "agent" successfully rolled out');

    // Back to revision 1: the restart stamp goes, and the controller renumbers revision 1 as 3.
    expect((await keel(['rollout', 'undo', 'ds/agent', '-n', ns])).out.trim()).toBe('daemonset.apps/agent rolled back');
    const annotations = await keel(['get', 'ds', 'agent', '-n', ns, '-o', 'jsonpath={.spec.template.metadata.annotations}']);
    expect(annotations.out).not.toContain('restartedAt');
    expect(await history(/^3\s+<none>$/m)).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n$/);
    expect((await keel(['rollout', 'undo', 'ds/agent', '-n', ns, '--to-revision=3'])).out.trim()).toBe(
      'daemonset.apps/agent skipped rollback (current template already matches revision 3)',
    );
    const missing = await keel(['rollout', 'undo', 'ds/agent', '-n', ns, '--to-revision=1']);
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe('error: unable to find specified revision 1 in history');
  }, 120_000);

  it('refuses a kind it cannot roll out, naming it', async () => {
    const svc = await keel(['rollout', 'status', 'service/kubernetes', '-n', 'default']);
    expect(svc.code).toBe(1);
    expect(svc.err.trim()).toBe('error: rollout status is not supported for service "kubernetes": it works on deployments and daemonsets');
  }, 60_000);
});

describe('keel edit reopens the editor when the save is rejected', () => {
  /** An $EDITOR that keeps a copy of what it was shown on run N (seen.N) and runs step N of `steps` on the file ($1). */
  function editorScript(name: string, steps: string[]): { editor: string; seen: (n: number) => string; runs: () => number } {
    const base = join(work, name);
    const cases = steps.map((s, i) => `  ${i + 1}) ${s} ;;`).join('\n');
    writeFileSync(
      `${base}.sh`,
      `#!/bin/sh\nn=$(cat "${base}.count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${base}.count"\ncp "$1" "${base}.seen.$n"\ncase $n in\n${cases}\nesac\n`,
    );
    chmodSync(`${base}.sh`, 0o755);
    return { editor: `${base}.sh`, seen: (n) => readFileSync(`${base}.seen.${n}`, 'utf8'), runs: () => Number(readFileSync(`${base}.count`, 'utf8')) };
  }

  it('shows the invalid field as a comment above the edited text, and saves the fixed edit', async () => {
    const { editor, seen, runs } = editorScript('fix', [
      `sed -i 's/^  labels:$/  labels:\\n    edited: "not a valid label"/' "$1"`,
      `sed -i 's/^    edited: .*$/    edited: "yes"/' "$1"`,
    ]);
    const run = await editInTerminal('configmap/settings', { EDITOR: editor });
    expect(run.output).toMatch(/Error from server \(Invalid\): .*metadata\.labels/);
    expect(run.output).toContain('configmap/settings edited');
    expect(run.code).toBe(0);
    expect(runs()).toBe(2);
    const second = seen(2);
    expect(second).toMatch(/^# Please edit the object below\./);
    expect(second).toMatch(/^# configmaps "settings" was not valid:\n# \* metadata\.labels: Invalid value: "not a valid label"/m);
    // Below the comments: the user's own text, still holding the rejected label.
    expect(second).toMatch(/^ {4}edited: "?not a valid label"?$/m);
    expect((await keel(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.metadata.labels.edited}'])).out).toBe('yes');
  }, 120_000);

  it('gives up, keeping a copy, when the reopened file is saved unchanged', async () => {
    const { editor, runs } = editorScript('stuck', [`sed -i 's/^    edited: .*$/    edited: "still not valid"/' "$1"`, 'true']);
    const run = await editInTerminal('cm/settings', { EDITOR: editor });
    expect(run.code).toBe(1);
    expect(runs()).toBe(2);
    expect(run.output).toContain('error: Edit cancelled, no valid changes were saved.');
    const copy = /A copy of your changes has been stored to "([^"]+)"/.exec(run.output)?.[1];
    expect(copy && existsSync(copy) && readFileSync(copy, 'utf8')).toMatch(/edited: "?still not valid"?/);
    expect((await keel(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.metadata.labels.edited}'])).out).toBe('yes');
  }, 120_000);

  it('after a conflict, saves over the other change once the resourceVersion is set as the comment says', async () => {
    // Run 1: someone else changes the object while the editor is open, then the user edits.
    // Run 2: the user takes the resourceVersion the comment names.
    const { editor, seen, runs } = editorScript('conflict', [
      `"${process.execPath}" "${cli}" annotate cm settings -n ${ns} other=change >/dev/null; sed -i 's/^  mode: .*$/  mode: slow/' "$1"`,
      `rv=$(sed -n 's/.*set metadata.resourceVersion to "\\([0-9]*\\)".*/\\1/p' "$1"); sed -i "s/^  resourceVersion: .*$/  resourceVersion: \\"$rv\\"/" "$1"`,
    ]);
    const run = await editInTerminal('cm/settings', { EDITOR: editor });
    expect(run.output).toContain('Error from server (Conflict)');
    expect(run.output).toContain('configmap/settings edited');
    expect(run.code).toBe(0);
    expect(runs()).toBe(2);
    expect(seen(2)).toMatch(/^# configmaps "settings" could not be saved:\n# \* .*the object has been modified/m);
    const saved = JSON.parse((await keel(['get', 'cm', 'settings', '-n', ns, '-o', 'json'])).out) as { data: Record<string, string>; metadata: { annotations?: Record<string, string> } };
    expect(saved.data['mode']).toBe('slow');
    // Saved over: the other change (made after the editor opened) is gone, as the comment warned.
    expect(saved.metadata.annotations?.['other']).toBeUndefined();
  }, 120_000);
});
