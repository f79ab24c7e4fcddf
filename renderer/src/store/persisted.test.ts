import { describe, expect, it } from 'vitest';
import { createWorkbenchStore } from './index';
import type { WorkbenchClient } from '../api/client';
import { isDraftLayers, isSplitSizes, readPersisted, writePersisted } from './persisted';

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value), items };
}
const client = { onEvents: () => () => {} } as unknown as WorkbenchClient;
const storeOn = (storage: ReturnType<typeof memoryStorage>) => createWorkbenchStore({ client, storage, saveFile: () => {}, nextFrame: (callback) => callback() });

describe('persisted values', () => {
  it('reads back what was written, under its version only', () => {
    const storage = memoryStorage();
    writePersisted(storage, 'k', ['a']);
    expect(readPersisted(storage, 'k', (v): v is string[] => Array.isArray(v))).toEqual(['a']);
    storage.setItem('k', JSON.stringify({ v: 0, data: ['a'] }));
    expect(readPersisted(storage, 'k', (v): v is string[] => Array.isArray(v))).toBeUndefined();
    storage.setItem('k', '{not json');
    expect(readPersisted(storage, 'k', (v): v is string[] => Array.isArray(v))).toBeUndefined();
  });

  it('refuses layer stacks that are not the editor\'s', () => {
    expect(isDraftLayers([{ id: 'l1', kind: 'ipv4', values: { ttl: '9' }, manual: {} }, { id: 'l2', kind: 'payload', mode: 'hex', text: 'de ad' }])).toBe(true);
    expect(isDraftLayers([{ id: 'l1', kind: 'nonsense', values: {}, manual: {} }])).toBe(false);
    expect(isDraftLayers([{ id: 'l1', kind: 'ipv4', values: { ttl: 9 }, manual: {} }])).toBe(false);
    expect(isDraftLayers({})).toBe(false);
  });

  it('the editor stack and the panel on screen survive a new store; bad stored data is ignored', () => {
    const storage = memoryStorage();
    const first = storeOn(storage);
    const ip = first.getState().editor.layers[0];
    first.getState().editor.setField(ip.id, 'ttl', '7');
    first.getState().settings.showPanel('experiments');

    const second = storeOn(storage).getState();
    expect(second.settings.panel).toBe('experiments');
    expect(second.editor.layers.map((layer) => layer.kind)).toEqual(first.getState().editor.layers.map((layer) => layer.kind));
    expect((second.editor.layers[0] as { values: Record<string, string> }).values.ttl).toBe('7');

    storage.setItem('workbench.editor.draft', JSON.stringify({ v: 1, data: [{ kind: 'ipv4' }] }));
    storage.setItem('workbench.panel', JSON.stringify({ v: 1, data: 'nowhere' }));
    const third = storeOn(storage).getState();
    expect(third.settings.panel).toBe('editor');
    expect(third.editor.layers.length).toBeGreaterThan(0);
  });

  it('split positions survive a new store, a reset forgets one, bad values are ignored', () => {
    const storage = memoryStorage();
    const first = storeOn(storage).getState();
    expect(first.settings.splits).toEqual({});
    first.settings.setSplit('editor', 0.4);
    first.settings.setSplit('log', 2); // out of range: kept inside the window
    expect(storeOn(storage).getState().settings.splits).toEqual({ editor: 0.4, log: 0.95 });

    storeOn(storage).getState().settings.setSplit('editor', null);
    expect(storeOn(storage).getState().settings.splits).toEqual({ log: 0.95 });

    expect(isSplitSizes({ editor: 0.5 })).toBe(true);
    expect(isSplitSizes({ editor: '0.5' })).toBe(false);
    expect(isSplitSizes({ editor: 1.5 })).toBe(false);
    expect(isSplitSizes([0.5])).toBe(false);
    storage.setItem('workbench.splits', JSON.stringify({ v: 1, data: { editor: Number.NaN } }));
    expect(storeOn(storage).getState().settings.splits).toEqual({});
  });
});
