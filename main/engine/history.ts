// Ids and kept history of what the engine starts: sockets, send jobs, experiment runs and
// captures share one counter (socket-1, job-2, run-3, capture-4 …).

/** A new id of this kind, unique in the workbench. */
export type NewId = (kind: 'socket' | 'job' | 'run' | 'capture') => string;

/** Finished send jobs, experiments and captures kept for listSendJobs / listExperiments / listCaptures. */
export const HISTORY = 1000;

/** Forgets the oldest finished entries beyond HISTORY (running ones stay). */
export function trimHistory<V>(map: Map<string, V>, finished: (value: V) => boolean): void {
  if (map.size <= HISTORY) return;
  for (const [key, value] of map) {
    if (map.size <= HISTORY) break;
    if (finished(value)) map.delete(key);
  }
}
