// Registers the kubectl-style commands of `keel` on the program main.ts builds. Each group
// lives in its own file; completion is registered last so it sees every command.
import type { Command } from 'commander';
import { registerApply } from './apply';
import { registerConfig } from './config';
import { withKubeFlags } from './context';
import { registerDelete } from './delete';
import { registerDescribe } from './describe';
import { registerEdit } from './edit';
import { registerExec } from './exec';
import { registerGet } from './get';
import { registerInfo } from './info';
import { registerLogs } from './logs';
import { registerModify } from './modify';
import { registerNodes } from './nodes';
import { registerRollout } from './rollout';

export function registerKubeCommands(program: Command, version: string): void {
  // kubectl takes its connection flags before the verb too (`keel -n demo get pods`). Root
  // options then stop at the sub-command's name, so `config set-context --namespace` and
  // `get -n` keep their own.
  program.enablePositionalOptions();
  withKubeFlags(program);
  registerGet(program);
  registerDescribe(program);
  registerApply(program);
  registerDelete(program);
  registerModify(program);
  registerNodes(program);
  registerLogs(program);
  registerRollout(program);
  registerEdit(program);
  registerExec(program);
  registerConfig(program);
  registerInfo(program, version);
}
