// The Send form's numbers checked and turned into the contract's send parameters: pacing
// (interval, rate or bursts) and the answer window of send-and-match. Each check returns the
// value or the words for the control it belongs to.
import type { SendJobInfo } from '../../../common/contract';

/** States after which nothing of a job changes. */
export const FINAL_STATES: ReadonlySet<SendJobInfo['state']> = new Set(['done', 'cancelled', 'failed']);

export interface PacingForm {
  pacing: 'interval' | 'rate' | 'burst';
  interval: string;
  rate: string;
  burstSize: string;
  burstGap: string;
}

export type Pacing = { intervalMs: number } | { rate: number } | { burst: { size: number; gapMs: number } };

const numberIn = (text: string, min: number, max: number): number | null => {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) && value >= min && value <= max ? value : null;
};

export function parsePacing(form: PacingForm): { pacing: Pacing } | { error: string } {
  switch (form.pacing) {
    case 'interval': {
      const intervalMs = numberIn(form.interval, 0, 3_600_000);
      return intervalMs === null ? { error: 'Interval must be 0 to 3,600,000 ms (0 sends as fast as possible)' } : { pacing: { intervalMs } };
    }
    case 'rate': {
      const rate = numberIn(form.rate, 0.001, 10_000_000);
      return rate === null ? { error: 'Rate must be 0.001 to 10,000,000 packets per second' } : { pacing: { rate } };
    }
    case 'burst': {
      const size = numberIn(form.burstSize, 1, 100_000);
      const gapMs = numberIn(form.burstGap, 0, 3_600_000);
      if (size === null || !Number.isInteger(size)) return { error: 'Burst size must be a whole number from 1 to 100,000 packets' };
      if (gapMs === null) return { error: 'Burst gap must be 0 to 3,600,000 ms' };
      return { pacing: { burst: { size, gapMs } } };
    }
  }
}

/** Send-and-match's answer window: how long to wait after the last packet. */
export function parseAnswerTimeout(text: string): number | string {
  const timeoutMs = numberIn(text, 0, 60_000);
  return timeoutMs === null || !Number.isInteger(timeoutMs) ? 'Answer timeout must be a whole number of ms from 0 to 60,000' : timeoutMs;
}

/**
 * Where the engine's error about a field belongs: 'variations.M.…' is row M of the variable
 * fields, 'packets.N.…' is packet N of the stream (its variation M when named).
 */
export function engineFieldPlace(field: string | undefined): { row: number } | { entry: number; variation?: number } | null {
  if (!field) return null;
  const row = /^variations\.(\d+)(\.|$)/.exec(field);
  if (row) return { row: Number(row[1]) };
  const packet = /^packets\.(\d+)(?:\.variations\.(\d+))?(\.|$)/.exec(field);
  if (packet) return { entry: Number(packet[1]), ...(packet[2] !== undefined ? { variation: Number(packet[2]) } : {}) };
  return null;
}
