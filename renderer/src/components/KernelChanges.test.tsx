// The kernel-changes view as markup: one ≠ line per changed field with both values and why,
// and in each packet's bytes exactly the changed ones inside <mark>.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { PacketOnWire } from '../../../common/contract';
import { build, formatHex } from '../../../packets';
import { packetDifferences } from '../../../packets/differences';
import { WireView } from './KernelChanges';

const echo = { kind: 'icmp', fields: { type: 8, identifier: 0x4b43, sequence: 1 } } as const;
const sent = build([{ kind: 'ipv4', fields: { src: '0.0.0.0', dst: '198.18.4.2', identification: 0 } }, echo]);
const wire = build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.4.2', identification: 0x1a2b } }, echo]);
const result: PacketOnWire = { rowId: 7, host: 'client', capturedOn: { host: 'r1', interface: 'client' }, time: 0, sentHex: formatHex(sent), wireHex: formatHex(wire), ...packetDifferences(sent, wire) };

describe('WireView', () => {
  const html = renderToStaticMarkup(<WireView result={result} />);
  it('says where the copy was captured and one ≠ line per changed field, with the reason in words', () => {
    expect(html).toContain('captured on <strong>r1</strong> (interface client)');
    expect(html).toContain('3 fields changed.');
    expect(html.match(/≠ /g)).toHaveLength(3);
    expect(html).toMatch(/IPv4 Source<\/th><td class="mono">0\.0\.0\.0<\/td><td class="mono"><mark>198\.18\.1\.1<\/mark><\/td><td>source address filled in by the kernel/);
  });
  it('marks exactly the changed bytes of each packet: identification, checksum and source (2 + 2 + 4)', () => {
    const [sentFigure, wireFigure] = html.split('<figure').slice(1);
    const marked = (figure: string) => [...figure.matchAll(/<mark>([0-9a-f]{2})<\/mark>/g)].map((match) => match[1]).join(' ');
    expect(marked(wireFigure)).toBe(formatHex(Uint8Array.from([...wire.subarray(4, 6), ...wire.subarray(10, 16)])));
    expect(marked(sentFigure)).toBe(formatHex(Uint8Array.from([...sent.subarray(4, 6), ...sent.subarray(10, 16)])));
  });
});
