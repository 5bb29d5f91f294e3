// The kubectl-style commands of the built `keel`, driven as a user would against one real
// control plane (keel-store, keel-apiserver over TLS with RBAC, controller-manager,
// scheduler) started by `keel up --no-node` in a keel- folder: apply, get in every format,
// watch, describe with events, label/annotate/scale, node taints and cordon, delete, rollout,
// helpful errors, config contexts, `edit` in a real pseudo-terminal, and real kubectl
// reading the same kubeconfig and seeing the same objects.
import { ensureKubectl } from '@keel/tools-kubectl';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPorts } from '@keel/process';
import { CliCluster, cli, until } from './cli-cluster';

const cluster = new CliCluster('cli-test');
const { work, kubeconfig, keel } = cluster;
const ns = 'keel-cli-test';

const manifests = join(work, 'manifests');

beforeAll(async () => {
  expect((await cluster.up()).out).toMatch(/keel-apiserver\s+started/);
  mkdirSync(join(manifests, 'more'), { recursive: true });
  writeFileSync(
    join(manifests, '01-namespace.yaml'),
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\n  labels: {app: web}\ndata:\n  mode: fast\n`,
  );
  writeFileSync(
    join(manifests, '02-deployment.json'),
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'keel/web:1' }] } } },
    }),
  );
  // Only read with -R.
  writeFileSync(join(manifests, 'more', 'extra.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: ${ns}\n`);
}, 180_000);

afterAll(() => cluster.down(), 60_000);

describe('keel as kubectl', () => {
  it('applies a folder: created, then unchanged; -R reads sub-folders; stdin works', async () => {
    const first = await keel(['apply', '-f', manifests]);
    expect(first.err).toBe('');
    expect(first.out.trim().split('\n')).toEqual([`namespace/${ns} created`, 'configmap/settings created', 'deployment.apps/web created']);
    const again = await keel(['apply', '-f', manifests]);
    expect(again.out.trim().split('\n')).toEqual([`namespace/${ns} unchanged`, 'configmap/settings unchanged', 'deployment.apps/web unchanged']);
    const recursive = await keel(['apply', '-R', '-f', manifests]);
    expect(recursive.out).toContain('configmap/extra created');
    const stdin = await keel(['apply', '-n', ns, '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\ndata:\n  a: "1"\n' });
    expect(stdin.out.trim()).toBe('configmap/piped created');
    const create = await keel(['create', '-n', ns, '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\n' });
    expect(create.code).toBe(1);
    expect(create.err.trim()).toBe('Error from server (AlreadyExists): configmaps "piped" already exists');
  }, 120_000);

  it('gets in every output format', async () => {
    // Read-only, so all at once.
    const [table, several, all, wide, yaml, jsonOut, names, jp, none, missing] = await Promise.all([
      keel(['get', 'configmaps', '-n', ns]),
      keel(['get', 'cm,deploy', '-n', ns]),
      keel(['get', 'cm', '-A', '-l', 'app=web']),
      keel(['get', 'deploy', 'web', '-n', ns, '-o', 'wide']),
      keel(['get', 'cm', 'settings', '-n', ns, '-o', 'yaml']),
      keel(['get', 'cm', '-n', ns, '-l', 'app=web', '-o', 'json']),
      keel(['get', 'deploy,cm', '-n', ns, '-l', 'app=web', '-o', 'name']),
      keel(['get', 'cm', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.data.mode}{"\\n"}{end}']),
      keel(['get', 'pods', '-n', 'keel-empty-ns']),
      keel(['get', 'cm', 'nope', '-n', ns]),
    ]);
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+DATA\s+AGE$/);
    expect(table.out).toMatch(/^settings\s+1\s+\S+$/m);
    expect(several.out).toMatch(/^configmap\/settings\s/m);
    expect(several.out).toMatch(/^deployment\.apps\/web\s/m);
    expect(all.out).toMatch(new RegExp(`^NAMESPACE\\s+NAME\\s+DATA\\s+AGE\\n${ns}\\s+settings\\s+1\\s`));
    expect(wide.out).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(wide.out).toMatch(/keel\/web:1\s+app=web/);
    expect(yaml.out).toMatch(/^apiVersion: v1\ndata:\n {2}mode: fast\nkind: ConfigMap\nmetadata:/);
    const json = JSON.parse(jsonOut.out) as { kind: string; items: { kind: string; metadata: { name: string } }[] };
    expect(json.kind).toBe('List');
    expect(json.items.map((i) => [i.kind, i.metadata.name])).toEqual([['ConfigMap', 'settings']]);
    expect(names.out.trim().split('\n')).toEqual(['deployment.apps/web', 'configmap/settings']);
    expect(jp.out).toContain('settings=fast\n');
    expect(none.err.trim()).toBe('No resources found in keel-empty-ns namespace.');
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe('Error from server (NotFound): configmaps "nope" not found');
  }, 120_000);

  it('watches: get -w prints a row when an object changes', async () => {
    const child = spawn(process.execPath, [cli, 'get', 'configmaps', '-n', ns, '-w'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let seen = '';
    child.stdout.on('data', (c: Buffer) => (seen += c.toString()));
    try {
      await until('the initial list', async () => (/^settings\s/m.test(seen) ? true : undefined));
      const create = await keel(['apply', '-n', ns, '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n' });
      expect(create.out.trim()).toBe('configmap/watched created');
      await until('the watched row', async () => (/^watched\s+0\s/m.test(seen) ? true : undefined));
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);

  it('describes with events, and labels, annotates and scales', async () => {
    const described = await until('a ScalingReplicaSet event', async () => {
      const d = await keel(['describe', 'deployment', 'web', '-n', ns]);
      return /ScalingReplicaSet\s.*Scaled up replica set web-/.test(d.out) ? d.out : undefined;
    });
    expect(described).toMatch(/^Name:\s+web$/m);
    expect(described).toMatch(/^Namespace:\s+keel-cli-test$/m);
    expect(described).toMatch(/^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/m);
    // kubectl's Deployment layout, with the ReplicaSets the command looked up.
    expect(described).toMatch(/^Replicas:\s+1 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable$/m);
    expect(described).toMatch(/^Selector:\s+app=web$/m);
    expect(described).toMatch(/^Pod Template:\n {2}Labels:\s+app=web\n {2}Containers:\n {3}web:\n {4}Image:\s+keel\/web:1$/m);
    expect(described).toMatch(/^NewReplicaSet:\s+web-\S+ \(\d\/1 replicas created\)$/m);
    const podText = await until('a described pod of web', async () => {
      const d = await keel(['describe', 'pods', '-n', ns, '-l', 'app=web', '--no-show-events']);
      return /^Name:\s+web-/m.test(d.out) ? d.out : undefined;
    });
    expect(podText).toMatch(/^Controlled By:\s+ReplicaSet\/web-\S+$/m);
    expect(podText).toMatch(/^Containers:\n {2}web:\n/m);
    expect(podText).toMatch(/^QoS Class:\s+BestEffort$/m);
    expect((await keel(['label', 'cm', 'settings', '-n', ns, 'tier=cache'])).out.trim()).toBe('configmap/settings labeled');
    const clash = await keel(['label', 'cm/settings', '-n', ns, 'tier=db']);
    expect(clash.code).toBe(1);
    expect(clash.err.trim()).toBe("error: 'tier' already has a value (cache), and --overwrite is false");
    expect((await keel(['label', 'cm/settings', '-n', ns, 'tier=db', '--overwrite'])).out.trim()).toBe('configmap/settings labeled');
    expect((await keel(['annotate', 'cm', 'settings', '-n', ns, 'owner=team-a'])).out.trim()).toBe('configmap/settings annotated');
    const meta = JSON.parse((await keel(['get', 'cm', 'settings', '-n', ns, '-o', 'json'])).out) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(meta.metadata.labels).toMatchObject({ app: 'web', tier: 'db' });
    expect(meta.metadata.annotations).toMatchObject({ owner: 'team-a' });
    expect((await keel(['label', 'cm', 'settings', '-n', ns, 'tier-'])).out.trim()).toBe('configmap/settings labeled');
    expect((await keel(['scale', 'deploy/web', '-n', ns, '--replicas=3'])).out.trim()).toBe('deployment.apps/web scaled');
    await until('three replicas in the ReplicaSet', async () => {
      const r = await keel(['get', 'rs', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.replicas}']);
      return r.out.trim() === '3' ? true : undefined;
    });
    const badScale = await keel(['scale', 'deploy/web', '-n', ns, '--replicas=-1']);
    expect(badScale.code).toBe(1);
    expect(badScale.err).toMatch(/--replicas/);
  }, 120_000);

  it('restarts a rollout, lists its history, and waits for status with a timeout', async () => {
    expect((await keel(['rollout', 'restart', 'deployment/web', '-n', ns])).out.trim()).toBe('deployment.apps/web restarted');
    const history = await until('revision 2', async () => {
      const h = await keel(['rollout', 'history', 'deploy/web', '-n', ns]);
      return /^2\s+<none>$/m.test(h.out) ? h.out : undefined;
    });
    expect(history).toMatch(/^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>$/m);
    // No node runs the pods, so the rollout cannot finish: status says why and gives up.
    const status = await keel(['rollout', 'status', 'deploy/web', '-n', ns, '--timeout', '2s']);
    expect(status.code).toBe(1);
    expect(status.out).toMatch(/^Waiting for deployment "web" rollout to finish: /m);
    expect(status.out.includes('\u001b[')).toBe(false);
    expect(status.err.trim()).toBe('error: timed out waiting for the condition');
  }, 120_000);

  it('taints, cordons, uncordons and drains a node', async () => {
    const node = 'keel-cli-node';
    const made = await keel(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${node}\n` });
    expect(made.out.trim()).toBe(`node/${node} created`);
    expect((await keel(['taint', 'nodes', node, 'dedicated=gpu:NoSchedule'])).out.trim()).toBe(`node/${node} tainted`);
    const taints = await keel(['get', 'node', node, '-o', 'jsonpath={.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}']);
    expect(taints.out).toBe('dedicated=gpu:NoSchedule');
    expect((await keel(['taint', 'node', node, 'dedicated-'])).out.trim()).toBe(`node/${node} untainted`);
    const bad = await keel(['taint', 'node', node, 'a=b:Never']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/invalid taint effect "Never"/);
    expect((await keel(['cordon', node])).out.trim()).toBe(`node/${node} cordoned`);
    expect((await keel(['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}'])).out).toBe('true');
    expect((await keel(['uncordon', node])).out.trim()).toBe(`node/${node} uncordoned`);
    // A pod on the node with no controller: drain refuses it unless --force, then evicts it.
    const pod = await keel(['apply', '-n', 'default', '-f', '-'], {
      input: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\nspec:\n  nodeName: ${node}\n  containers:\n  - name: c\n    image: keel/web:1\n`,
    });
    expect(pod.out.trim()).toBe('pod/lone created');
    const refused = await keel(['drain', node, '--timeout', '20s']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`cannot delete Pods that declare no controller (use --force to override): default/lone`);
    // No kubelet runs on this node to finish a graceful stop, so ask for none.
    const drain = await keel(['drain', node, '--force', '--grace-period', '0', '--timeout', '30s']);
    expect(drain.err).toBe('');
    expect(drain.out.trim().split('\n')).toEqual([`node/${node} already cordoned`, 'evicting pod default/lone', 'pod/lone evicted', `node/${node} drained`]);
  }, 120_000);

  it('edits in a real terminal: $EDITOR changes a label and the object is saved; a bad edit names the field', async () => {
    const editor = join(work, 'keel-editor.sh');
    writeFileSync(editor, '#!/bin/sh\n# add a label under metadata.labels (the file is sorted YAML)\nsed -i "s/^  labels:$/  labels:\\n    edited: \\"yes\\"/" "$1"\n');
    chmodSync(editor, 0o755);
    const run = (env: Record<string, string>) => cluster.inTerminal(['edit', 'configmap/settings', '-n', ns], env);
    const ok = await run({ KUBE_EDITOR: editor });
    expect(ok.output).toContain('configmap/settings edited');
    expect(ok.code).toBe(0);
    expect((await keel(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.metadata.labels.edited}'])).out).toBe('yes');
    const badEditor = join(work, 'keel-bad-editor.sh');
    writeFileSync(badEditor, '#!/bin/sh\nsed -i "s/^    edited: .*$/    edited: \\"not a valid label\\"/" "$1"\n');
    chmodSync(badEditor, 0o755);
    const bad = await run({ EDITOR: badEditor, KUBE_EDITOR: '' });
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/Error from server \(Invalid\): .*metadata\.labels/);
    expect(bad.output).toContain('A copy of your changes has been stored to');
  }, 120_000);

  it('deletes by name and by label, waiting until the objects are gone', async () => {
    const del = await keel(['delete', 'cm', 'piped', 'watched', '-n', ns]);
    expect(del.out.trim().split('\n')).toEqual(['configmap "piped" deleted', 'configmap "watched" deleted']);
    expect((await keel(['get', 'cm', 'piped', '-n', ns])).code).toBe(1);
    const byLabel = await keel(['delete', 'cm', '-n', ns, '-l', 'app=web', '--wait=false']);
    expect(byLabel.out.trim()).toBe('configmap "settings" deleted');
    const missing = await keel(['delete', 'cm', 'piped', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe('Error from server (NotFound): configmaps "piped" not found');
  }, 120_000);

  it('helps with mistakes: the nearest resource name, an unreachable server, a bad flag', async () => {
    const [closed] = await freeLoopbackPorts(1);
    const [typo, down, flag] = await Promise.all([
      keel(['get', 'pdos']),
      keel(['get', 'pods', '--server', `https://127.0.0.1:${closed}`]),
      keel(['get', 'pods', '--bogus']),
    ]);
    expect(typo.code).toBe(1);
    expect(typo.err.trim()).toBe('error: the server doesn\'t have a resource type "pdos"; did you mean "pods"?');
    expect(down.code).toBe(1);
    expect(down.err).toContain(`https://127.0.0.1:${closed}`);
    expect(down.err).toMatch(/connection refused.*keel up/);
    expect(flag.code).not.toBe(0);
    expect(flag.err).toContain("unknown option '--bogus'");
  }, 120_000);

  it('manages contexts in the kubeconfig', async () => {
    const copy = join(work, 'keel-copy.kubeconfig');
    copyFileSync(kubeconfig, copy);
    const env = { KUBECONFIG: copy };
    const current = (await keel(['config', 'current-context'], { env })).out.trim();
    expect(current).toBe('kubernetes-admin@keel-local');
    expect((await keel(['config', 'set-context', '--current', '--namespace', ns], { env })).out.trim()).toBe(`Context "${current}" modified.`);
    const contexts = await keel(['config', 'get-contexts'], { env });
    expect(contexts.out).toMatch(new RegExp(`^\\*\\s+${current}\\s+keel-local\\s+\\S+\\s+${ns}$`, 'm'));
    // The context's namespace is now the default one.
    expect((await keel(['get', 'deploy', '-o', 'name'], { env })).out.trim()).toBe('deployment.apps/web');
    expect((await keel(['config', 'set-context', 'other', '--cluster', 'keel-local', '--user', 'nobody'], { env })).out.trim()).toBe('Context "other" created.');
    expect((await keel(['config', 'use-context', 'other'], { env })).out.trim()).toBe('Switched to context "other".');
    expect((await keel(['config', 'current-context'], { env })).out.trim()).toBe('other');
    const view = await keel(['config', 'view'], { env });
    expect(view.out).toContain('client-key-data: DATA+OMITTED');
    expect((await keel(['config', 'use-context', 'missing'], { env })).err.trim()).toBe('error: no context exists with the name: "missing"');
  }, 120_000);

  it('shares its kubeconfig with real kubectl: both see the same objects', async () => {
    const kubectl = ensureKubectl('1.33');
    const seen = await new Promise<string>((done, fail) =>
      execFile(kubectl, ['get', 'deploy,cm', '-n', ns, '-o', 'name'], { env: { ...process.env, KUBECONFIG: kubeconfig } }, (err, stdout) => (err ? fail(err) : done(stdout))),
    );
    const ours = await keel(['get', 'deploy,cm', '-n', ns, '-o', 'name']);
    expect(ours.out.trim().split('\n').sort()).toEqual(seen.trim().split('\n').sort());
    expect(ours.out).toContain('deployment.apps/web');
    const version = await keel(['version']);
    expect(version.out).toMatch(/^Client Version: keel .*\nServer Version: v1\.\d+/);
    const resources = await keel(['api-resources']);
    expect(resources.out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    const completion = (await keel(['completion', 'bash'])).out;
    expect(completion).toContain('complete -F _keel keel');
    // The script is valid bash, and completing `keel ro` offers rollout.
    const script = join(work, 'keel-completion.bash');
    writeFileSync(script, completion);
    const offered = execFileSync('bash', ['-c', `source ${script}; COMP_WORDS=(keel ro); COMP_CWORD=1; _keel; echo "\${COMPREPLY[@]}"`]).toString();
    expect(offered.trim()).toBe('rollout');
  }, 120_000);
});


