// The engine's lab (one at a time): the shipped topologies, the one chosen to start, its
// state from startLab/stopLab and 'lab' events, and the lab host the workbench acts from
// (Send's sockets, captures and experiments open inside that host's network namespace).
import type { LabInfo, LabMap, LabTopologySummary, PacketOnWire } from '../../../common/contract';
import { errorCode, errorText } from '../api/client';
import { readPersisted, writePersisted } from './persisted';
import type { SliceFactory, WorkbenchState } from './types';

export interface LabError {
  code?: string;
  message: string;
}

export interface LabSlice {
  lab: {
    topologies: LabTopologySummary[];
    /** The topology to start; follows the running lab's once one is reported. */
    topology: string;
    /** The lab host to act from; '' for this machine. Cleared when the lab is down or failed. */
    host: string;
    /** The lab as the engine last reported it. */
    info: LabInfo;
    /** A start or stop request is on its way. */
    busy: boolean;
    /** A refused request or an unreadable status (a failed start is in info.error). */
    error: LabError | null;
    /** Reads the topologies and the lab's state (after connecting). */
    load(): Promise<void>;
    setTopology(name: string): void;
    setHost(name: string): void;
    start(): Promise<void>;
    stop(): Promise<void>;
    applyLab(info: LabInfo): void;
    /** Sent row `id` next to its copy that crossed the first link ("What the kernel changed"); rejects with the engine's reason. */
    packetOnWire(id: number): Promise<PacketOnWire>;
  };
}

const TOPOLOGY_KEY = 'workbench.lab.topology';
const HOST_KEY = 'workbench.lab.host';
const LAB_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const isName = (value: unknown): value is string => typeof value === 'string' && (value === '' || LAB_NAME.test(value));

/** The hosts of a lab's map, hosts first, then routers, each in the map's order. */
export function labHosts(map: LabMap | undefined): LabMap['hosts'] {
  if (!map) return [];
  return [...map.hosts.filter((h) => h.role === 'host'), ...map.hosts.filter((h) => h.role === 'router')];
}

/** `{ host }` for a socket, capture or experiment the workbench opens now; `{}` from this machine. */
export function actingHost(state: Pick<WorkbenchState, 'lab'>): { host: string } | Record<string, never> {
  return state.lab.host ? { host: state.lab.host } : {};
}

export const createLabSlice: SliceFactory<LabSlice> = ({ client, storage }) => (set, get) => {
  const patch = (part: Partial<LabSlice['lab']>) => set((state) => ({ lab: { ...state.lab, ...part } }));
  const lab = () => get().lab;
  const remember = (part: Partial<LabSlice['lab']>) => {
    if (part.topology !== undefined) writePersisted(storage, TOPOLOGY_KEY, part.topology);
    if (part.host !== undefined) writePersisted(storage, HOST_KEY, part.host);
    patch(part);
  };
  const apply = (info: LabInfo) => {
    const part: Partial<LabSlice['lab']> = { info };
    const host = lab().host;
    // A host exists only in a lab that is there: none to act from once it is down or failed,
    // or when the lab that came up has no host of that name.
    const gone = info.state === 'down' || info.state === 'failed' || (info.state === 'up' && !info.map?.hosts.some((h) => h.name === host));
    if (host && gone) part.host = '';
    if (info.topology && info.state !== 'down' && info.topology !== lab().topology) part.topology = info.topology;
    remember(part);
  };
  const request = async (call: () => Promise<LabInfo>) => {
    patch({ busy: true, error: null });
    try {
      apply(await call());
    } catch (error) {
      patch({ error: { code: errorCode(error), message: errorText(error) } });
      // What is there after a refusal (LAB_RUNNING: someone else's lab) is the engine's word, not ours.
      await client.labStatus({}).then(apply, () => undefined);
    } finally {
      patch({ busy: false });
    }
  };
  return {
    lab: {
      topologies: [],
      topology: readPersisted(storage, TOPOLOGY_KEY, isName) ?? '',
      host: readPersisted(storage, HOST_KEY, isName) ?? '',
      info: { state: 'down' },
      busy: false,
      error: null,
      async load() {
        try {
          const [topologies, info] = await Promise.all([client.labTopologies({}), client.labStatus({})]);
          patch({ topologies, error: null });
          if (!topologies.some((t) => t.name === lab().topology) && topologies.length > 0) remember({ topology: topologies[0].name });
          apply(info);
        } catch (error) {
          patch({ error: { code: errorCode(error), message: `Cannot read the lab: ${errorText(error)}` } });
        }
      },
      setTopology(topology) {
        remember({ topology });
        patch({ error: null });
      },
      setHost(host) {
        if (host && !lab().info.map?.hosts.some((h) => h.name === host)) return;
        remember({ host });
      },
      start() {
        const topology = lab().topology;
        if (!topology) {
          patch({ error: { message: 'Choose a topology to start' } });
          return Promise.resolve();
        }
        // Shown at once; the engine's events and answer follow.
        patch({ info: { state: 'starting', topology } });
        return request(() => client.startLab({ topology }));
      },
      stop() {
        return request(() => client.stopLab({}));
      },
      applyLab: apply,
      packetOnWire: (id) => client.packetOnWire({ id }),
    },
  };
};
