// --lab-host HOST on send, ping, traceroute and capture: act from a host of a lab that
// `lab up` started (its state under /run/packet-workbench/labs, read only here). The
// command's engine adopts that lab (useLab: it never takes it down) and opens its
// sockets inside the host's network namespace, as the GUI does with `host`.
import { readLabStates } from '../lab/lab-state';
import { CliError, EXIT_USAGE } from './errors';
import type { EngineSession } from './session';

export const LAB_HOST_FLAG = '--lab-host <host>';
export const LAB_HOST_HELP = 'act from this host of the lab `lab up` started (its network namespace: its addresses and routes)';

/** The `host` parameter for the command's calls: {} without --lab-host. */
export function useLabHost(session: EngineSession, host: string | undefined): { host?: string } {
  if (host === undefined) return {};
  const labs = readLabStates().flatMap((stored) => (stored.state ? [stored.state] : []));
  const withHost = labs.filter((lab) => Object.hasOwn(lab.namespaces, host));
  if (withHost.length === 0) {
    const up = labs.map((lab) => `${lab.name} (${Object.keys(lab.namespaces).join(', ')})`).join('; ');
    throw new CliError(EXIT_USAGE, labs.length === 0 ? `--lab-host ${host}: no lab is up (\`sudo packet-workbench lab up NAME\` first)` : `--lab-host ${host}: no lab up has that host (up: ${up})`, 'LAB_NOT_UP');
  }
  if (withHost.length > 1) throw new CliError(EXIT_USAGE, `--lab-host ${host}: several labs up have that host (${withHost.map((lab) => lab.name).join(', ')}); take the others down`);
  const lab = withHost[0];
  session.workbench.useLab({ name: lab.name, namespaces: lab.namespaces, map: lab.map });
  return { host };
}
