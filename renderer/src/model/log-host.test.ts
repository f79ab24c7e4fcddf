// The Log's Host column appears once some row was seen on a lab host (LogRow.host).
import { describe, expect, it } from 'vitest';
import type { LogRow } from '../../../common/contract';
import { LogBuffer } from './log-buffer';

const row = (id: number, host?: string): LogRow => ({
  id, time: id, direction: 'received', socketId: 's1', family: 'ipv4',
  source: '198.18.0.1', destination: '198.18.0.2', protocol: 'ICMP', length: 84, info: 'Echo reply id=0x0001 seq=1',
  ...(host === undefined ? {} : { host }),
});

describe('LogBuffer.hasHost', () => {
  it('turns on with the first row seen on a lab host and off when the log is cleared', () => {
    const log = new LogBuffer(100);
    log.append([row(0), row(1, '')]);
    expect(log.hasHost).toBe(false);
    log.append([row(2, 'client')]);
    expect(log.hasHost).toBe(true);
    log.clear();
    expect(log.hasHost).toBe(false);
  });
});
