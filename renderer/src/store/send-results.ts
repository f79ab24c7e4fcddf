// A send-and-match job's results (Scapy's sr()): a page at a time for the view, all of them
// for an export (pcapng of the requests and replies, or CSV built here).
import type { SendResults } from '../../../common/contract';
import { errorText } from '../api/client';
import { exportCaptureFile } from '../../../common/capture-transfer';
import { resultsCsv } from '../model/results-csv';
import type { ResultsView, SendSlice } from './send';
import { FINAL_STATES } from './send-params';
import type { StoreServices, WorkbenchState } from './types';

export const RESULTS_PAGE = 100;
/** Export reads the results in pages this large (the contract's largest). */
const EXPORT_PAGE = 100_000;

type ResultsActions = Pick<SendSlice['send'], 'showResults' | 'closeResults' | 'exportResults'>;

export function resultsActions(
  { client, saveFile }: Pick<StoreServices, 'client' | 'saveFile'>,
  get: () => WorkbenchState,
  patch: (part: Partial<SendSlice['send']>) => void,
): ResultsActions {
  return {
  async showResults(jobId, offset = 0) {
    const current = get().send.results;
    const keep = current?.jobId === jobId ? current.page : null;
    patch({ results: { jobId, page: keep, offset, loading: true, message: null } });
    const update = (part: Partial<ResultsView>) => {
      const now = get().send.results;
      if (now?.jobId === jobId) patch({ results: { ...now, ...part } });
    };
    try {
      let page = await client.sendResults({ jobId, offset, limit: RESULTS_PAGE });
      // The job ended while this page was read: read it again, final.
      const job = get().send.jobs.find((candidate) => candidate.jobId === jobId);
      if (!page.final && job && FINAL_STATES.has(job.state)) page = await client.sendResults({ jobId, offset, limit: RESULTS_PAGE });
      update({ page, offset, loading: false });
    } catch (error) {
      update({ loading: false, message: { kind: 'error', text: `Cannot read the results of ${jobId}: ${errorText(error)}` } });
    }
  },
  closeResults() {
    patch({ results: null });
  },
  async exportResults(format) {
    const results = get().send.results;
    if (!results) return;
    const { jobId } = results;
    const say = (kind: 'info' | 'error', text: string) => {
      const now = get().send.results;
      if (now?.jobId === jobId) patch({ results: { ...now, message: { kind, text } } });
    };
    try {
      let answered: SendResults['answered'] = [];
      let unanswered: SendResults['unanswered'] = [];
      for (let offset = 0; ; offset += EXPORT_PAGE) {
        const page = await client.sendResults({ jobId, offset, limit: EXPORT_PAGE });
        answered = answered.concat(page.answered);
        unanswered = unanswered.concat(page.unanswered);
        if (offset + EXPORT_PAGE >= Math.max(page.answeredTotal, page.unansweredTotal)) break;
      }
      if (format === 'csv') {
        saveFile(`${jobId}-results.csv`, 'text/csv', resultsCsv(answered, unanswered));
        say('info', `Exported ${answered.length + unanswered.length} requests to CSV`);
        return;
      }
      const ids = [...new Set([...answered.flatMap((pair) => [pair.requestId, pair.replyId]), ...unanswered.map((request) => request.requestId)])].sort((a, b) => a - b);
      if (ids.length === 0) {
        say('error', 'Nothing to export: the job sent no packet');
        return;
      }
      // In pieces (common/capture-transfer.ts): a long job's packets pass exportPcapng's 8 MiB.
      const exported = await exportCaptureFile(client, { ids });
      saveFile(`${jobId}-results.pcapng`, 'application/x-pcapng', exported.bytes);
      say('info', `Exported ${exported.count} packet${exported.count === 1 ? '' : 's'} to pcapng`);
    } catch (error) {
      say('error', `Export failed: ${errorText(error)}`);
    }
  },
  };
}
