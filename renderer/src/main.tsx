// Connects to the workbench (bridge or WebSocket), builds the store, and renders the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectWorkbench, errorText } from './api/client';
import { animationFrame, pumpEvents } from './api/events';
import { App } from './App';
import { saveFile } from './model/download';
import { createWorkbenchStore, WorkbenchProvider } from './store';
import './styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

async function start(): Promise<void> {
  const { client, connection } = await connectWorkbench();
  const store = createWorkbenchStore({ client, connection, storage: safeStorage(), saveFile, nextFrame: animationFrame });
  connection?.onStateChange((state) => store.getState().settings.setConnection(state, connection.reason));
  pumpEvents((listener) => client.onEvents(listener), store, animationFrame);
  const state = store.getState();
  void state.settings.loadCapabilities();
  void state.sockets.load();
  void state.send.loadJobs();
  void state.experiments.load();
  void state.log.loadFromEngine();
  // Benchmarks and tests read the store from outside; nothing in the app uses this.
  (window as unknown as { __workbench?: unknown }).__workbench = store;
  root.render(
    <StrictMode>
      <WorkbenchProvider store={store}>
        <App />
      </WorkbenchProvider>
    </StrictMode>,
  );
}

start().catch((error: unknown) => {
  root.render(
    <main className="fatal" role="alert">
      <h1>Packet Workbench cannot start</h1>
      <p>{errorText(error)}</p>
    </main>,
  );
});
