// What survives a reload: small JSON values in localStorage, each under a versioned
// envelope, so a format change or a hand-edited value is ignored instead of breaking the app.
import { layerKinds } from '../../../packets';
import type { DraftLayer } from '../model/draft';

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'> | null;

/** Bump when a stored shape changes: older values are then ignored. */
export const PERSIST_VERSION = 1;

export function readPersisted<T>(storage: Storage, key: string, check: (value: unknown) => value is T): T | undefined {
  try {
    const envelope: unknown = JSON.parse(storage?.getItem(key) ?? 'null');
    if (!envelope || typeof envelope !== 'object') return undefined;
    const { v, data } = envelope as { v?: unknown; data?: unknown };
    return v === PERSIST_VERSION && check(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

export function writePersisted(storage: Storage, key: string, data: unknown): void {
  try {
    storage?.setItem(key, JSON.stringify({ v: PERSIST_VERSION, data }));
  } catch {
    // Storage full or refused: the value lives for this session only.
  }
}

/** Split positions by split id: fractions of the container given to the first pane. */
export function isSplitSizes(value: unknown): value is Record<string, number> {
  return isRecordOf(value, (v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1) && Object.keys(value as object).length <= 32;
}

const isRecordOf = (value: unknown, item: (entry: unknown) => boolean): boolean =>
  !!value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(item);

/** A layer stack as the editor keeps it; anything else (old format, hand-edited) is refused. */
export function isDraftLayers(value: unknown): value is DraftLayer[] {
  return (
    Array.isArray(value) &&
    value.length <= 16 &&
    value.every((layer: unknown) => {
      if (!layer || typeof layer !== 'object') return false;
      const { id, kind } = layer as { id?: unknown; kind?: unknown };
      if (typeof id !== 'string' || typeof kind !== 'string') return false;
      if (kind === 'payload') {
        const { mode, text } = layer as { mode?: unknown; text?: unknown };
        return (mode === 'text' || mode === 'hex') && typeof text === 'string';
      }
      const { values, manual } = layer as { values?: unknown; manual?: unknown };
      return Object.hasOwn(layerKinds, kind) && isRecordOf(values, (v) => typeof v === 'string') && isRecordOf(manual, (v) => typeof v === 'boolean');
    })
  );
}
