// The session a workspace file carries (packets/workspace-file.ts holds the bytes, and
// main/engine/workspace.ts parseWorkspace reads both): one versioned JSON document, checked
// with zod before anything is replaced, so a file from a newer workbench, or one edited by
// hand, is refused with what is wrong. Schemas only: the contract (and so the preload
// bundle) imports this file.
import { z } from 'zod';

export const WORKSPACE_FORMAT = 'packet-workbench-workspace';
/** Bump on a change older readers cannot take (and give parseWorkspace a migration from the older ones). */
export const WORKSPACE_VERSION = 1;

const name = z.string().max(200);
const text = z.string().max(1_000_000);

/** One editor layer as the editor keeps it (renderer/src/model/draft.ts DraftLayer). */
const DraftLayer = z.union([
  z.strictObject({ id: name, kind: z.literal('payload'), mode: z.enum(['text', 'hex']), text }),
  z.strictObject({ id: name, kind: z.enum(['ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp']), values: z.record(z.string(), text), manual: z.record(z.string(), z.boolean()) }),
]);
const Layers = z.array(DraftLayer).max(16);

/** What the GUI holds and the engine does not: sent with saveWorkspace, given back by loadWorkspace. */
export const WorkspaceClientPart = z.strictObject({
  editor: z.strictObject({ layers: Layers, saved: z.record(name, Layers) }),
  /** The topology chosen and the host acted from ('' for none). */
  lab: z.strictObject({ topology: name, host: name }),
  /** The lesson followed ('' for none) and the step shown (0-based). */
  lesson: z.strictObject({ name, step: z.number().int().min(0).max(1000) }),
  /** Split positions by split id (fractions given to the first pane). */
  layout: z.record(name, z.number().gt(0).lt(1)),
});
export type WorkspaceClientPart = z.infer<typeof WorkspaceClientPart>;

/** A socket as it was set up (reopen it with openSocket). */
const SocketSetup = z.strictObject({
  socketId: name,
  family: z.enum(['ipv4', 'ipv6']),
  protocol: z.number().int().min(0).max(255),
  mode: z.enum(['raw', 'datagram']),
  filter: z.string().max(4096).nullable(),
  host: name.optional(),
});
export type SocketSetup = z.infer<typeof SocketSetup>;

/** An experiment run with its results (common/contract-results.ts ExperimentRun); its details as the engine reported them. */
const SavedRun = z.looseObject({
  runId: name,
  kind: z.enum(['ping', 'traceroute', 'mtr', 'pmtu']),
  target: name,
  state: z.enum(['running', 'done', 'stopped', 'failed']),
  startedAt: z.number(),
});

export const WorkspaceV1 = WorkspaceClientPart.extend({
  format: z.literal(WORKSPACE_FORMAT),
  version: z.literal(1),
  savedAt: z.string().max(64),
  sockets: z.array(SocketSetup).max(10_000),
  experiments: z.array(SavedRun).max(10_000),
});
export type Workspace = z.infer<typeof WorkspaceV1>;
