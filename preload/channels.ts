// IPC channel names and the handlers' answer, shared by main/electron/ipc.ts and the
// preload. Kept free of imports with runtime effects: the preload bundle includes it.
import type { SerializedError } from '../common/validate';

/** Channel of a contract method. */
export const methodChannel = (name: string): string => `workbench:${name}`;
/** The one channel event batches travel on, main to renderer. */
export const EVENTS_CHANNEL = 'workbench:events';

/** What a handler answers: an error crossing IPC would keep only its message. */
export type IpcOutcome = { ok: true; result: unknown } | { ok: false; error: SerializedError };
