// Pieces every experiment view shares: labelled form fields, the form's and the run's
// errors, the resolved-name note, a statistic, and how a run got its sockets.
import type { ExperimentRun } from '../../../common/contract';
import { viaWords } from '../model/capabilities';
import type { ExperimentError } from '../store/experiments';
import { RemedyText } from './RawAccess';

/**
 * How a run got its sockets, in words: 'via error queue (no privileges)', with the lab host it acted from
 * ('via raw socket from client'). Engines before the helper sent only the mode.
 */
export function runVia(run: ExperimentRun): string {
  return `via ${viaWords(run.via ?? run.mode)}${run.host ? ` from ${run.host}` : ''}`;
}

/** A failed run's reason, where the run is shown. */
export function RunError({ run }: { run: ExperimentRun }) {
  if (run.state !== 'failed' || !run.error) return null;
  return (
    <div className="field-error run-error" role="alert" aria-label={`Why ${run.runId} failed`}>
      <strong>{run.error.code}: </strong>
      {run.error.message}
    </div>
  );
}

export function FormError({ error }: { error: ExperimentError | null }) {
  if (!error) return null;
  const fields = error.fields ? Object.values(error.fields) : [];
  return (
    <div className="field-error" role="alert">
      {error.code ? <strong>{error.code}: </strong> : null}
      {fields.length > 1 ? (
        <ul aria-label="Fields to fix">
          {fields.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : (
        error.message
      )}
      {error.remedy && (
        <div className="remedy">
          Remedy: <RemedyText text={error.remedy} />
        </div>
      )}
    </div>
  );
}

/** "localhost is 127.0.0.1": the address a typed host name was sent to. */
export function ResolvedNote({ text }: { text: string | null }) {
  return text ? (
    <p className="muted" role="status" aria-label="Resolved target">
      {text}
    </p>
  ) : null;
}

export function Field({ label, value, onChange, invalid, width = 'narrow', unit }: { label: string; value: string; onChange(value: string): void; invalid?: boolean; width?: string; unit?: string }) {
  return (
    <label className="inline">
      <span>{label}</span>
      <input aria-label={label} className={width} value={value} spellCheck={false} aria-invalid={invalid || undefined} onChange={(event) => onChange(event.target.value)} />
      {unit && <span className="unit">{unit}</span>}
    </label>
  );
}

export function Stat({ name, value }: { name: string; value: string }) {
  return (
    <div className="stat">
      <dt>{name}</dt>
      <dd aria-label={name}>{value}</dd>
    </div>
  );
}

