// Every case of the suite, in the order it runs: the runtime and images first (a pod
// needs both), then pods and containers, commands, logs, networking, security.
import type { ConformanceCase } from '../suite';
import { execCases } from './exec';
import { logCases } from './logs';
import { networkCases } from './network';
import { podCases } from './pods';
import { runtimeCases } from './runtime';
import { securityCases } from './security';

export const allCases: ConformanceCase[] = [
  ...runtimeCases,
  ...podCases,
  ...execCases,
  ...logCases,
  ...networkCases,
  ...securityCases,
];
