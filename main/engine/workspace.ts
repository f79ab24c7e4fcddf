// Workspaces: the whole session in one file (packets/workspace-file.ts, common/workspace.ts).
// Saving gathers what the engine holds (sockets, experiments) around what the client sends
// (editor, lab and lesson choice, layout) and writes the log behind it through an ordinary
// piecewise export. Loading checks the whole file first and only then replaces the log and
// the experiments, so a refused file changes nothing (and the replaced log is one
// undoClearLog away). parseWorkspace is the one reader of a file (engine and CLI).
import type { ExperimentRun, Params, SocketInfo } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { WORKSPACE_FORMAT, WORKSPACE_VERSION, WorkspaceV1, type Workspace, type SocketSetup } from '../../common/workspace';
import { readWorkspaceFile, WorkspaceEncoder, WorkspaceFileError } from '../../packets/workspace-file';
import type { Capture } from '../../packets/pcapng';

export { WorkspaceFileError };
import type { CaptureTransfers } from './capture-transfers';

/** What workspaces need from the engine. */
export interface WorkspaceHost {
  readonly transfers: Pick<CaptureTransfers, 'openExportWith'>;
  listSockets(): Promise<SocketInfo[]>;
  listExperiments(): Promise<ExperimentRun[]>;
  /** Empties the log (undoable) and appends the file's packets; returns how many were logged. */
  replaceLog(capture: Capture): Promise<number>;
  restoreExperiments(runs: readonly ExperimentRun[]): void;
}

export class Workspaces {
  constructor(private readonly host: WorkspaceHost) {}

  /** Opens an export of the workspace file: read it with readExport until done. */
  async save(part: Params<'saveWorkspace'>): Promise<{ exportId: string; packets: number }> {
    const workspace: Workspace = {
      format: WORKSPACE_FORMAT,
      version: WORKSPACE_VERSION,
      savedAt: new Date().toISOString(),
      ...part,
      sockets: (await this.host.listSockets()).filter((socket) => !socket.closed).map(socketSetup),
      // Runs are plain JSON data; the file's schema checks the fields a reader relies on.
      experiments: (await this.host.listExperiments()) as unknown as Workspace['experiments'],
    };
    return this.host.transfers.openExportWith(new WorkspaceEncoder(JSON.stringify(workspace)));
  }

  /** Checks the whole file, then replaces the log and the experiments; the client restores the rest from `workspace`. */
  async load(params: Params<'loadWorkspace'>): Promise<{ workspace: Workspace; imported: number }> {
    const bytes = Buffer.from(params.data, 'base64');
    let parsed: ReturnType<typeof parseWorkspace>;
    try {
      parsed = parseWorkspace(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      if (error instanceof WorkspaceFileError) throw new WorkbenchError('INVALID_ARGUMENT', `Workspace refused, nothing changed: ${error.message}`, 'data');
      throw error;
    }
    const imported = await this.host.replaceLog(parsed.capture);
    this.host.restoreExperiments(parsed.workspace.experiments as unknown as ExperimentRun[]);
    return { workspace: parsed.workspace, imported };
  }
}

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

function socketSetup(socket: SocketInfo): SocketSetup {
  return {
    socketId: socket.socketId,
    family: socket.family,
    protocol: socket.protocol,
    mode: socket.mode,
    filter: socket.filter,
    ...(socket.host !== undefined ? { host: socket.host } : {}),
  };
}
