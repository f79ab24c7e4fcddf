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
export { parseTopology, topologySchema, TopologyError } from './topology';
export type { Topology, TopologyFile, TopologyHost, TopologyLink, TopologyImpairment, TopologyIssue, FirewallRule } from './topology';
export { planTopology } from './topology-plan';
export type { TopologyPlan, PlannedHost, PlannedLink, PlannedRoute, PlannedDirection } from './topology-plan';
export { createTopologyLab } from './topology-lab';
export type { TopologyLab, TopologyLabOptions, LabMap, LabMapImpairment } from './topology-lab';
export { kernelImpairment, describeImpairment } from './impairment';
export type { ImpairLink, ImpairedDirection, Impairment, ImpairmentHow, ImpairmentResult } from './impairment';
export { loadTopology, shippedTopologies, SHIPPED_TOPOLOGIES_DIR } from './topologies';
export type { ShippedTopology } from './topologies';
