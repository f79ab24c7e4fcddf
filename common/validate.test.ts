import { describe, expect, it } from 'vitest';
import { validateParams, WorkbenchError } from './validate';

describe('validateParams', () => {
  it('fills defaults and passes valid parameters', () => {
    expect(validateParams('ping', { target: '127.0.0.1' })).toMatchObject({ target: '127.0.0.1', count: 4, ttl: 64 });
  });

  it('names the field at fault', () => {
    const error = (() => {
      try {
        validateParams('send', { socketId: 's1', address: '256.1.1.1', packet: { hex: '00' } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'address' });
  });

  it('names an unknown key as the field', () => {
    expect(() => validateParams('capabilities', { sudo: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'sudo' }),
    );
  });
});
