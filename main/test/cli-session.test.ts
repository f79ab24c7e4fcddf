// EngineSession.call goes through dispatchCall, the one gate every transport uses:
// same method check, same validation, same errors (then named after the CLI's flags).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MethodName } from '../../common/contract';

const seen = vi.hoisted(() => ({ calls: [] as unknown[][] }));

vi.mock('../engine/dispatch', async (importOriginal) => {
  const real = await importOriginal<typeof import('../engine/dispatch')>();
  return {
    ...real,
    dispatchCall: (...args: Parameters<typeof real.dispatchCall>) => {
      seen.calls.push(args.slice(1));
      return real.dispatchCall(...args);
    },
  };
});

const { EngineSession } = await import('../cli/session');
const { CliError, EXIT_USAGE } = await import('../cli/errors');

describe('EngineSession.call', () => {
  let session: InstanceType<typeof EngineSession> | null = null;
  afterEach(async () => {
    await session?.close();
    session = null;
    seen.calls = [];
  });

  it('dispatches through dispatchCall', async () => {
    session = new EngineSession();
    const page = await session.call('queryLog', {});
    expect(page).toMatchObject({ total: 0, rows: [] });
    expect(seen.calls).toEqual([['queryLog', {}]]);
  });

  it("refuses an unknown method with dispatchCall's UNKNOWN_METHOD", async () => {
    session = new EngineSession();
    const error = await session.call('nosuch' as MethodName, {} as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'UNKNOWN_METHOD' });
    expect((error as Error).message).toContain('nosuch');
  });

  it('names the flag of an invalid parameter', async () => {
    session = new EngineSession();
    const error = await session.call('queryLog', { limit: 0 }, { limit: { flag: '-n' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: EXIT_USAGE, code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toMatch(/^-n: /);
  });
});
