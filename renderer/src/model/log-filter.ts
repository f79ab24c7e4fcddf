// The log filter: which rows a user wants to see. Pure, so it runs per row at flood rate.
import type { LogRow } from '../../../common/contract';

export interface LogFilter {
  /** '' = any; 'ICMP', 'ICMPv6', 'UDP', 'TCP', or another protocol name/number. */
  protocol: string;
  /** Substring of source or destination. */
  address: string;
  direction: '' | LogRow['direction'];
  /** Substring of any column, case-insensitive. */
  text: string;
  /**
   * A display filter over the packets' fields (`icmp.type == 0`), already checked by
   * compileDisplayFilter. The engine, which holds the bytes, evaluates it (filterLog); '' = none.
   */
  display: string;
}

export const emptyFilter: LogFilter = { protocol: '', address: '', direction: '', text: '', display: '' };

export function isFilterActive(filter: LogFilter): boolean {
  return filter.protocol !== '' || filter.address.trim() !== '' || filter.direction !== '' || filter.text.trim() !== '' || filter.display.trim() !== '';
}

/** Compiles the instant part of a filter (not `display`) into a predicate; cheap checks first. */
export function compileFilter(filter: LogFilter): (row: LogRow) => boolean {
  const protocol = filter.protocol;
  const direction = filter.direction;
  const address = filter.address.trim().toLowerCase();
  const text = filter.text.trim().toLowerCase();
  return (row) => {
    if (direction && row.direction !== direction) return false;
    if (protocol && row.protocol !== protocol) return false;
    if (address && !row.source.toLowerCase().includes(address) && !row.destination.toLowerCase().includes(address)) return false;
    if (text) {
      return (
        row.info.toLowerCase().includes(text) ||
        row.source.toLowerCase().includes(text) ||
        row.destination.toLowerCase().includes(text) ||
        row.protocol.toLowerCase().includes(text) ||
        row.direction.includes(text) ||
        (row.socketId !== null && row.socketId.toLowerCase() === text) ||
        String(row.id) === text
      );
    }
    return true;
  };
}
