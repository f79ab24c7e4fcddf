// Fuzz inputs and properties for the file readers: pcapng and pcap captures, workspace files,
// lessons and topologies. Each reader may refuse its input, but only with its own typed
// error (or, for captures, an Error that says what the file is not), never a crash.

import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseLesson, LessonError } from '../../main/lessons/lesson';
import { parseTopology, TopologyError, type Topology } from '../../main/lab/topology';
import { readCapture, writePcapng, type Capture, type PacketToWrite } from '../pcapng';
import { readWorkspaceFile, WorkspaceEncoder, WorkspaceFileError } from '../workspace-file';
import { FuzzFailure, hex, sameBytes, somePacket } from './packets';
import { mutate, type Random } from './random';

function fail(message: string): never {
  throw new FuzzFailure(message);
}

function randomPackets(random: Random): PacketToWrite[] {
  return Array.from({ length: random.int(5) }, () => {
    const data = random.chance(0.9) ? somePacket(random) : random.bytes(random.int(64));
    return {
      data,
      timestampNs: BigInt(random.next()) * 1_000_000_000n + BigInt(random.int(1_000_000_000)),
      ...(random.chance(0.3) ? { comment: random.pick(['', 'sent', 'é ✓', 'x'.repeat(random.int(9))]) } : {}),
      ...(random.chance(0.3) ? { direction: random.pick(['inbound', 'outbound'] as const) } : {}),
    };
  });
}

/** A pcapng or classic pcap file, as written, truncated, mutated or random. */
export function captureInput(random: Random): Uint8Array {
  const packets = randomPackets(random);
  const file = random.chance(0.75) ? writePcapng(packets, { linkType: random.pick([101, 1, 0, 228]) }) : pcapOf(packets, random.chance(0.5));
  switch (random.int(4)) {
    case 0:
      return file;
    case 1:
      return file.slice(0, random.int(file.length + 1));
    case 2:
      return mutate(random, file, random.between(1, 8));
    default:
      return random.bytes(random.int(64));
  }
}

/** Classic pcap in either byte order (the library writes big-endian only). */
function pcapOf(packets: readonly PacketToWrite[], littleEndian: boolean): Uint8Array {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, littleEndian);
  view.setUint16(4, 2, littleEndian);
  view.setUint16(6, 4, littleEndian);
  view.setUint32(16, 65535, littleEndian);
  view.setUint32(20, 101, littleEndian);
  let offset = 24;
  for (const packet of packets) {
    view.setUint32(offset, Number(packet.timestampNs / 1_000_000_000n), littleEndian);
    view.setUint32(offset + 4, Number((packet.timestampNs % 1_000_000_000n) / 1000n), littleEndian);
    view.setUint32(offset + 8, packet.data.length, littleEndian);
    view.setUint32(offset + 12, packet.data.length, littleEndian);
    out.set(packet.data, offset + 16);
    offset += 16 + packet.data.length;
  }
  return out;
}

/** readCapture refuses with "Not a ..." or reads packets that lie inside the file and survive a write and read back. */
export function checkCapture(bytes: Uint8Array): void {
  let capture: Capture;
  try {
    capture = readCapture(bytes);
  } catch (error) {
    if (error instanceof Error && error.constructor === Error && /^Not a /.test(error.message)) return;
    fail(`readCapture threw ${(error as Error).name}: ${(error as Error).stack}`);
  }
  let total = 0;
  for (const packet of capture.packets) {
    total += packet.data.length;
    if (packet.interfaceId < 0 || (capture.format === 'pcapng' && packet.interfaceId >= capture.interfaces.length + 2 ** 32)) fail('bad interface id');
  }
  if (total > bytes.length) fail(`${total} bytes of packets read from a ${bytes.length}-byte file`);
  if (capture.problems.length > 0 || capture.format !== 'pcapng') return;
  // A clean pcapng file read, written and read again gives the same packets.
  const again = readCapture(writePcapng(capture.packets.map((p) => ({ data: p.data, timestampNs: p.timestampNs, ...(p.comment !== undefined ? { comment: p.comment } : {}), ...(p.direction ? { direction: p.direction } : {}), originalLength: p.originalLength }))));
  if (again.packets.length !== capture.packets.length) fail(`re-read ${again.packets.length} packets, first read ${capture.packets.length}`);
  capture.packets.forEach((packet, i) => {
    const other = again.packets[i];
    if (!sameBytes(packet.data, other.data)) fail(`packet ${i} differs after write and read: ${hex(packet.data)} vs ${hex(other.data)}`);
    // Timestamps survive only in the writer's resolution (ns); a read of a coarser file is already whole ns.
    if (packet.timestampNs >= 0n && packet.timestampNs < 2n ** 64n && packet.timestampNs !== other.timestampNs) fail(`packet ${i} timestamp ${packet.timestampNs} came back ${other.timestampNs}`);
  });
}

/** A workspace file (capture plus JSON block), as written or damaged. */
export function workspaceInput(random: Random): Uint8Array {
  const encoder = new WorkspaceEncoder(JSON.stringify({ version: 1, note: random.bytes(random.int(20)).join(',') }));
  encoder.addInterface({});
  for (const packet of randomPackets(random)) encoder.addPacket(packet);
  const file = encoder.take();
  return random.chance(0.2) ? file : random.chance(0.5) ? file.slice(0, random.int(file.length + 1)) : mutate(random, file, random.between(1, 6));
}

export function checkWorkspace(bytes: Uint8Array): void {
  try {
    readWorkspaceFile(bytes);
  } catch (error) {
    if (!(error instanceof WorkspaceFileError)) fail(`readWorkspaceFile threw ${(error as Error).name}: ${(error as Error).stack}`);
  }
}

const here = path.join(__dirname, '..', '..', 'main');
const topologiesDir = path.join(here, 'lab', 'topologies');
const lessonsDir = path.join(here, 'lessons', 'shipped');
const jsonFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => readFileSync(path.join(dir, f), 'utf8'));
let shipped: { topologies: string[]; lessons: string[] } | undefined;
const shippedTexts = () => (shipped ??= { topologies: jsonFiles(topologiesDir), lessons: jsonFiles(lessonsDir) });
const topologyCache = new Map<string, Topology>();
function topologyOf(name: string): Topology {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`no topology '${name}'`);
  let topology = topologyCache.get(name);
  if (!topology) topologyCache.set(name, (topology = parseTopology(readFileSync(path.join(topologiesDir, `${name}.json`), 'utf8'), name)));
  return topology;
}

function randomJson(random: Random, depth = 0): unknown {
  switch (random.int(depth > 2 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 1e308, 65536, 2 ** 53, random.int(100000)]);
    case 3:
      return random.pick(['', 'line', '198.18.0.1', 'fd42::1/64', 'ä', '\u0000', 'x'.repeat(random.int(300))]);
    case 4:
      return random.pick(['a', 'b', 'client', 'router']);
    case 5:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: random.int(4) }, () => [random.pick(['name', 'hosts', 'links', 'steps', 'checks', 'match', 'topology', 'ends', 'mtu', 'z']), randomJson(random, depth + 1)]));
  }
}

/** Replaces, deletes or adds one value somewhere inside a parsed JSON document. */
function mutateJson(random: Random, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || random.chance(0.15)) return randomJson(random);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || random.chance(0.1)) {
    (copy as Record<string, unknown>)[Array.isArray(copy) ? String(copy.length) : 'extra'] = randomJson(random);
    return copy;
  }
  const key = random.pick(keys);
  if (random.chance(0.1)) delete (copy as Record<string, unknown>)[key];
  else (copy as Record<string, unknown>)[key] = mutateJson(random, (copy as Record<string, unknown>)[key]);
  return copy;
}

/** A shipped lesson or topology with its structure or its text damaged. */
function documentInput(random: Random, texts: readonly string[]): string {
  const text = random.pick(texts);
  if (random.chance(0.3)) return new TextDecoder().decode(mutate(random, new TextEncoder().encode(text), random.between(1, 3)));
  let json: unknown = JSON.parse(text);
  for (let n = random.between(1, 3); n > 0; n--) json = mutateJson(random, json);
  return JSON.stringify(json, null, random.pick([0, 2]));
}

export const lessonInput = (random: Random) => documentInput(random, shippedTexts().lessons);
export const topologyInput = (random: Random) => documentInput(random, shippedTexts().topologies);

export function checkLesson(text: string): void {
  try {
    parseLesson(text, topologyOf, 'fuzz.json');
  } catch (error) {
    if (!(error instanceof LessonError)) fail(`parseLesson threw ${(error as Error).name}: ${(error as Error).stack}`);
  }
}

export function checkTopology(text: string): void {
  try {
    parseTopology(text, 'fuzz.json');
  } catch (error) {
    if (!(error instanceof TopologyError)) fail(`parseTopology threw ${(error as Error).name}: ${(error as Error).stack}`);
  }
}
