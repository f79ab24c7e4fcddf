// Event batches from the workbench into the store. Batches arrive up to ~60 times a second,
// each with up to thousands of log rows; they are queued and applied together at most once
// per animation frame, so a flood costs one store update (and one render) per frame.
import type { EventBatch, LogRow, WorkbenchEvent } from '../../../common/contract';
import { logGap, markerForOldest } from '../model/log-gap';
import type { WorkbenchStore } from '../store';

export interface EventPump {
  /** Applies everything queued now (tests; also before reading the store synchronously). */
  flush(): void;
  stop(): void;
}

export function pumpEvents(
  subscribe: (listener: (batch: EventBatch) => void) => () => void,
  store: WorkbenchStore,
  nextFrame: (callback: () => void) => void,
): EventPump {
  let rows: LogRow[] = [];
  let others: WorkbenchEvent[] = [];
  let scheduled = false;
  let stopped = false;

  const flush = () => {
    scheduled = false;
    if (stopped) return;
    const state = store.getState();
    const pendingRows = rows;
    const pendingOthers = others;
    rows = [];
    others = [];
    // Signs that the helper stopped or died (its sockets close, its work fails with EHELPER): the
    // capabilities (and the helper state in them) are read again even if no 'helper' event came.
    let helperGone = false;
    let helperEvent = false;
    for (const event of pendingOthers) {
      switch (event.type) {
        case 'logCleared':
          // Rows queued before the clear belong to the old log.
          state.log.cleared();
          break;
        case 'socket':
          state.sockets.applySocket(event.socket);
          if (event.socket.via === 'helper' && event.socket.closed) helperGone = true;
          break;
        case 'sendJob':
          state.send.applyJob(event.job);
          if (event.job.error?.code === 'EHELPER') helperGone = true;
          break;
        case 'pingReply':
          state.experiments.applyPingReply(event.runId, event.reply, event.statistics);
          break;
        case 'tracerouteHop':
          state.experiments.applyHop(event.runId, event.hop);
          break;
        case 'experiment':
          state.experiments.applyRun(event.run);
          if (event.run.error?.code === 'EHELPER') helperGone = true;
          break;
        case 'helper':
          // What works follows the helper: its state, then the capabilities read again.
          state.helper.applyStatus(event.helper);
          helperEvent = true;
          break;
        case 'capture':
          state.capture.applyCapture(event.capture);
          break;
        case 'logStatus':
          state.capture.applyStatus(event.status);
          break;
        case 'lab':
          state.lab.applyLab(event.lab);
          break;
        default:
          break;
      }
    }
    if (helperGone && !helperEvent && state.helper.status?.state === 'running') void state.settings.loadCapabilities();
    if (pendingRows.length > 0) state.log.append(pendingRows);
  };

  const unsubscribe = subscribe((batch) => {
    for (const event of batch) {
      if (event.type === 'log') {
        for (const row of event.rows) rows.push(row);
      } else if (event.type === 'logSkipped') {
        // Rows the host did not push: a marker in their place, in id order, so ids never jump silently.
        rows.push(logGap(event.fromId, event.toId, event.count));
      } else {
        if (event.type === 'logCleared') rows = [];
        others.push(event);
      }
    }
    // Bound what waits for a frame (a hidden tab gets none): keep the newest rows.
    const limit = store.getState().log.buffer.capacity;
    if (rows.length > 2 * limit) rows = [markerForOldest(rows, rows.length - limit + 1), ...rows.slice(1 - limit)];
    if (!scheduled) {
      scheduled = true;
      nextFrame(flush);
    }
  });

  return {
    flush,
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}

/** requestAnimationFrame, falling back to a timer when the page is hidden (no frames come). */
export function animationFrame(callback: () => void): void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    callback();
  };
  requestAnimationFrame(run);
  setTimeout(run, 250);
}
