// The diagram as markup: every host a focusable button naming itself, the chosen one pressed,
// end addresses and impairments in words on the links, and the same facts in the links table.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { LabMap } from '../../../common/contract';
import { LabDiagram, LabLinksTable } from './LabDiagram';

const lossy: LabMap = {
  name: 'lossy',
  description: 'client — r1 — r2 — target; r1→r2 loses 20 % and adds 40 ms',
  hosts: [
    { name: 'client', role: 'host', addresses: ['198.18.1.1/24', 'fd42:0:0:1::1/64'] },
    { name: 'r1', role: 'router', addresses: ['198.18.1.2/24', '198.18.2.1/24'] },
    { name: 'r2', role: 'router', addresses: ['198.18.2.2/24', '198.18.3.1/24'] },
    { name: 'target', role: 'host', addresses: ['198.18.3.2/24', 'fd42:0:0:3::2/64'] },
  ],
  links: [
    { ends: [{ host: 'client', interface: 'r1', addresses: ['198.18.1.1/24', 'fd42:0:0:1::1/64'] }, { host: 'r1', interface: 'client', addresses: ['198.18.1.2/24', 'fd42:0:0:1::2/64'] }], mtu: 1500, impairments: [] },
    {
      ends: [{ host: 'r1', interface: 'r2', addresses: ['198.18.2.1/24'] }, { host: 'r2', interface: 'r1', addresses: ['198.18.2.2/24'] }],
      mtu: 1280,
      impairments: [{ from: 'r1', to: 'r2', lossPercent: 20, delayMs: 40, how: 'emulator', reason: 'userspace emulator' }],
    },
    { ends: [{ host: 'r2', interface: 'target', addresses: ['198.18.3.1/24'] }, { host: 'target', interface: 'r2', addresses: ['198.18.3.2/24', 'fd42:0:0:3::2/64'] }], mtu: 1500, impairments: [] },
  ],
};

describe('LabDiagram', () => {
  it('draws each host as a named, focusable button, the chosen one pressed', () => {
    const html = renderToStaticMarkup(<LabDiagram map={lossy} host="client" onPick={() => undefined} />);
    expect(html).toContain('aria-label="Diagram of lab lossy"');
    for (const [name, role] of [['client', 'host'], ['r1', 'router'], ['r2', 'router'], ['target', 'host']]) {
      expect(html).toMatch(new RegExp(`role="button" tabindex="0" aria-pressed="${name === 'client'}" aria-label="${name} ${role}"`));
    }
    expect(html).toContain('acting from here');
  });

  it('writes the end addresses, a small MTU and the impairments on the links', () => {
    const html = renderToStaticMarkup(<LabDiagram map={lossy} host="" onPick={() => undefined} />).replace(/\u00a0/g, ' ');
    for (const address of ['198.18.1.1/24', 'fd42:0:0:1::2/64', '198.18.3.2/24']) expect(html).toContain(`>${address}</text>`);
    expect(html).toContain('>MTU 1280</text>');
    expect(html).toContain('>r1→r2: loss 20 %, delay</text>');
    expect(html).toContain('>40 ms (userspace emulator)</text>');
    expect(html).not.toContain('MTU 1500');
  });

  it('says the same in the links table', () => {
    const html = renderToStaticMarkup(<LabLinksTable map={lossy} />).replace(/\u00a0/g, ' ');
    expect(html).toContain('aria-label="Links of lab lossy"');
    expect(html).toContain('<th scope="row">r1 — r2</th>');
    expect(html).toContain('r1 (r2): 198.18.2.1/24');
    expect(html).toContain('<td class="num">1280</td>');
    expect(html).toContain('r1→r2: loss 20 %, delay 40 ms (userspace emulator)');
  });
});
