// The Workbench engine: the contract's methods on real sockets, and batched events.
export { Workbench, DEFAULT_LOG_CAPACITY, MAX_LOG_ROWS_PER_BATCH, type WorkbenchOptions } from './workbench';
export { EventHub, type BatchListener } from './events';
export { PacketRing } from './ring';
