// Cases for pod networking on one node: a pod reaches another pod's IP, the host reaches
// a pod's IP, and a port mapping on the host's loopback reaches the pod (portmap).
import { freeLoopbackPort } from '@keel/process';
import { check } from '../errors';
import { httpGet } from '../net';
import type { ConformanceCase } from '../suite';

export const networkCases: ConformanceCase[] = [
  {
    name: 'network/pod-to-pod',
    description: "a pod reaches another pod's IP on the node",
    async run(f) {
      const server = await f.runPod();
      await f.container(server, 'web', f.images.web);
      const client = await f.runPod();
      const c = await f.container(client, 'client', f.images.busybox, { command: ['sleep', '3600'] });
      check(server.ip !== client.ip, `both pods have IP ${server.ip}`);
      await f.waitUntil(
        async () => {
          const r = await f.exec(c, ['wget', '-q', '-O', '-', `http://${server.ip}:8080/`], 5);
          return r.exitCode === 0 && r.stdout.includes('hello from keel');
        },
        10_000,
        `pod ${client.ip} did not reach http://${server.ip}:8080/`,
      );
    },
  },
  {
    name: 'network/host-to-pod',
    description: "the host reaches a pod's IP",
    async run(f) {
      const pod = await f.runPod();
      await f.container(pod, 'web', f.images.web);
      const url = `http://${pod.ip}:8080/`;
      await f.waitUntil(async () => (await httpGet(url, 2_000)).body.includes('hello from keel'), 10_000, `the host did not reach ${url}`);
    },
  },
  {
    name: 'network/port-mapping',
    description: "a host port on loopback reaches the pod's container port",
    async run(f) {
      const hostPort = await freeLoopbackPort(f.opts.hostIp);
      const pod = await f.runPod({
        port_mappings: [{ protocol: 'TCP', container_port: 8080, host_port: hostPort, host_ip: f.opts.hostIp }],
      });
      await f.container(pod, 'web', f.images.web);
      const url = `http://${f.opts.hostIp}:${hostPort}/`;
      await f.waitUntil(async () => (await httpGet(url, 2_000)).body.includes('hello from keel'), 10_000, `${url} did not reach the pod`);
    },
  },
];
