// The scheduler's configuration, a subset of KubeSchedulerConfiguration (v1): one profile's
// filter and score plugins (enabled/disabled, with `*` disabling all defaults), score
// weights, per-plugin args and percentageOfNodesToScore. A config only lists changes from
// the defaults, exactly as kube-scheduler's does.

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

export interface SchedulerProfile {
  schedulerName?: string;
  plugins?: { filter?: PluginSet; score?: PluginSet };
  pluginConfig?: { name: string; args?: unknown }[];
}

export interface SchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  /** 0 (the default) means adaptive, as Kubernetes: 50% − nodes/125, at least 5%. */
  percentageOfNodesToScore?: number;
  profiles?: SchedulerProfile[];
}

export const defaultFilterPlugins: readonly string[] = [
  'NodeUnschedulable',
  'NodeName',
  'TaintToleration',
  'NodeAffinity',
  'NodePorts',
  'NodeResourcesFit',
  'PodTopologySpread',
  'InterPodAffinity',
];

/** Kubernetes' default score weights. */
export const defaultScorePlugins: readonly Required<PluginRef>[] = [
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'NodeResourcesLeastAllocated', weight: 1 },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
];

export interface ResolvedProfile {
  schedulerName: string;
  filter: string[];
  score: Required<PluginRef>[];
  args: Map<string, unknown>;
}

function merge<T extends PluginRef>(defaults: readonly T[], set: PluginSet | undefined, withWeight: (r: PluginRef) => T): T[] {
  const disabled = new Set((set?.disabled ?? []).map((r) => r.name));
  const enabled = set?.enabled ?? [];
  const kept = disabled.has('*') ? [] : defaults.filter((d) => !disabled.has(d.name));
  const out = kept.map((d) => {
    const override = enabled.find((e) => e.name === d.name);
    return override ? withWeight({ ...d, ...override }) : d;
  });
  for (const e of enabled) if (!out.some((o) => o.name === e.name)) out.push(withWeight(e));
  return out;
}

/** The effective plugin lists of the config's first profile (or the defaults). */
export function resolveProfile(config: SchedulerConfiguration = {}): ResolvedProfile {
  const profile = config.profiles?.[0] ?? {};
  const filter = merge(
    defaultFilterPlugins.map((name) => ({ name })),
    profile.plugins?.filter,
    (r) => ({ name: r.name }),
  ).map((r) => r.name);
  const score = merge(defaultScorePlugins, profile.plugins?.score, (r) => ({ name: r.name, weight: r.weight ?? 1 }));
  const args = new Map((profile.pluginConfig ?? []).map((c) => [c.name, c.args]));
  return { schedulerName: profile.schedulerName ?? 'default-scheduler', filter, score, args };
}
