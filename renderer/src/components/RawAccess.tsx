// Raw sockets where a panel needs them: what the store knows about them now, the one
// "Allow raw sockets" action (it starts the socket helper), the helper's state in words,
// and the in-place note a panel shows before something that cannot work now.
import type { Capabilities, HelperStatus } from '../../../common/contract';
import { canAllowRaw, rawAvailable, shellCommand } from '../model/capabilities';
import { useWorkbench } from '../store';

export interface RawAccess {
  /** The capabilities while connected; null while disconnected (nothing is claimed then) or before they are read. */
  capabilities: Capabilities | null;
  helper: HelperStatus | null;
  online: boolean;
  raw: boolean;
  canAllow: boolean;
}

export function useRawAccess(): RawAccess {
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const stored = useWorkbench((s) => s.settings.capabilities);
  const helper = useWorkbench((s) => s.helper.status);
  const capabilities = online ? stored : null;
  return {
    capabilities,
    helper,
    online,
    raw: capabilities ? rawAvailable(capabilities, helper) : false,
    canAllow: capabilities ? canAllowRaw(capabilities, helper) : false,
  };
}

const launcherWords = (helper: HelperStatus | null) => (helper?.via === 'pkexec' || helper?.via === 'sudo' ? helper.via : 'pkexec/sudo');

/** The one action that gets raw sockets: starts the socket helper (installed, else elevated). */
export function AllowRawButton({ primary = false }: { primary?: boolean }) {
  const start = useWorkbench((s) => s.helper.start);
  const pending = useWorkbench((s) => s.helper.pending);
  const helper = useWorkbench((s) => s.helper.status);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const asking = pending === 'start' || helper?.state === 'asking';
  return (
    <button
      type="button"
      className={primary ? 'primary' : undefined}
      disabled={!online || asking || pending !== null}
      title="Starts the socket helper: an installed helper never asks; otherwise pkexec or sudo asks for an administrator password"
      onClick={() => void start('auto')}
    >
      Allow raw sockets
    </button>
  );
}

/** The helper's state in words, with its pid, launcher, kept capabilities, reason and command. */
export function HelperState({ helper, pending }: { helper: HelperStatus | null; pending: 'start' | 'stop' | null }) {
  if (pending === 'start' && (!helper || helper.state !== 'asking')) {
    return (
      <span className="helper-state">
        Socket helper: <strong className="warn-text">starting…</strong>
      </span>
    );
  }
  if (!helper) return null;
  const command = helper.command && helper.command.length > 0 ? shellCommand(helper.command) : null;
  switch (helper.state) {
    case 'not-started':
      return (
        <span className="helper-state">
          Socket helper: <strong>not started</strong>
          {helper.reason ? <span className="muted"> · {helper.reason}</span> : null}
        </span>
      );
    case 'asking':
      return (
        <span className="helper-state">
          Socket helper: <strong className="warn-text">asking</strong> · Waiting for {launcherWords(helper)}…
          {command && (
            <>
              {' '}
              <code className="command" aria-label="Command">
                {command}
              </code>
            </>
          )}
        </span>
      );
    case 'running':
      return (
        <span className="helper-state">
          Socket helper: <strong className="ok-text">running</strong>
          {helper.pid !== null ? ` · pid ${helper.pid}` : ''}
          {helper.via ? ` · via ${helper.via === 'capability' ? 'its file capability' : helper.via}` : ''}
          {helper.capabilities.length > 0 ? ` · keeps ${helper.capabilities.join(', ')}` : ''}
        </span>
      );
    case 'refused':
    case 'failed':
      return (
        <span className="helper-state">
          Socket helper: <strong className="bad">{helper.state}</strong>
          {helper.reason ? ` · ${helper.reason}` : ''}
          {command && (
            <>
              {' · '}
              {helper.state === 'failed' ? 'To run by hand: ' : 'Command: '}
              <code className="command" aria-label={helper.state === 'failed' ? 'Command to run by hand' : 'Command'}>
                {command}
              </code>
            </>
          )}
        </span>
      );
    case 'stopped':
      return (
        <span className="helper-state">
          Socket helper: <strong>stopped</strong>
          {helper.reason && helper.reason !== 'Stopped' ? ` · ${helper.reason}` : ''}
        </span>
      );
    default:
      return null;
  }
}

/** The helper's state and its one action (Allow raw sockets, or Stop helper while it runs). */
export function HelperControl({ primary = false }: { primary?: boolean }) {
  const helper = useWorkbench((s) => s.helper.status);
  const pending = useWorkbench((s) => s.helper.pending);
  const error = useWorkbench((s) => s.helper.error);
  const stop = useWorkbench((s) => s.helper.stop);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const running = helper?.state === 'running';
  return (
    <span role="group" aria-label="Socket helper" className="helper-control">
      {running ? (
        <button type="button" disabled={!online || pending !== null} onClick={() => void stop()}>
          {pending === 'stop' ? 'Stopping…' : 'Stop helper'}
        </button>
      ) : (
        <AllowRawButton primary={primary} />
      )}
      <HelperState helper={helper} pending={pending} />
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** A remedy as the engine words it: `commands` between backticks shown as code. */
export function RemedyText({ text }: { text: string }) {
  const parts = text.split('`');
  // An odd count of backticks leaves the last part unpaired: shown as text.
  return (
    <>
      {parts.map((part, i) =>
        i % 2 === 1 && i < parts.length - 1 ? (
          <code key={i} className="command">
            {part}
          </code>
        ) : (
          <span key={i}>{i % 2 === 1 ? `\`${part}` : part}</span>
        ),
      )}
    </>
  );
}

/**
 * Said in place, before the action that cannot work now: what is missing, the remedy, and the
 * "Allow raw sockets" action when raw sockets would help.
 */
export function RawNeededNote({ id, what, remedy, offerHelper = true }: { id?: string; what: string; remedy: string | null; offerHelper?: boolean }) {
  const { canAllow } = useRawAccess();
  const helper = useWorkbench((s) => s.helper.status);
  const pending = useWorkbench((s) => s.helper.pending);
  return (
    <div className="raw-note" role="note" aria-label="Not available now" id={id}>
      <span className="raw-note-what">
        <span aria-hidden="true">⚠ </span>
        {what}
      </span>
      {remedy && (
        <span className="remedy">
          Remedy: <RemedyText text={remedy} />
        </span>
      )}
      {offerHelper && canAllow && (
        <span className="inline">
          <AllowRawButton />
          {/* Beside the button that started it: asking, failed or refused (not started says nothing new). */}
          {(pending || (helper && helper.state !== 'not-started')) && <HelperState helper={helper} pending={pending} />}
        </span>
      )}
    </div>
  );
}
