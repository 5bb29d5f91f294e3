// @keel/process: daemons started detached with recorded PIDs, and free loopback ports.
export { httpAnswers, killDaemon, runningDaemon, startDaemon, stopDaemon, type DaemonSpec, type RunningDaemon } from './daemon';
export { freeLoopbackPort, freeLoopbackPorts } from './ports';
export { eventually, type EventuallyOptions } from './eventually';
