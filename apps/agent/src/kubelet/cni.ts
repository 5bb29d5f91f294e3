// The pod CIDR in the node's CNI conflist. tools/containerd writes the conflist with the
// CIDR it was started with; when the controller-manager assigns another (spec.podCIDR)
// the agent rewrites the host-local IPAM range before its first sandbox, so pods get
// addresses the rest of the cluster routes to this node. Only the bridge plugin's range
// and gateway change; everything else in the file is kept.

/** The first host of the CIDR: the bridge's own address and the pods' gateway. */
export function gatewayOf(cidr: string): string {
  const [base] = cidr.split('/');
  const parts = base!.split('.').map(Number);
  parts[3] = parts[3]! + 1;
  return parts.join('.');
}

interface Conflist {
  plugins?: { type?: string; ipam?: { ranges?: { subnet: string; gateway?: string }[][] } }[];
}

/** The subnet the conflist's bridge plugin hands out, if any. */
export function conflistSubnet(text: string): string | undefined {
  const list = JSON.parse(text) as Conflist;
  return list.plugins?.find((p) => p.type === 'bridge')?.ipam?.ranges?.[0]?.[0]?.subnet;
}

/** The conflist with the bridge plugin's range set to `cidr`. */
export function withSubnet(text: string, cidr: string): string {
  const list = JSON.parse(text) as Conflist;
  const bridge = list.plugins?.find((p) => p.type === 'bridge');
  if (!bridge?.ipam) throw new Error('the CNI conflist has no bridge plugin with IPAM');
  bridge.ipam.ranges = [[{ subnet: cidr, gateway: gatewayOf(cidr) }]];
  return `${JSON.stringify(list, null, 2)}\n`;
}
