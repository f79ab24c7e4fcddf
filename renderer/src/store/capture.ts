// Capture mode (a packet socket per interface or all: what tcpdump sees) and what the
// log kept and lost (ring overflows, kernel drops) for the status bar; classic pcap export.
import type { CaptureInfo, LogStatus } from '../../../common/contract';
import { errorText } from '../api/client';
import { exportCaptureFile } from '../../../common/capture-transfer';
import { actingHost } from './lab';
import type { SliceFactory } from './types';

export interface CaptureSlice {
  capture: {
    /** Captures by id, running and stopped, oldest first. */
    list: CaptureInfo[];
    /** The interface to capture on; '' for every interface. */
    interfaceName: string;
    /** Capture filter (tcpdump's syntax) for the next capture; '' for none. */
    filter: string;
    status: LogStatus | null;
    error: string | null;
    busy: boolean;
    setInterface(name: string): void;
    setFilter(filter: string): void;
    start(): Promise<void>;
    stop(captureId: string): Promise<void>;
    /** Reads the captures and the log status (after connecting). */
    load(): Promise<void>;
    /** The whole log as classic pcap (LINKTYPE_RAW: no direction, interfaces or comments). */
    exportPcap(): Promise<void>;
    applyCapture(capture: CaptureInfo): void;
    applyStatus(status: LogStatus): void;
  };
}

export const createCaptureSlice: SliceFactory<CaptureSlice> = ({ client, saveFile }) => (set, get) => {
  const patch = (partial: Partial<CaptureSlice['capture']>) => set((state) => ({ capture: { ...state.capture, ...partial } }));
  const capture = () => get().capture;
  const apply = (info: CaptureInfo) => {
    const list = capture().list;
    const index = list.findIndex((c) => c.captureId === info.captureId);
    patch({ list: index < 0 ? [...list, info] : list.map((c, i) => (i === index ? info : c)) });
  };
  return {
    capture: {
      list: [],
      interfaceName: '',
      filter: '',
      status: null,
      error: null,
      busy: false,
      setInterface(interfaceName) {
        patch({ interfaceName, error: null });
      },
      setFilter(filter) {
        patch({ filter, error: null });
      },
      async start() {
        const name = capture().interfaceName.trim();
        const filter = capture().filter.trim();
        patch({ busy: true, error: null });
        try {
          apply(await client.startCapture({ ...(name ? { interface: name } : {}), ...(filter ? { filter } : {}), ...actingHost(get()) }));
        } catch (error) {
          patch({ error: errorText(error) });
        } finally {
          patch({ busy: false });
        }
      },
      async stop(captureId) {
        try {
          apply(await client.stopCapture({ captureId }));
        } catch (error) {
          patch({ error: errorText(error) });
        }
      },
      async load() {
        try {
          const [list, status] = await Promise.all([client.listCaptures({}), client.logStatus({})]);
          patch({ list, status });
        } catch (error) {
          patch({ error: errorText(error) });
        }
      },
      async exportPcap() {
        try {
          // In pieces (common/capture-transfer.ts): a full log is hundreds of MB.
          const result = await exportCaptureFile(client, { format: 'pcap' });
          const stamp = new Date().toISOString().replace(/[:.]/g, '-');
          saveFile(`workbench-${stamp}.pcap`, 'application/vnd.tcpdump.pcap', result.bytes);
        } catch (error) {
          patch({ error: errorText(error) });
        }
      },
      applyCapture: apply,
      applyStatus(status) {
        patch({ status });
      },
    },
  };
};
