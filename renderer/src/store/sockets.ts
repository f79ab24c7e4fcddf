// Open sockets, their counters and receive state, and each socket's options as read from the kernel.
import type { OptionReading, SocketInfo } from '../../../common/contract';
import { findSocketOption, type SocketOptionDescription } from '../../../common/socket-options';
import { errorCode, errorText } from '../api/client';
import { permissionRemedy, rawSocketRemedy } from './send';
import { actingHost } from './lab';
import { idleSockets, nextIdleDue } from './sockets-implicit';
import type { SliceFactory } from './types';

export interface OptionsView {
  readings: OptionReading[];
  /** Text being edited per option name. */
  edits: Record<string, string>;
  /** Inline error per option name (validation or the kernel's refusal). */
  errors: Record<string, string>;
  loading: boolean;
  error: string | null;
}

export interface OpenForm {
  family: 'ipv4' | 'ipv6';
  protocol: string;
  mode: 'auto' | 'raw' | 'datagram';
  /** Capture filter (tcpdump's syntax); '' for none. */
  filter: string;
}

/** A socket's capture filter as being edited, and the engine's refusal (it names the position). */
export interface FilterView {
  text: string;
  error: string | null;
  saving: boolean;
}

export interface SocketsSlice {
  sockets: {
    list: SocketInfo[];
    selectedId: string | null;
    options: Record<string, OptionsView>;
    openForm: OpenForm;
    /** The open form's capture filter was refused: the engine's message, shown at the field. */
    openFilterError: string | null;
    /** Per socket: its capture filter being edited. */
    filters: Record<string, FilterView>;
    error: { message: string; code?: string; remedy?: string } | null;
    /** Sockets Send opened on its own (sockets-implicit.ts), with when each was last used (ms). */
    implicit: Record<string, number>;
    load(): Promise<void>;
    applySocket(socket: SocketInfo): void;
    setOpenForm(change: Partial<OpenForm>): void;
    open(): Promise<void>;
    close(socketId: string): Promise<void>;
    /** Closes every open socket; resolves when all have answered. */
    closeAll(): Promise<void>;
    /** Send opened this socket on its own: it closes once idle. */
    markImplicit(socketId: string): void;
    /** A send started or ended on this socket: its idle time starts again. */
    used(socketId: string): void;
    /** Closes the implicit sockets idle at `now` and waits for the next. */
    closeIdle(now?: number): Promise<void>;
    setReceive(socketId: string, running: boolean): Promise<void>;
    select(socketId: string | null): void;
    readOptions(socketId: string): Promise<void>;
    editOption(socketId: string, name: string, text: string): void;
    setOption(socketId: string, name: string): Promise<boolean>;
    editFilter(socketId: string, text: string): void;
    /** Applies the edited capture filter ('' removes it); false when the engine refused it. */
    setFilter(socketId: string): Promise<boolean>;
  };
}

/** Checks typed option text against the option's description; the value to send, or why not. */
export function parseOptionText(option: SocketOptionDescription, text: string): { value: number | string } | { error: string } {
  const trimmed = text.trim();
  if (option.type === 'text') {
    if (new TextEncoder().encode(trimmed).length > (option.maxBytes ?? 200) - 1) {
      return { error: `At most ${(option.maxBytes ?? 200) - 1} bytes` };
    }
    return { value: trimmed };
  }
  if (option.type === 'bytes') {
    const hex = trimmed.replace(/[\s:]/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return { error: 'Hex bytes, two digits each (e.g. 94 04 00 00)' };
    if (hex.length / 2 > (option.maxBytes ?? 200)) return { error: `At most ${option.maxBytes} bytes` };
    return { value: hex.toLowerCase() };
  }
  if (!/^-?\d+$/.test(trimmed)) return { error: option.type === 'bool' ? 'On (1) or off (0)' : 'A whole number' };
  const value = Number(trimmed);
  const min = option.min ?? -2147483648;
  const max = option.max ?? 2147483647;
  if (value < min || value > max) return { error: `Out of range: ${min} to ${max}${option.unit ? ` ${option.unit}` : ''}` };
  return { value };
}

const emptyOptions = (): OptionsView => ({ readings: [], edits: {}, errors: {}, loading: false, error: null });

/** The contract field an error names (a WorkbenchError's `field`), if any. */
function errorField(error: unknown): string | undefined {
  const field = (error as { field?: unknown } | null)?.field;
  return typeof field === 'string' ? field : undefined;
}

export const createSocketsSlice: SliceFactory<SocketsSlice> = ({ client }) => (set, get) => {
  const sockets = () => get().sockets;
  const patch = (part: Partial<SocketsSlice['sockets']>) => set((state) => ({ sockets: { ...state.sockets, ...part } }));
  const patchOptions = (socketId: string, part: Partial<OptionsView>) =>
    patch({ options: { ...sockets().options, [socketId]: { ...(sockets().options[socketId] ?? emptyOptions()), ...part } } });
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** One timer, for the implicit socket due to close first. */
  const scheduleIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const due = nextIdleDue(sockets().implicit, get().send.jobs);
    if (due !== null) idleTimer = setTimeout(() => void sockets().closeIdle(), Math.max(0, due - Date.now()));
  };
  /** The user made an implicit socket theirs (a filter, an option): it no longer closes by itself. */
  const adopt = (socketId: string) => {
    if (!(socketId in sockets().implicit)) return;
    const { [socketId]: _adopted, ...implicit } = sockets().implicit;
    patch({ implicit });
    scheduleIdle();
  };
  const report = (message: string, error: unknown) => {
    const code = errorCode(error);
    const remedy = permissionRemedy(code, rawSocketRemedy(get().settings.capabilities));
    patch({ error: { message: `${message}: ${errorText(error)}`, ...(code ? { code } : {}), ...(remedy ? { remedy } : {}) } });
  };

  return {
    sockets: {
      list: [],
      selectedId: null,
      options: {},
      openForm: { family: 'ipv4', protocol: '1', mode: 'auto', filter: '' },
      openFilterError: null,
      filters: {},
      error: null,
      implicit: {},
      async load() {
        try {
          patch({ list: await client.listSockets({}) });
        } catch (error) {
          report('Cannot list sockets', error);
        }
      },
      applySocket(socket) {
        const list = sockets().list;
        const index = list.findIndex((candidate) => candidate.socketId === socket.socketId);
        patch({ list: index < 0 ? [...list, socket] : list.map((candidate, i) => (i === index ? socket : candidate)) });
        if (socket.closed) adopt(socket.socketId);
      },
      setOpenForm(change) {
        patch({ openForm: { ...sockets().openForm, ...change }, error: null, ...('filter' in change ? { openFilterError: null } : {}) });
      },
      async open() {
        const { family, protocol, mode, filter } = sockets().openForm;
        const number = Number(protocol);
        if (!/^\d+$/.test(protocol.trim()) || number > 255) {
          patch({ error: { message: `Protocol must be a number from 0 to 255 (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6), not '${protocol}'` } });
          return;
        }
        try {
          const socket = await client.openSocket({ family, protocol: number, mode, ...(filter.trim() ? { filter } : {}), ...actingHost(get()) });
          sockets().applySocket(socket);
          patch({ error: null, openFilterError: null, selectedId: socket.socketId });
          await sockets().readOptions(socket.socketId);
        } catch (error) {
          if (errorField(error) === 'filter') patch({ openFilterError: errorText(error) });
          else report(`Cannot open a ${family} socket for protocol ${number}`, error);
        }
      },
      async close(socketId) {
        try {
          sockets().applySocket(await client.closeSocket({ socketId }));
        } catch (error) {
          report(`Cannot close ${socketId}`, error);
        }
      },
      async closeAll() {
        const open = sockets().list.filter((socket) => !socket.closed);
        await Promise.all(open.map((socket) => sockets().close(socket.socketId)));
      },
      markImplicit(socketId) {
        patch({ implicit: { ...sockets().implicit, [socketId]: Date.now() } });
        scheduleIdle();
      },
      used(socketId) {
        if (!(socketId in sockets().implicit)) return;
        patch({ implicit: { ...sockets().implicit, [socketId]: Date.now() } });
        scheduleIdle();
      },
      async closeIdle(now = Date.now()) {
        const idle = idleSockets(sockets().implicit, get().send.jobs, now);
        // Forgotten before closing, so a close that fails is not retried in a loop.
        const implicit = { ...sockets().implicit };
        for (const socketId of idle) delete implicit[socketId];
        patch({ implicit });
        await Promise.all(idle.map((socketId) => sockets().close(socketId)));
        scheduleIdle();
      },
      async setReceive(socketId, running) {
        try {
          sockets().applySocket(await (running ? client.resumeReceive({ socketId }) : client.pauseReceive({ socketId })));
        } catch (error) {
          report(`Cannot ${running ? 'resume' : 'pause'} receiving on ${socketId}`, error);
        }
      },
      select(socketId) {
        patch({ selectedId: socketId });
        if (socketId && !sockets().options[socketId]) void sockets().readOptions(socketId);
      },
      async readOptions(socketId) {
        patchOptions(socketId, { loading: true, error: null });
        try {
          const readings = await client.readSocketOptions({ socketId });
          const edits: Record<string, string> = {};
          for (const reading of readings) edits[reading.name] = reading.value === null ? '' : String(reading.value);
          patchOptions(socketId, { readings, edits, errors: {}, loading: false });
        } catch (error) {
          patchOptions(socketId, { loading: false, error: errorText(error) });
        }
      },
      editFilter(socketId, text) {
        patch({ filters: { ...sockets().filters, [socketId]: { text, error: null, saving: false } } });
      },
      async setFilter(socketId) {
        const current = sockets().list.find((socket) => socket.socketId === socketId);
        const text = sockets().filters[socketId]?.text ?? current?.filter ?? '';
        const put = (view: FilterView) => patch({ filters: { ...sockets().filters, [socketId]: view } });
        put({ text, error: null, saving: true });
        try {
          const socket = await client.setSocketFilter({ socketId, filter: text.trim() === '' ? null : text });
          sockets().applySocket(socket);
          adopt(socketId);
          put({ text: socket.filter ?? '', error: null, saving: false });
          return true;
        } catch (error) {
          put({ text, error: errorText(error), saving: false });
          return false;
        }
      },
      editOption(socketId, name, text) {
        const view = sockets().options[socketId] ?? emptyOptions();
        const { [name]: _cleared, ...errors } = view.errors;
        patchOptions(socketId, { edits: { ...view.edits, [name]: text }, errors });
      },
      async setOption(socketId, name) {
        const view = sockets().options[socketId] ?? emptyOptions();
        const option = findSocketOption(name);
        if (!option) return false;
        const parsed = parseOptionText(option, view.edits[name] ?? '');
        if ('error' in parsed) {
          patchOptions(socketId, { errors: { ...view.errors, [name]: parsed.error } });
          return false;
        }
        try {
          const reading = await client.setSocketOption({ socketId, name, value: parsed.value });
          adopt(socketId);
          const current = sockets().options[socketId] ?? emptyOptions();
          const readings = current.readings.some((r) => r.name === name)
            ? current.readings.map((r) => (r.name === name ? reading : r))
            : [...current.readings, reading];
          const { [name]: _cleared, ...errors } = current.errors;
          patchOptions(socketId, {
            readings,
            edits: { ...current.edits, [name]: reading.value === null ? '' : String(reading.value) },
            errors: reading.error ? { ...errors, [name]: `${reading.error.code}: ${reading.error.message}` } : errors,
          });
          return !reading.error;
        } catch (error) {
          const current = sockets().options[socketId] ?? emptyOptions();
          patchOptions(socketId, { errors: { ...current.errors, [name]: errorText(error) } });
          return false;
        }
      },
    },
  };
};
