// Small formatters for tables; written by hand because they run for every visible row.
const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** 'HH:MM:SS.mmm' local time. */
export function formatClock(ms: number): string {
  const date = new Date(ms);
  const millis = Math.floor(ms % 1000);
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}.${millis.toString().padStart(3, '0')}`;
}

/** Milliseconds with a precision that suits round trips: '0.043', '12.4', '153'. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(2);
  return ms.toFixed(1);
}
