// The combined store's shape, and the slice creator type every slice file uses.
import type { StateCreator } from 'zustand';
import type { WorkbenchClient } from '../api/client';
import type { Connection } from '../api/connection';
import type { CaptureSlice } from './capture';
import type { EditorSlice } from './editor';
import type { ExperimentsSlice } from './experiments';
import type { HelperSlice } from './helper';
import type { LabSlice } from './lab';
import type { LessonSlice } from './lesson';
import type { LogSlice } from './log';
import type { SendSlice } from './send';
import type { SettingsSlice } from './settings';
import type { SocketsSlice } from './sockets';
import type { WorkspaceSlice } from './workspace';

export type WorkbenchState = EditorSlice & SendSlice & LogSlice & SocketsSlice & ExperimentsSlice & SettingsSlice & HelperSlice & CaptureSlice & LabSlice & LessonSlice & WorkspaceSlice;

/** What slices get besides set/get: the client, and browser services tests can replace. */
export interface StoreServices {
  client: WorkbenchClient;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** Saves a file the user asked for (a download in a browser). */
  saveFile(name: string, type: string, data: Uint8Array | string): void;
  /** At most one call per frame: requestAnimationFrame in a page. */
  nextFrame(callback: () => void): void;
  /** The WebSocket connection when there is one (browser host); absent over the Electron bridge. */
  connection?: Pick<Connection, 'state' | 'reason' | 'reconnect'>;
}

export type Slice<T> = StateCreator<WorkbenchState, [], [], T>;
export type SliceFactory<T> = (services: StoreServices) => Slice<T>;
