/**
 * The lab: network namespaces joined by veth pairs, a router with netem when asked, target
 * servers, and a runner that puts a synack script inside a host.
 *
 *   const lab = labUp({ name: 'lab', hosts: ['client', 'server', 'router'], lossPercent: 1 });
 *   labServe('get', { host: 'server', port: 7000 });
 *   const { result } = await labRun('client', 'handshake', ['get', hostAddress('server'), '7000']);
 *   labDown();
 */
export { labUp, labDown, labStatus, listLabs, hostNamespace, hostAddress, labNamespaces, type LabUpOptions, type LabStatus, type HostStatus, type LabDownResult } from './network.js';
export { labExec, labSpawn, type ExecResult, type ExecOptions } from './exec.js';
export { labRun, labEnv, nodeArgv, resolveScript, exerciseScripts, type RunOptions, type RunResult } from './runner.js';
export { labServe, labTargets, TARGET_KINDS, TARGET_DESCRIPTIONS, type TargetKind, type Target, type ServeOptions } from './serve.js';
export { parseDelay, parseLoss, type Impairment } from './impair.js';
export { planLab, type LabPlan, type HostPlan, type IfacePlan } from './topology.js';
export { nsName, parseNsName, DEFAULT_LAB, ROUTER } from './names.js';
