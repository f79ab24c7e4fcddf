// The running lab drawn from its map: hosts (rounded boxes) and routers (square boxes),
// each link with the addresses at its ends, its MTU when not 1500 and its impairments in
// words. Each node is a button that makes it the host to act from; the links table below
// says everything the picture shows, for readers that cannot see it.
import { Fragment, type KeyboardEvent } from 'react';
import type { LabMap } from '../../../common/contract';
import { hostRuleWords, impairmentWords, layoutLab, LINE_HEIGHT as LINE, NODE_HEIGHT, NODE_WIDTH, type DiagramLink } from '../model/lab-diagram';
import './lab.css';

export function LabDiagram({ map, host, onPick }: { map: LabMap; host: string; onPick(host: string): void }) {
  const diagram = layoutLab(map);
  return (
    <div className="lab-diagram-scroll">
      <svg
        className="lab-diagram"
        role="group"
        aria-label={`Diagram of lab ${map.name}`}
        viewBox={`0 0 ${diagram.width} ${diagram.height}`}
        width={diagram.width}
        height={diagram.height}
      >
        {diagram.links.map((link, i) => (
          <LinkDrawing key={i} link={link} />
        ))}
        {diagram.nodes.map((node) => {
          const chosen = node.name === host;
          const pick = () => onPick(chosen ? '' : node.name);
          const onKey = (event: KeyboardEvent<SVGGElement>) => {
            if (event.key !== 'Enter' && event.key !== ' ') return;
            event.preventDefault();
            pick();
          };
          // Named by exactly what it shows ("client host"); pressed: the host acted from.
          return (
            <Fragment key={node.name}>
              <g
                className={`lab-node lab-${node.role}${chosen ? ' chosen' : ''}`}
                role="button"
                tabIndex={0}
                aria-pressed={chosen}
                aria-label={`${node.name} ${node.role}`}
                onClick={pick}
                onKeyDown={onKey}
              >
                <title>{[`Act from ${node.name}: ${node.addresses.join(', ') || 'no addresses'}`, ...hostRuleWords(map.hosts.find((h) => h.name === node.name) ?? node)].join('\n')}</title>
                <rect x={node.x - NODE_WIDTH / 2} y={node.y - NODE_HEIGHT / 2} width={NODE_WIDTH} height={NODE_HEIGHT} rx={node.role === 'host' ? 12 : 3} />
                {/* One text with a space between its lines: its words read "client host", as named. */}
                <text textAnchor="middle">
                  <tspan x={node.x} y={node.y - 2} className="lab-node-name">
                    {node.name}
                  </tspan>{' '}
                  <tspan x={node.x} y={node.y + 11} className="lab-node-role">
                    {node.role}
                  </tspan>
                </text>
              </g>
              {chosen && (
                <text x={node.x} y={node.y + NODE_HEIGHT / 2 + 13} textAnchor="middle" className="lab-node-chosen" aria-hidden="true">
                  acting from here
                </text>
              )}
            </Fragment>
          );
        })}
        {diagram.rules.map((rule, i) => (
          <text key={rule} x={12} y={diagram.rulesTop + i * LINE} className="lab-rule">
            {rule}
          </text>
        ))}
      </svg>
    </div>
  );
}

/**
 * Drawn in the link's own frame (rotated along it): the left end's addresses above the line
 * near that end, the right end's below near theirs, the notes under the middle. On a link
 * that goes down, the sides swap, so both ends' words keep to the outside of a fork.
 */
function LinkDrawing({ link }: { link: DiagramLink }) {
  const [left, right] = link.ends;
  const down = link.angle > 0.5;
  const above = (lines: number, index: number) => -6 - (lines - 1 - index) * LINE;
  const below = (index: number) => 14 + index * LINE;
  const leftY = (i: number) => (down ? below(i) : above(left.addresses.length, i));
  const rightY = (i: number) => (down ? above(right.addresses.length, i) : below(i));
  const notes = link.notes;
  const notesTop = 14 + Math.max(right.addresses.length, down ? left.addresses.length : 0) * LINE + 4;
  return (
    <g className={`lab-link${link.notes.length > 0 ? ' impaired' : ''}`} transform={`translate(${link.from.x} ${link.from.y}) rotate(${link.angle})`}>
      <line x1={0} y1={0} x2={link.length} y2={0} />
      {left.addresses.map((address, i) => (
        <text key={address} x={6} y={leftY(i)} className="lab-address">
          {address}
        </text>
      ))}
      {right.addresses.map((address, i) => (
        <text key={address} x={link.length - 6} y={rightY(i)} textAnchor="end" className="lab-address">
          {address}
        </text>
      ))}
      {notes.map((line, i) => (
        <text key={i} x={link.length / 2} y={notesTop + i * LINE} textAnchor="middle" className="lab-note">
          {line}
        </text>
      ))}
    </g>
  );
}

/** The diagram in words: one row per link, with its ends, addresses, MTU and impairments; then the hosts' firewall rules and ICMP rate limits. */
export function LabLinksTable({ map }: { map: LabMap }) {
  const ruled = map.hosts.map((host) => ({ host, rules: hostRuleWords(host) })).filter((entry) => entry.rules.length > 0);
  return (
    <>
    <table className="grid-table lab-links" aria-label={`Links of lab ${map.name}`}>
      <thead>
        <tr>
          <th scope="col">Link</th>
          <th scope="col">Addresses</th>
          <th scope="col">MTU</th>
          <th scope="col">Impairments</th>
        </tr>
      </thead>
      <tbody>
        {map.links.map((link, i) => {
          const notes = link.impairments.map(impairmentWords);
          return (
            <tr key={i}>
              <th scope="row">{link.ends.map((end) => end.host).join(' — ')}</th>
              <td className="mono small">
                {link.ends.map((end, e) => (
                  <Fragment key={end.host}>
                    {e > 0 && <br />}
                    {end.host} ({end.interface}): {end.addresses.join(', ')}
                  </Fragment>
                ))}
              </td>
              <td className="num">{link.mtu}</td>
              <td>{notes.length > 0 ? notes.join('; ') : <span className="muted">none</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
    {ruled.length > 0 && (
      <table className="grid-table lab-links" aria-label={`Host rules of lab ${map.name}`}>
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Firewall and ICMP rate limit</th>
          </tr>
        </thead>
        <tbody>
          {ruled.map(({ host, rules }) => (
            <tr key={host.name}>
              <th scope="row">{host.name}</th>
              <td>{rules.map((rule) => rule.slice(host.name.length + 2)).join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    </>
  );
}
