// The session a workspace file carries (packets/workspace-file.ts holds the bytes): one
// versioned JSON document, checked with zod before anything is replaced, so a file
// from a newer workbench, or one edited by hand, is refused with what is wrong.
import { z } from 'zod';
import { readWorkspaceFile, WorkspaceFileError } from '../packets/workspace-file';
import type { Capture } from '../packets/pcapng';
import { layerKinds } from '../packets/registry';

export const WORKSPACE_FORMAT = 'packet-workbench-workspace';
/** Bump on a change older readers cannot take; give older versions a migration below. */
export const WORKSPACE_VERSION = 1;

const name = z.string().max(200);
const text = z.string().max(1_000_000);

/** One editor layer as the editor keeps it (renderer/src/model/draft.ts DraftLayer). */
const DraftLayer = z.union([
  z.strictObject({ id: name, kind: z.literal('payload'), mode: z.enum(['text', 'hex']), text }),
  z.strictObject({ id: name, kind: z.string().refine((kind) => Object.hasOwn(layerKinds, kind), { message: `not a header kind (${Object.keys(layerKinds).join(', ')})` }), values: z.record(z.string(), text), manual: z.record(z.string(), z.boolean()) }),
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

/** Checks a file completely: blocks, JSON, format, version, schema. Throws WorkspaceFileError saying what is wrong. */
export function parseWorkspace(bytes: Uint8Array): { workspace: Workspace; capture: Capture } {
  const { json, capture } = readWorkspaceFile(bytes);
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (error) {
    throw new WorkspaceFileError(`Damaged: the workspace block is not valid JSON (${(error as Error).message})`);
  }
  const head = (document ?? {}) as { format?: unknown; version?: unknown };
  if (typeof document !== 'object' || head.format !== WORKSPACE_FORMAT) {
    throw new WorkspaceFileError(`Not a workspace: the workspace block's format is ${JSON.stringify(head.format)?.slice(0, 60)}, expected "${WORKSPACE_FORMAT}"`);
  }
  if (typeof head.version !== 'number' || !Number.isInteger(head.version) || head.version < 1) {
    throw new WorkspaceFileError(`Damaged: the workspace version is ${JSON.stringify(head.version)?.slice(0, 30)}, expected a whole number from 1`);
  }
  if (head.version > WORKSPACE_VERSION) {
    throw new WorkspaceFileError(`Made by a newer Packet Workbench (format v${head.version}; this one reads up to v${WORKSPACE_VERSION}): update to open it`);
  }
  const checked = WorkspaceV1.safeParse(document);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue.path.map(String).join('.') || '(the document)';
    throw new WorkspaceFileError(`Damaged: the workspace field ${field} is invalid: ${issue.message}`);
  }
  return { workspace: checked.data, capture };
}

export { WorkspaceFileError };
