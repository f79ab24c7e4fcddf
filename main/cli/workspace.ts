// packet-workbench workspace show FILE: what a saved workspace holds (common/workspace.ts),
// read and checked without an engine; a refused file exits 2 with the reason.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Workspace } from '../../common/workspace';
import { parseWorkspace, WorkspaceFileError } from '../engine/workspace';
import type { Capture } from '../../packets/pcapng';
import { CliError, EXIT_OK, EXIT_USAGE } from './errors';
import type { Output } from './session';

type Action = (out: Output) => Promise<number>;

/** Largest workspace read (the GUI loads up to 8 MiB; the CLI reads any the lesson check can). */
const MAX_WORKSPACE_BYTES = 140_000_000;

export function registerWorkspaceCommands(program: Command, set: (name: string, action: Action) => void, named: (name: string) => void): Command {
  const workspace = program.command('workspace').description('workspaces: files the GUI saves with the whole session (a pcapng file: tshark reads its log)');
  workspace.hook('preSubcommand', (_thisCommand, sub) => named(`workspace ${sub.name()}`));
  workspace
    .command('show')
    .description('what a workspace holds: its version, log, editor packets, sockets, experiments, lab and lesson')
    .argument('<file>', 'a workspace file')
    .option('--json', 'one JSON object')
    .action((file: string) => set('workspace show', async (out) => showWorkspace(file, out)));
  return workspace;
}

/** Reads and checks a workspace file; CliError (exit 2) naming `flag` and what is wrong. */
export function readWorkspaceArg(file: string, flag: string): { bytes: Buffer; workspace: Workspace; capture: Capture } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new CliError(EXIT_USAGE, `${flag}${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (bytes.length > MAX_WORKSPACE_BYTES) throw new CliError(EXIT_USAGE, `${flag}${file}: larger than ${MAX_WORKSPACE_BYTES / 1e6} MB`);
  try {
    return { bytes, ...parseWorkspace(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) };
  } catch (error) {
    if (error instanceof WorkspaceFileError) throw new CliError(EXIT_USAGE, `${flag}${file}: ${error.message}`);
    throw error;
  }
}

function showWorkspace(file: string, out: Output): number {
  const { workspace: w, capture } = readWorkspaceArg(file, '');
  const saved = Object.keys(w.editor.saved);
  out.text(`workspace ${file}: format v${w.version}, saved ${w.savedAt}`);
  out.text(`log: ${capture.packets.length} packet${capture.packets.length === 1 ? '' : 's'} on ${capture.interfaces.length} interface${capture.interfaces.length === 1 ? '' : 's'}`);
  out.text(`editor: ${w.editor.layers.map((layer) => layer.kind).join(' / ') || 'empty'}; ${saved.length} saved packet${saved.length === 1 ? '' : 's'}${saved.length > 0 ? `: ${saved.join(', ')}` : ''}`);
  out.text(`sockets: ${w.sockets.length === 0 ? 'none' : w.sockets.map((s) => `${s.socketId} ${s.family} ${s.mode} protocol ${s.protocol}${s.filter ? ` filter '${s.filter}'` : ''}${s.host ? ` in ${s.host}` : ''}`).join('; ')}`);
  out.text(`experiments: ${w.experiments.length === 0 ? 'none' : w.experiments.map((r) => `${r.runId} ${r.kind} ${r.target} ${r.state}`).join('; ')}`);
  out.text(`lab: ${w.lab.topology || 'none'}${w.lab.host ? `, acting from ${w.lab.host}` : ''}`);
  out.text(`lesson: ${w.lesson.name ? `${w.lesson.name}, step ${w.lesson.step + 1}` : 'none'}`);
  out.record({
    type: 'workspace',
    file,
    version: w.version,
    savedAt: w.savedAt,
    packets: capture.packets.length,
    editor: { layers: w.editor.layers.length, saved },
    sockets: w.sockets,
    experiments: w.experiments.map((r) => ({ runId: r.runId, kind: r.kind, target: r.target, state: r.state })),
    lab: w.lab,
    lesson: w.lesson,
  });
  return EXIT_OK;
}
