// One store, made of slices; each slice keeps its actions beside its state.
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { useStore, type StoreApi } from 'zustand';
import { createStore } from 'zustand/vanilla';
import { createCaptureSlice } from './capture';
import { createEditorSlice } from './editor';
import { createExperimentsSlice } from './experiments';
import { createHelperSlice } from './helper';
import { createLabSlice } from './lab';
import { createLessonSlice } from './lesson';
import { createLogSlice } from './log';
import { createSendSlice } from './send';
import { createSettingsSlice } from './settings';
import { createSocketsSlice } from './sockets';
import { createWorkspaceSlice } from './workspace';
import type { StoreServices, WorkbenchState } from './types';

export type { StoreServices, WorkbenchState };
export type WorkbenchStore = StoreApi<WorkbenchState>;

export function createWorkbenchStore(services: StoreServices): WorkbenchStore {
  return createStore<WorkbenchState>()((...a) => ({
    ...createSettingsSlice(services)(...a),
    ...createEditorSlice(services)(...a),
    ...createSendSlice(services)(...a),
    ...createLogSlice(services)(...a),
    ...createSocketsSlice(services)(...a),
    ...createExperimentsSlice(services)(...a),
    ...createHelperSlice(services)(...a),
    ...createCaptureSlice(services)(...a),
    ...createLabSlice(services)(...a),
    ...createLessonSlice(services)(...a),
    ...createWorkspaceSlice(services)(...a),
  }));
}

const StoreContext = createContext<WorkbenchStore | null>(null);

export function WorkbenchProvider({ store, children }: { store: WorkbenchStore; children: ReactNode }) {
  return createElement(StoreContext.Provider, { value: store }, children);
}

export function useWorkbenchStore(): WorkbenchStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useWorkbench outside <WorkbenchProvider>');
  return store;
}

export function useWorkbench<T>(selector: (state: WorkbenchState) => T): T {
  return useStore(useWorkbenchStore(), selector);
}
