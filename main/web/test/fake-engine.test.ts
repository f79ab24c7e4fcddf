// The transport tests' fake engine covers the contract and refuses as the real one does:
// every contract method has a probe here (a new method fails the first test until it has
// one) and a handler in the fake; each refusal the fake makes, a real Workbench makes too
// (ids it does not hold need no privilege), with the same code and field. A fake that
// drifts from the engine fails here.
import { afterAll, describe, expect, it } from 'vitest';
import { methodNames, type MethodName } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import { dispatchCall } from '../../engine/dispatch';
import { Workbench } from '../../engine';
import { createFakeEngine } from './fake-engine';

/** Calls of each method: ids neither engine holds, and calls the fake answers (the real engine is then not asked). */
const probes: Record<MethodName, unknown[]> = {
  capabilities: [{}],
  openSocket: [{ family: 'ipv4', protocol: 1 }],
  closeSocket: [{ socketId: 'no-such-socket' }],
  listSockets: [{}],
  pauseReceive: [{ socketId: 'no-such-socket' }],
  resumeReceive: [{ socketId: 'no-such-socket' }],
  readSocketOptions: [{ socketId: 'no-such-socket' }],
  setSocketFilter: [{ socketId: 'no-such-socket', filter: 'icmp' }],
  setSocketOption: [{ socketId: 'no-such-socket', name: 'IP_TTL', value: 9 }],
  send: [{ socketId: 'no-such-socket', address: '127.0.0.1', packet: { hex: '0800f7ff00000000' } }],
  cancelSend: [{ jobId: 'no-such-job' }],
  listSendJobs: [{}],
  sendResults: [{ jobId: 'no-such-job' }],
  queryLog: [{}],
  filterLog: [{ expression: 'icmp' }],
  decodeLogEntry: [{ id: 123_456_789 }],
  clearLog: [{}],
  undoClearLog: [{}],
  configureLog: [{ capacity: 1000 }],
  exportPcapng: [{}],
  importPcapng: [{ pcapng: 'AAAA' }],
  openExport: [{}],
  readExport: [{ exportId: 'no-such-export' }],
  openImport: [{}],
  writeImport: [{ importId: 'no-such-import', data: '', end: true }],
  closeTransfer: [{ transferId: 'no-such-transfer' }],
  saveWorkspace: [{}],
  loadWorkspace: [{ data: 'AAAA' }],
  ping: [{ target: '127.0.0.1' }],
  traceroute: [{ target: '127.0.0.1' }],
  mtr: [{ target: '127.0.0.1' }],
  pmtu: [{ target: '127.0.0.1' }],
  stopExperiment: [{ runId: 'no-such-run' }],
  resolveHost: [{ name: 'localhost' }],
  helperStatus: [{}],
  startHelper: [{}],
  stopHelper: [{}],
  listExperiments: [{}],
  startCapture: [{}],
  stopCapture: [{ captureId: 'no-such-capture' }],
  listCaptures: [{}],
  logStatus: [{}],
  labTopologies: [{}],
  startLab: [{ topology: 'no-such-topology' }],
  stopLab: [{}],
  labStatus: [{}],
  lessons: [{}],
  lesson: [{ name: 'no-such-lesson' }],
  checkLesson: [{ name: 'no-such-lesson' }],
  packetOnWire: [{ id: 123_456_789 }],
};

type Outcome = { result: unknown } | { code: string; field: string | undefined; error: unknown };
async function outcome(call: Promise<unknown>): Promise<Outcome> {
  return call.then(
    (result) => ({ result }),
    (error: unknown) => ({ code: (error as WorkbenchError).code, field: (error as WorkbenchError).field, error }),
  );
}

describe('fake engine against the contract and the real engine', () => {
  const fake = createFakeEngine();
  const real = new Workbench();
  afterAll(() => real.close());

  it('has a probe and a handler for every contract method', () => {
    expect(methodNames.filter((name) => !(name in probes))).toEqual([]);
    expect(methodNames.filter((name) => typeof fake[name] !== 'function')).toEqual([]);
  });

  for (const method of methodNames) {
    it(`${method}: answers, or refuses with the engine's code and field`, async () => {
      for (const params of probes[method] ?? []) {
        const faked = await outcome(dispatchCall(fake, method, params));
        if ('result' in faked) continue;
        // A WorkbenchError, never a crash of the fake (a missing handler would be a TypeError).
        expect(faked.error).toBeInstanceOf(WorkbenchError);
        const actual = await outcome(dispatchCall(real, method, params));
        expect({ code: faked.code, field: faked.field }).toEqual('result' in actual ? { result: 'the real engine answered' } : { code: actual.code, field: actual.field });
      }
    });
  }

  it('refuses ids it does not hold with NOT_FOUND, as the engine does', async () => {
    for (const [method, params] of [['closeSocket', { socketId: 'x' }], ['stopExperiment', { runId: 'x' }], ['lesson', { name: 'x' }], ['packetOnWire', { id: 99_999_999 }]] as const) {
      expect(await outcome(dispatchCall(fake, method, params))).toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});
