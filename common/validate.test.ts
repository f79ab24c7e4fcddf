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

/** The error validateParams throws for these parameters. */
function refusal(method: Parameters<typeof validateParams>[0], params: unknown): WorkbenchError {
  try {
    validateParams(method, params);
  } catch (error) {
    if (error instanceof WorkbenchError) return error;
    throw error;
  }
  throw new Error(`${method} accepted ${JSON.stringify(params)}`);
}

describe('validation messages name the path into the input, what was expected and what came', () => {
  const packet = (value: unknown) => refusal('send', { socketId: 's1', address: '127.0.0.1', packet: value });

  it('an unknown layer kind inside the packet union: the layer, the kind and the choices', () => {
    const error = packet({ layers: [{ kind: 'icmp' }, { kind: 'bogus' }] });
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet.layers.1.kind' });
    expect(error.message).toBe('send: packet.layers[1].kind: unknown kind "bogus" (expected one of ipv4, ipv6, icmp, icmpv6, udp, tcp, payload)');
  });

  it('the union branch the input was meant for: hex of the wrong type, a field of the wrong type', () => {
    expect(packet({ hex: 12 })).toMatchObject({ field: 'packet.hex', message: 'send: packet.hex: expected a string, got 12' });
    expect(packet({ layers: [{ kind: 'icmp', fields: { type: true } }] })).toMatchObject({
      field: 'packet.layers.0.fields.type',
      message: 'send: packet.layers[0].fields.type: expected a number or a string, got true',
    });
  });

  it('neither branch: says which keys would do', () => {
    expect(packet({})).toMatchObject({ field: 'packet', message: 'send: packet: expected an object with hex or with layers' });
    expect(packet('0800')).toMatchObject({ field: 'packet', message: 'send: packet: expected an object with hex or with layers, got "0800"' });
  });

  it('unknown keys: the key and the keys allowed there', () => {
    expect(packet({ layers: [{ kind: 'icmp', colour: 1 }] })).toMatchObject({
      field: 'packet.layers.0.colour',
      message: 'send: packet.layers[0]: unknown key "colour" (expected kind, fields, data)',
    });
    expect(refusal('capabilities', { sudo: true })).toMatchObject({ field: 'sudo', message: 'capabilities: unknown parameter "sudo" (capabilities takes none)' });
    expect(refusal('openSocket', { family: 'ipv4', protocol: 1, sudo: true }).message).toMatch(/^openSocket: unknown parameter "sudo" \(expected family, protocol, mode/);
  });

  it('numbers: bounds, whole numbers, and the value given', () => {
    expect(refusal('ping', { target: '127.0.0.1', count: 0 })).toMatchObject({ field: 'count', message: 'ping: count: must be at least 1, got 0' });
    expect(refusal('ping', { target: '127.0.0.1', ttl: 300 })).toMatchObject({ field: 'ttl', message: 'ping: ttl: must be at most 255, got 300' });
    expect(refusal('ping', { target: '127.0.0.1', count: 1.5 })).toMatchObject({ field: 'count', message: 'ping: count: must be a whole number, got 1.5' });
    expect(refusal('openSocket', { family: 'ipv4', protocol: '1' })).toMatchObject({ field: 'protocol', message: 'openSocket: protocol: expected a number, got "1"' });
    expect(refusal('send', { socketId: 's1', address: '127.0.0.1', packet: { layers: [] } })).toMatchObject({
      field: 'packet.layers',
      message: 'send: packet.layers: must have at least 1 item, got 0',
    });
  });

  it('enums, refinements and missing parameters', () => {
    expect(refusal('openSocket', { family: 'ipv5', protocol: 1 })).toMatchObject({ field: 'family', message: 'openSocket: family: unknown family "ipv5" (expected one of ipv4, ipv6)' });
    expect(refusal('ping', { target: '256.1.1.1' })).toMatchObject({ field: 'target', message: 'ping: target: must be an IPv4 or IPv6 address, got "256.1.1.1"' });
    expect(refusal('ping', {})).toMatchObject({ field: 'target', message: 'ping: target: missing (expected a string)' });
  });

  it('parameters that are not an object, and long values cut short', () => {
    expect(refusal('ping', 42).message).toBe('ping: the parameters: expected an object, got 42');
    expect(refusal('ping', { target: 'x'.repeat(500) }).message).toBe('ping: target: must be at most 100 characters long, got 500');
    const long = refusal('ping', { target: 'x'.repeat(90) }).message;
    expect(long).toBe(`ping: target: must be an IPv4 or IPv6 address, got "${'x'.repeat(40)}…"`);
  });
});
