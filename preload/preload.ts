// The sandboxed preload: exposes window.workbench and nothing else. A sandboxed
// preload may require only 'electron' (and a few built-ins), so this file is built
// into one bundle (preload/vite.config.mts) with the contract inlined.
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge';

contextBridge.exposeInMainWorld('workbench', createBridge(ipcRenderer));
