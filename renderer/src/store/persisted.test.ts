import { describe, expect, it } from 'vitest';
import { createWorkbenchStore } from './index';
import type { WorkbenchClient } from '../api/client';
import { isDraftLayers, readPersisted, writePersisted } from './persisted';

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
});
