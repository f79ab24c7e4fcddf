// The app frame: header with the panel tabs, the capability banner, the panel, a status bar.
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { CaptureControls, LossStatus } from './components/CaptureControls';
import { LabStatus } from './components/LabStatus';
import { Split } from './components/Split';
import { UndoClearNotice } from './components/UndoClearNotice';
import { WorkspaceControls } from './components/WorkspaceControls';
import { CapabilityBanner } from './panels/CapabilityBanner';
import { ConnectionBanner } from './panels/ConnectionBanner';
import { EditorPanel } from './panels/EditorPanel';
import { ExperimentsPanel } from './panels/ExperimentsPanel';
import { LabPanel } from './panels/LabPanel';
import { LessonPane } from './panels/LessonPane';
import { LogPanel } from './panels/LogPanel';
import { SendPanel } from './panels/SendPanel';
import { SocketsPanel } from './panels/SocketsPanel';
import { useWorkbench } from './store';
import { panelIds, type PanelId, type Theme } from './store/settings';

const panelLabels: Record<PanelId, string> = {
  editor: 'Build & send',
  log: 'Log',
  sockets: 'Sockets',
  experiments: 'Experiments',
  lab: 'Lab',
};

export function App() {
  const panel = useWorkbench((s) => s.settings.panel);
  const showPanel = useWorkbench((s) => s.settings.showPanel);
  const theme = useWorkbench((s) => s.settings.theme);
  const setTheme = useWorkbench((s) => s.settings.setTheme);
  const lessonOpen = useWorkbench((s) => s.lesson.open);
  const setLessonOpen = useWorkbench((s) => s.lesson.setOpen);
  const tabs = useRef<Record<string, HTMLButtonElement | null>>({});

  useEffect(() => {
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);

  // Alt+1..N switch panels from anywhere.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const index = Number(event.key) - 1;
      if (index >= 0 && index < panelIds.length) {
        event.preventDefault();
        showPanel(panelIds[index]);
        tabs.current[panelIds[index]]?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [showPanel]);

  const onTabKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = panelIds.indexOf(panel);
    let next = -1;
    if (event.key === 'ArrowRight') next = (index + 1) % panelIds.length;
    else if (event.key === 'ArrowLeft') next = (index + panelIds.length - 1) % panelIds.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = panelIds.length - 1;
    if (next < 0) return;
    event.preventDefault();
    showPanel(panelIds[next]);
    tabs.current[panelIds[next]]?.focus();
  };

  const workbench = (
    <section role="tabpanel" id={`panel-${panel}`} aria-labelledby={`tab-${panel}`} className="tabpanel">
      {panel === 'editor' && (
        <EditorPanel aside={<SendPanel />} />
      )}
      {panel === 'log' && <LogPanel />}
      {panel === 'sockets' && <SocketsPanel />}
      {panel === 'experiments' && <ExperimentsPanel />}
      {panel === 'lab' && <LabPanel />}
    </section>
  );

  return (
    <div className="app">
      <header className="app-header">
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span> Packet Workbench
        </h1>
        <div role="tablist" aria-label="Panels" className="tabs" onKeyDown={onTabKey}>
          {panelIds.map((id, i) => (
            <button
              key={id}
              ref={(element) => {
                tabs.current[id] = element;
              }}
              role="tab"
              id={`tab-${id}`}
              aria-selected={panel === id}
              aria-controls={`panel-${id}`}
              tabIndex={panel === id ? 0 : -1}
              className="tab"
              onClick={() => showPanel(id)}
              title={`${panelLabels[id]} (Alt+${i + 1})`}
            >
              {panelLabels[id]}
            </button>
          ))}
        </div>
        <div className="header-tools">
          <WorkspaceControls />
          <button type="button" className="lesson-toggle" aria-expanded={lessonOpen} aria-controls={lessonOpen ? 'lesson-pane' : undefined} title="Show or hide the lesson beside the workbench" onClick={() => setLessonOpen(!lessonOpen)}>
            Lesson
          </button>
          <label className="inline">
            <span>Theme</span>
            <select aria-label="Theme" value={theme} onChange={(event) => setTheme(event.target.value as Theme)}>
              <option value="system">System</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
        </div>
      </header>
      <ConnectionBanner />
      <CapabilityBanner />
      <UndoClearNotice />
      <main className="app-main">
        {lessonOpen ? (
          // The lesson stays beside whichever panel the student works in.
          <Split id="lesson" direction="row" label="Resize workbench and lesson panes" initial={0.74} minFirst={560} minSecond={260} className="lesson-split" first={workbench} second={<LessonPane />} />
        ) : (
          workbench
        )}
      </main>
      <StatusBar />
    </div>
  );
}

export function StatusBar() {
  // Packets, not table rows: a "rows not shown (flood)" marker is said separately.
  const shown = useWorkbench((s) => (void s.log.version, s.log.buffer.packetsShown));
  const total = useWorkbench((s) => (void s.log.version, s.log.buffer.packetsKept));
  const notShown = useWorkbench((s) => (void s.log.version, s.log.buffer.notShown));
  const capacity = useWorkbench((s) => s.log.buffer.capacity);
  const open = useWorkbench((s) => s.sockets.list.filter((socket) => !socket.closed).length);
  const running = useWorkbench((s) => s.send.jobs.filter((job) => job.state === 'running').length);
  const paused = useWorkbench((s) => s.log.paused);
  const loaded = useWorkbench((s) => s.log.loaded);
  const connection = useWorkbench((s) => s.settings.connection);
  const logWords =
    `${loaded ? '' : 'reading the log… '}Log: ${shown.toLocaleString()} shown / ${total.toLocaleString()} kept (ring of ${capacity.toLocaleString()})` +
    `${notShown > 0 ? ` · ${notShown.toLocaleString()} ${notShown === 1 ? 'row' : 'rows'} not shown (flood)` : ''}${paused ? ' · paused' : ''}`;
  return (
    <footer className="status-bar" aria-label="Status">
      {/* At 1024 px the bar stays one line: this part may end in an ellipsis, its whole text in the title. */}
      <span className="status-fit" title={logWords.replace('Log:', 'Packets in the log:')}>
        {logWords}
      </span>
      <span className={connection === 'open' ? '' : 'bad'}>{connection === 'open' ? 'Connected' : connection === 'connecting' ? 'Reconnecting…' : 'Disconnected'}</span>
      <LossStatus />
      <CaptureControls />
      <LabStatus />
      <span title="Sockets open">Sockets: {open}</span>
      <span title="Send jobs running">Send jobs: {running}</span>
      <span className="status-hint">Alt+1–{panelIds.length} panels · Tab moves between controls</span>
    </footer>
  );
}
