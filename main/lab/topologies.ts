// The shipped topologies (topologies/*.json, copied beside the built code by
// build:main) and loading a topology by shipped name or by file path.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTopology, TopologyError, type Topology } from './topology';

export const SHIPPED_TOPOLOGIES_DIR = path.join(__dirname, 'topologies');

export interface ShippedTopology {
  name: string;
  description: string;
  file: string;
}

/** Every shipped topology, checked (a broken shipped file is a bug: it throws). */
export function shippedTopologies(): ShippedTopology[] {
  if (!existsSync(SHIPPED_TOPOLOGIES_DIR)) return [];
  return readdirSync(SHIPPED_TOPOLOGIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const full = path.join(SHIPPED_TOPOLOGIES_DIR, file);
      const topology = parseTopology(readFileSync(full, 'utf8'), full);
      return { name: topology.name, description: topology.description ?? '', file: full };
    });
}

/**
 * A shipped topology by name ("diamond") or a file ("./my-lab.json"; anything with a
 * slash or ending in .json is a file). Throws TopologyError naming what is wrong.
 */
export function loadTopology(nameOrFile: string): Topology {
  const isFile = nameOrFile.includes('/') || nameOrFile.endsWith('.json');
  if (!isFile) {
    const shipped = shippedTopologies();
    const match = shipped.find((t) => t.name === nameOrFile);
    if (!match) throw new TopologyError(nameOrFile, [{ path: '', message: `no shipped topology of that name (shipped: ${shipped.map((t) => t.name).join(', ')}; a file needs a / or .json)` }]);
    return parseTopology(readFileSync(match.file, 'utf8'), match.file);
  }
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch (error) {
    throw new TopologyError(nameOrFile, [{ path: '', message: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  return parseTopology(text, nameOrFile);
}
