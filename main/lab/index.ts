// Network namespace labs (Linux, root): see README.md.
export {
  createLab,
  createNamespace,
  isLabSupported,
  labSupport,
  runAsPrefix,
  NOBODY,
  LabCommandError,
} from './lab';
export type {
  Lab,
  LabHost,
  LabOptions,
  LabSupport,
  Namespace,
  NamespaceOptions,
  NamespaceExecOptions,
  NamespaceSpawnOptions,
  CommandResult,
  RunOptions,
  RunAs,
  Sysctls,
} from './lab';
export { planLab, linkAddress, ipv4Subnet, ipv6Subnet, hostName, DEFAULT_ROUTERS, MAX_ROUTERS } from './plan';
export type { LabPlan, LabPlanOptions, LabHostPlan, LabInterfacePlan, LabLinkPlan, LabRoutePlan, LabFamily, LabRole } from './plan';
export { readableCopy, sudoersRule } from './readable-copy';
export type { ReadableCopy } from './readable-copy';
// Topology labs (they need zod): import from './topology', './topology-lab', './topologies', './impairment'.
