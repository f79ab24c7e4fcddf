// What works now, per experiment, from the engine's capabilities: a summary line (what works
// and how, what needs raw sockets), the socket helper's state with its one action, and
// details on request (each experiment's way and remedy, the facts they come from).
// While disconnected it claims nothing: the connection banner above says what happened.
import { useId, useState } from 'react';
import { experimentsOf, summarize, viaWords } from '../model/capabilities';
import { HelperControl, RemedyText, useRawAccess } from '../components/RawAccess';
import { useWorkbench } from '../store';

export function CapabilityBanner() {
  const { capabilities, helper, online } = useRawAccess();
  const error = useWorkbench((s) => s.settings.capabilitiesError);
  const [open, setOpen] = useState(false);
  const detailsId = useId();
  if (!online) return null;
  if (error) {
    return (
      <div className="banner banner-error" role="alert" aria-label="Capabilities">
        <strong>Cannot read capabilities:</strong> {error}
      </div>
    );
  }
  if (!capabilities) return null;
  const summary = summarize(capabilities, helper);
  const { platform, uid, raw, datagram, pingGroupRange } = capabilities;
  // The helper matters whenever this process has no raw sockets of its own.
  const showHelper = !raw && helper !== null;
  return (
    <section className={`banner banner-${summary.level} capability-banner`} role={summary.level === 'error' ? 'alert' : 'status'} aria-label="Capabilities">
      <div className="banner-line">
        <span className="banner-summary">{summary.text}</span>
        {summary.missing.length > 0 && (
          <span className="banner-works">
            {summary.byVia.length > 0 && (
              <span>
                Works now:{' '}
                {summary.byVia.map((group, i) => (
                  <span key={group.via}>
                    {i > 0 ? '; ' : ''}
                    <strong>{group.labels.join(', ')}</strong> via {viaWords(group.via)}
                  </span>
                ))}
                .
              </span>
            )}{' '}
            <span>
              Needs raw sockets: <strong>{summary.missing.map((entry) => entry.label).join(', ')}</strong>.
            </span>
          </span>
        )}
        {showHelper && <HelperControl primary />}
        <button type="button" className="banner-toggle" aria-expanded={open} aria-controls={detailsId} onClick={() => setOpen(!open)}>
          {open ? 'Hide details' : 'Details'}
        </button>
      </div>
      {open && (
        <div className="banner-details" id={detailsId}>
          <table className="grid-table capability-table" aria-label="What works now">
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Works now</th>
                <th scope="col">How</th>
                <th scope="col">Remedy</th>
              </tr>
            </thead>
            <tbody>
              {experimentsOf(capabilities).map((entry) => (
                <tr key={entry.experiment}>
                  <th scope="row">{entry.label}</th>
                  <td className={entry.works ? 'ok-text' : 'bad'}>{entry.works ? 'yes' : 'no'}</td>
                  <td>{entry.via ? viaWords(entry.via) : '—'}</td>
                  <td className="remedy-cell">{entry.remedy ? <RemedyText text={entry.remedy} /> : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="banner-facts">
            {platform}
            {uid !== null ? ` · uid ${uid}` : ''} · own raw sockets {raw ? 'yes' : 'no'} · ping sockets IPv4 {datagram.ipv4 ? 'yes' : 'no'}, IPv6{' '}
            {datagram.ipv6 ? 'yes' : 'no'}
            {pingGroupRange ? ` · ping_group_range ${pingGroupRange[0]}–${pingGroupRange[1]}` : ''}
            {helper
              ? ` · socket helper ${helper.path ? `at ${helper.path}` : 'not found'}; launchers: ${
                  [helper.launchers.installed && 'installed', helper.launchers.pkexec && 'pkexec', helper.launchers.sudo && 'sudo'].filter(Boolean).join(', ') || 'none'
                }`
              : ''}
          </p>
        </div>
      )}
    </section>
  );
}
