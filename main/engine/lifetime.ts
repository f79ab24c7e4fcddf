// Whether the workbench is closed. Every part of the engine checks it, also after an
// await: close() may have run meanwhile, and nothing may start after it.
import { WorkbenchError } from '../../common/validate';

export class Lifetime {
  private ended = false;

  get closed(): boolean {
    return this.ended;
  }

  end(): void {
    this.ended = true;
  }

  /** Throws CLOSED once the workbench is closed. */
  alive(): void {
    if (this.ended) throw new WorkbenchError('CLOSED', 'The workbench is closed');
  }
}
