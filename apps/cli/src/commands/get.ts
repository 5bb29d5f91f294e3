// `keel get`: lists or reads objects and prints the server's Table (kubectl's Accept header),
// or the objects as yaml, json, jsonpath (template, file, or as JSON), custom columns or names;
// `-w` then follows the watch from the list's resourceVersion, one row per event.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { kindName, type ResourceInfo } from '../kube/discovery';
import { ApiStatusError, TABLE_ACCEPT, readJsonLines, statusError, readAll } from '../kube/rest';
import { execute, parseTemplate } from '../print/jsonpath';
import { customColumnsTable, parseCustomColumns, parseCustomColumnsFile, type CustomColumn } from '../print/jsonpath-columns';
import { asList, objectName, toJson, toYaml, type KubeObj } from '../print/objects';
import { columnWidths, padColumns, tableCells, type Table, type TableOptions } from '../print/table';
import { action, errorLine, out, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

export interface GetFlags {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  showLabels?: boolean;
  headers?: boolean;
  allowMissingTemplateKeys?: boolean;
}

export type OutputFormat =
  | { kind: 'table'; wide: boolean }
  | { kind: 'yaml' }
  | { kind: 'json' }
  | { kind: 'name' }
  | { kind: 'jsonpath'; template: string; asJson?: true }
  | { kind: 'custom-columns'; columns: CustomColumn[] };

const FORMATS = 'custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml';

/** kubectl's words when a -o …-file cannot be read. */
function readTemplateFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`error reading --template ${path}, ${(err as Error).message}`);
  }
}

export function parseOutput(raw: string | undefined): OutputFormat {
  // `-o=yaml` reaches here as "=yaml" (pflag accepts it, commander keeps the "=").
  const o = raw?.startsWith('=') ? raw.slice(1) : raw;
  if (o === undefined || o === '') return { kind: 'table', wide: false };
  if (o === 'wide') return { kind: 'table', wide: true };
  if (o === 'yaml' || o === 'json' || o === 'name') return { kind: o };
  const m = /^(jsonpath|jsonpath-as-json|jsonpath-file|custom-columns|custom-columns-file)=(.*)$/s.exec(o);
  if (!m) {
    if (/^(jsonpath|jsonpath-as-json|jsonpath-file|custom-columns|custom-columns-file)$/.test(o)) throw new UsageError(`${o} format specified but no template given`);
    throw new UsageError(`unable to match a printer suitable for the output format "${o}", allowed formats are: ${FORMATS}`);
  }
  const [, kind, arg] = m as unknown as [string, string, string];
  if (kind === 'custom-columns') return { kind: 'custom-columns', columns: parseCustomColumns(arg) };
  if (kind === 'custom-columns-file') return { kind: 'custom-columns', columns: parseCustomColumnsFile(readTemplateFile(arg)) };
  let template = kind === 'jsonpath-file' ? readTemplateFile(arg) : arg;
  // Keel (not kubectl) takes a bare `.metadata.name` as one action.
  if (!template.includes('{')) template = `{${template}}`;
  parseTemplate(template); // a bad template fails before anything is fetched, as in kubectl
  return { kind: 'jsonpath', template, ...(kind === 'jsonpath-as-json' ? { asJson: true as const } : {}) };
}

export interface PrintOptions {
  /** --allow-missing-template-keys (default true). */
  allowMissingKeys?: boolean;
  /** --no-headers, or a watch event after the first. */
  noHeaders?: boolean;
}

/** Prints objects (fetched as JSON) in a non-table format. */
export function printObjects(objects: KubeObj[], fmt: OutputFormat, single: boolean, opts: PrintOptions = {}): string {
  const value = single && objects.length === 1 ? objects[0]! : asList(objects);
  switch (fmt.kind) {
    case 'yaml':
      return toYaml(value);
    case 'json':
      return toJson(value);
    case 'name':
      return objects.map(objectName).join('\n');
    case 'jsonpath':
      return execute(parseTemplate(fmt.template), fmt.template, value, { allowMissingKeys: opts.allowMissingKeys ?? true, ...(fmt.asJson ? { asJson: true } : {}) });
    case 'custom-columns':
      return customColumnsTable(fmt.columns, objects, !opts.noHeaders);
    default:
      throw new Error('table output goes through the server');
  }
}

/** Lists carry no kind/apiVersion per item; fill them in so yaml/json/name read as kubectl's. */
function withTypeMeta(items: KubeObj[], info: ResourceInfo): KubeObj[] {
  return items.map((o) => ({ apiVersion: info.groupVersion, kind: info.kind, ...o }));
}

const ALL_TYPES = ['pods', 'services', 'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'jobs', 'cronjobs'];

async function expandTypes(kube: Kube, types: string[]): Promise<ResourceInfo[]> {
  const out: ResourceInfo[] = [];
  for (const t of types) {
    if (t === 'all') {
      const all = await kube.discovery.resources();
      const inCategory = all.filter((r) => r.categories.includes('all'));
      const chosen = inCategory.length ? inCategory : ALL_TYPES.map((name) => all.find((r) => r.resource === name)).filter((r): r is ResourceInfo => r !== undefined);
      out.push(...chosen);
    } else {
      out.push(await kube.discovery.resolve(t));
    }
  }
  return out;
}

async function list(kube: Kube, info: ResourceInfo, ns: string | undefined, flags: GetFlags, accept: string): Promise<{ items: unknown[]; table?: Table; rv: string }> {
  let cont: string | undefined;
  let table: Table | undefined;
  const items: unknown[] = [];
  let rv = '';
  do {
    const page = await kube.client.get<{ items?: unknown[]; rows?: Table['rows']; columnDefinitions?: Table['columnDefinitions']; metadata?: { continue?: string; resourceVersion?: string } }>(
      kube.path(info, undefined, ns ?? ''),
      { labelSelector: flags.selector, fieldSelector: flags.fieldSelector, limit: 500, continue: cont },
      accept,
    );
    if ((page as { kind?: string }).kind === 'Table') {
      table ??= { kind: 'Table', columnDefinitions: page.columnDefinitions ?? [], rows: [] };
      table.rows!.push(...(page.rows ?? []));
    } else {
      items.push(...(page.items ?? []));
    }
    rv = page.metadata?.resourceVersion ?? rv;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { items, ...(table ? { table } : {}), rv };
}

export async function runGet(kube: Kube, args: string[], flags: GetFlags): Promise<void> {
  const fmt = parseOutput(flags.output);
  const printOpts: PrintOptions = { allowMissingKeys: flags.allowMissingTemplateKeys !== false, noHeaders: flags.headers === false };
  const groups = typeNameArgs(args);
  if (groups.length === 0) throw new UsageError('you must specify the type of resource to get, e.g. "keel get pods" (see "keel api-resources")');
  const expanded: { info: ResourceInfo; names: string[] }[] = [];
  for (const g of groups) for (const info of await expandTypes(kube, [g.type])) expanded.push({ info, names: g.names });
  const several = expanded.length > 1 || groups.some((g) => g.type === 'all');
  if (flags.watch && expanded.length > 1) throw new UsageError('you may only specify a single resource type with --watch');
  const allNs = flags.allNamespaces === true;
  let failed = false;
  const objects: KubeObj[] = [];
  const tables: string[] = [];
  let anyRows = false;
  for (const { info, names } of expanded) {
    const ns = allNs || !info.namespaced ? undefined : kube.namespace;
    const tableOpts: TableOptions = {
      wide: fmt.kind === 'table' && fmt.wide,
      allNamespaces: allNs && info.namespaced,
      showLabels: flags.showLabels === true,
      noHeaders: flags.headers === false,
      ...(several ? { kindPrefix: kindName(info) } : {}),
    };
    if (names.length > 0) {
      if (allNs) throw new UsageError('a resource cannot be retrieved by name across all namespaces');
      const rows: Table['rows'] = [];
      let columns: Table['columnDefinitions'];
      for (const name of names) {
        try {
          if (fmt.kind === 'table') {
            const t = await kube.client.get<Table>(kube.path(info, name, ns), undefined, TABLE_ACCEPT);
            columns ??= t.columnDefinitions;
            rows.push(...(t.rows ?? []));
          } else {
            objects.push(await kube.client.get<KubeObj>(kube.path(info, name, ns)));
          }
        } catch (err) {
          if (!(err instanceof ApiStatusError)) throw err;
          process.stderr.write(errorLine(err) + '\n');
          failed = true;
        }
      }
      if (fmt.kind === 'table' && columns) {
        const { header, rows: cells } = tableCells(columns, rows, tableOpts);
        tables.push(padColumns(tableOpts.noHeaders ? cells : [header, ...cells]));
        anyRows = true;
      }
      if (flags.watch) await watch(kube, info, ns, { ...flags, fieldSelector: names.length === 1 ? `metadata.name=${names[0]}` : flags.fieldSelector }, fmt, tableOpts, undefined, undefined, undefined, printOpts);
      continue;
    }
    if (fmt.kind === 'table') {
      const { table, items, rv } = await list(kube, info, ns, flags, TABLE_ACCEPT);
      const t: Table = table ?? { kind: 'Table', columnDefinitions: [{ name: 'Name', format: 'name' }], rows: (items as KubeObj[]).map((o) => ({ cells: [o.metadata?.name], object: o })) };
      let widths: number[] | undefined;
      if (t.rows!.length > 0) {
        const { header, rows } = tableCells(t.columnDefinitions ?? [], t.rows!, tableOpts);
        const lines = tableOpts.noHeaders ? rows : [header, ...rows];
        widths = columnWidths(lines);
        tables.push(padColumns(lines, widths));
        anyRows = true;
      }
      if (flags.watch) {
        if (tables.length) out(tables.join('\n\n'));
        else process.stderr.write(noResources(ns, allNs) + '\n');
        tables.length = 0;
        await watch(kube, info, ns, flags, fmt, tableOpts, rv, widths, t.columnDefinitions);
      }
    } else {
      const { items, rv } = await list(kube, info, ns, flags, 'application/json');
      objects.push(...withTypeMeta(items as KubeObj[], info));
      if (flags.watch) {
        if (objects.length) out(printObjects(objects, fmt, false, printOpts));
        await watch(kube, info, ns, flags, fmt, tableOpts, rv, undefined, undefined, { ...printOpts, noHeaders: printOpts.noHeaders || objects.length > 0 });
        objects.length = 0;
      }
    }
  }
  if (flags.watch) return;
  if (fmt.kind === 'table') {
    if (tables.length) out(tables.join('\n\n'));
    else if (!anyRows && !failed) process.stderr.write(noResources(expanded.every((e) => e.info.namespaced) ? kube.namespace : undefined, allNs) + '\n');
  } else if (objects.length || !failed) {
    const single = expanded.length === 1 && expanded[0]!.names.length === 1;
    if (objects.length || fmt.kind !== 'name') {
      const text = printObjects(objects, fmt, single, printOpts);
      if (fmt.kind === 'jsonpath') process.stdout.write(text);
      else out(text);
    }
  }
  if (failed) process.exitCode = 1;
}

function noResources(ns: string | undefined, allNs: boolean): string {
  return allNs || ns === undefined ? 'No resources found' : `No resources found in ${ns} namespace.`;
}

/** Follows a watch and prints each event (a Table row, or the object). Ends when the server ends it. */
async function watch(
  kube: Kube,
  info: ResourceInfo,
  ns: string | undefined,
  flags: GetFlags,
  fmt: OutputFormat,
  tableOpts: TableOptions,
  rv: string | undefined,
  widths?: number[],
  columns?: Table['columnDefinitions'],
  printOpts: PrintOptions = {},
): Promise<void> {
  const table = fmt.kind === 'table';
  const { res } = await kube.client.open({
    path: kube.path(info, undefined, ns ?? ''),
    query: { labelSelector: flags.selector, fieldSelector: flags.fieldSelector, resourceVersion: rv, watch: 'true' },
    accept: table ? TABLE_ACCEPT : 'application/json',
    timeoutMs: 0,
  });
  if ((res.statusCode ?? 0) >= 300) throw statusError(res.statusCode ?? 0, await readAll(res));
  let cols = columns;
  let headerDone = widths !== undefined;
  await readJsonLines(res, (e) => {
    const ev = e as { type: string; object: unknown };
    if (ev.type === 'BOOKMARK') return;
    if (ev.type === 'ERROR') {
      const st = ev.object as { code?: number; message?: string };
      throw statusError(st.code ?? 500, JSON.stringify(ev.object));
    }
    if (table) {
      const t = ev.object as Table;
      if (t.columnDefinitions?.length) cols = t.columnDefinitions;
      const { header, rows } = tableCells(cols ?? [], t.rows ?? [], tableOpts);
      const lines = headerDone || tableOpts.noHeaders ? rows : [header, ...rows];
      widths ??= columnWidths(lines);
      headerDone = true;
      out(padColumns(lines, widths.map((w, i) => Math.max(w, ...lines.map((l) => l[i]?.length ?? 0)))));
    } else {
      const obj = { apiVersion: info.groupVersion, kind: info.kind, ...(ev.object as KubeObj) };
      const text = printObjects([obj], fmt, true, { ...printOpts, noHeaders: printOpts.noHeaders || headerDone });
      headerDone = true;
      if (fmt.kind === 'jsonpath') process.stdout.write(text);
      else out(fmt.kind === 'yaml' ? `---\n${text}` : text);
    }
  });
}

export function registerGet(program: Command): void {
  withKubeFlags(
    program
      .command('get')
      .description('list or read objects: keel get TYPE[,TYPE…] [NAME…] | TYPE/NAME…')
      .argument('[args...]', 'resource types and names')
      .addOption(new Option('-o, --output <format>', 'json|yaml|wide|name|jsonpath=TEMPLATE|jsonpath-file=FILE|jsonpath-as-json=TEMPLATE|custom-columns=NAME:.path,…|custom-columns-file=FILE'))
      .addOption(
        new Option('--allow-missing-template-keys [bool]', 'with jsonpath, print nothing for a missing key instead of failing (default true)').argParser((v: string | undefined) => {
          if (v === undefined || v === 'true') return true;
          if (v === 'false') return false;
          throw new UsageError(`invalid argument "${v}" for "--allow-missing-template-keys" flag: expected true or false`);
        }),
      )
      .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
      .option('--field-selector <selector>', 'field selector, e.g. status.phase=Running')
      .option('-A, --all-namespaces', 'list across every namespace')
      .option('-w, --watch', 'after listing, print changes as they happen')
      .option('--show-labels', 'add a LABELS column')
      .option('--no-headers', 'print table rows without the header'),
  ).action(action((kube, args: string[], flags: GetFlags) => runGet(kube, args, flags)));
}
