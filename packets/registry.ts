// Every layer kind the workbench knows, by name.

import type { HeaderKind, LayerDefinition, LayerKindName } from './layer';
import { icmp } from './layers/icmp';
import { icmpv6 } from './layers/icmpv6';
import { ipv4 } from './layers/ipv4';
import { ipv6 } from './layers/ipv6';
import { tcp } from './layers/tcp';
import { udp } from './layers/udp';

export const layerKinds: Readonly<Record<HeaderKind, LayerDefinition>> = { ipv4, ipv6, icmp, icmpv6, udp, tcp };

/** All kinds a stack may contain, headers first, raw payload last. */
export const layerKindNames: readonly LayerKindName[] = ['ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp', 'payload'];

export function isHeaderKind(kind: unknown): kind is HeaderKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(layerKinds, kind);
}
