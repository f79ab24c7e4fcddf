// The engine as the hosts (Electron window, browser host) start it.
import { Workbench, type WorkbenchOptions } from '../engine';
import type { EngineLike } from '../engine/dispatch';

export type ClosableEngine = EngineLike & { close(): Promise<void> };

export async function createEngine(options: WorkbenchOptions = {}): Promise<ClosableEngine> {
  return new Workbench(options);
}
