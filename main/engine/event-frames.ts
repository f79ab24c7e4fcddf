// One event batch as several messages of at most `maxRows` log rows each, in order. A
// renderer takes in each message (WebSocket frame or IPC message) as one task: 10,000
// rows in one made 200+ ms tasks that held up clicks during a flood (bench:ui).
import type { EventBatch } from '../../common/contract';

export const FRAME_ROWS = 1000;

export function framesOf(batch: EventBatch, maxRows = FRAME_ROWS): EventBatch[] {
  const frames: EventBatch[] = [];
  let frame: EventBatch = [];
  let rowsInFrame = 0;
  for (const event of batch) {
    if (event.type !== 'log') {
      frame.push(event);
      continue;
    }
    let start = 0;
    while (start < event.rows.length) {
      if (rowsInFrame === maxRows) {
        frames.push(frame);
        frame = [];
        rowsInFrame = 0;
      }
      const take = Math.min(maxRows - rowsInFrame, event.rows.length - start);
      frame.push({ type: 'log', rows: take === event.rows.length ? event.rows : event.rows.slice(start, start + take) });
      rowsInFrame += take;
      start += take;
    }
  }
  if (frame.length > 0 || frames.length === 0) frames.push(frame);
  return frames;
}
