// @keel/process: daemons started detached with recorded PIDs, free loopback ports, and cleanups run once on SIGINT/SIGTERM or at the end.
export { httpAnswers, killDaemon, runningDaemon, startDaemon, stopDaemon, type DaemonSpec, type RunningDaemon } from './daemon';
export { ephemeralRangeStart, freeLoopbackPort, freeLoopbackPorts } from './ports';
export { eventually, type EventuallyOptions } from './eventually';
export { onCleanup, pendingCleanups, removeWorkDir, runCleanups, runTool, ShuttingDownError, stopDaemonsUnder } from './cleanup';
