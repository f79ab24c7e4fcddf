import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../../common/validate';
import { browserHostApiUrl, clientFromBridge, type WorkbenchClient } from './client';

describe('browserHostApiUrl', () => {
  it('carries the page token to the API endpoint of the same host', () => {
    expect(browserHostApiUrl({ protocol: 'http:', host: '127.0.0.1:4321', search: '?token=a+b/c' })).toBe(
      'ws://127.0.0.1:4321/api?token=a%20b%2Fc',
    );
    expect(browserHostApiUrl({ protocol: 'https:', host: 'h:1', search: '?x=1&token=t' })).toBe('wss://h:1/api?token=t');
  });
  it('says what to do when the token is missing', () => {
    expect(() => browserHostApiUrl({ protocol: 'http:', host: 'h', search: '' })).toThrow(/URL the workbench printed/);
  });
});

describe('clientFromBridge', () => {
  it('turns the preload bridge’s plain error objects into WorkbenchErrors with code and field', async () => {
    const bridge = {
      onEvents: () => () => undefined,
      capabilities: () => Promise.reject({ name: 'WorkbenchError', code: 'INVALID_ARGUMENT', message: 'send: address: bad', field: 'address' }),
    } as unknown as WorkbenchClient;
    const client = clientFromBridge(bridge);
    const error = await client.capabilities({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'address', message: 'send: address: bad' });
  });
});
