// What this process may do, from the contract's capabilities, and the exact remedy when something is missing.
import { useWorkbench } from '../store';

export function CapabilityBanner() {
  const capabilities = useWorkbench((s) => s.settings.capabilities);
  const error = useWorkbench((s) => s.settings.capabilitiesError);
  if (error) {
    return (
      <div className="banner banner-error" role="alert" aria-label="Capabilities">
        <strong>Cannot read capabilities:</strong> {error}
      </div>
    );
  }
  if (!capabilities) return null;
  const { raw, datagram, pingGroupRange, remedy, platform, uid } = capabilities;
  const level = raw ? 'ok' : datagram.ipv4 || datagram.ipv6 ? 'warn' : 'error';
  const summary = raw
    ? 'Raw sockets available: every feature works.'
    : datagram.ipv4 || datagram.ipv6
      ? `No raw sockets; unprivileged ping sockets for ${[datagram.ipv4 && 'IPv4', datagram.ipv6 && 'IPv6'].filter(Boolean).join(' and ')} only (ping, ICMP echo).`
      : 'No raw sockets and no ping sockets: nothing can be sent.';
  return (
    <div className={`banner banner-${level}`} role={level === 'ok' ? 'status' : 'alert'} aria-label="Capabilities">
      <span className="banner-summary">{summary}</span>
      <span className="banner-facts">
        {platform}
        {uid !== null ? ` · uid ${uid}` : ''} · raw {raw ? 'yes' : 'no'} · ping sockets v4 {datagram.ipv4 ? 'yes' : 'no'}, v6{' '}
        {datagram.ipv6 ? 'yes' : 'no'}
        {pingGroupRange ? ` · ping_group_range ${pingGroupRange[0]}–${pingGroupRange[1]}` : ''}
      </span>
      {remedy && (
        <span className="banner-remedy">
          <strong>Remedy:</strong> <code>{remedy}</code>
        </span>
      )}
    </div>
  );
}
