// ImageLocality: prefer nodes that already hold the pod's images (node.status.images), each
// image's size scaled by the fraction of nodes that have it, so an image present everywhere
// does not pull every pod onto one node. Thresholds are Kubernetes' (23 MB .. 1000 MB per
// container).

import { MaxNodeScore, type PreScorePlugin, type ScorePlugin } from '../framework/interfaces';
import { normalizeImageName } from '../framework/node-info';
import type { Snapshot } from '../framework/snapshot';
import { Status } from '../framework/status';

const mb = 1024 * 1024;
const minThreshold = 23 * mb;
const maxContainerThreshold = 1000 * mb;
const stateKey = 'ImageLocality';

interface State {
  /** Image → fraction of nodes holding it. */
  spread: Map<string, number>;
  containers: number;
}

function imageSpread(snapshot: Snapshot, image: string): number {
  return snapshot.imageNodeCount(image) / Math.max(1, snapshot.nodeInfos.length);
}

export function newImageLocality(): PreScorePlugin & ScorePlugin {
  return {
    name: 'ImageLocality',
    preScore(state, pod, _nodes, snapshot) {
      const spec = pod.pod.spec;
      const images = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.image).filter((i): i is string => !!i);
      if (images.length === 0) return Status.skip();
      const spread = new Map<string, number>();
      for (const image of images) {
        const name = normalizeImageName(image);
        const fraction = imageSpread(snapshot, name);
        if (fraction > 0) spread.set(name, fraction);
      }
      // No node holds any of the images: every node would score 0.
      if (spread.size === 0) return Status.skip();
      state.write(stateKey, { spread, containers: images.length } satisfies State);
      return Status.success();
    },
    score(state, _pod, node) {
      const s = state.read<State>(stateKey);
      if (!s) return 0;
      let sum = 0;
      for (const [name, spread] of s.spread) {
        const size = node.imageSizes.get(name);
        if (size !== undefined) sum += size * spread;
      }
      const max = maxContainerThreshold * s.containers;
      const clamped = Math.min(Math.max(sum, minThreshold), max);
      return Math.floor((MaxNodeScore * (clamped - minThreshold)) / (max - minThreshold));
    },
  };
}
