import { describe, expect, it } from '@jest/globals';
import { parsePubAck } from './stored-publisher.js';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('parsePubAck', () => {
  it('reads stream, sequence and the duplicate flag', () => {
    expect(parsePubAck(json({ stream: 'SHOAL_MSGS', seq: 42 }))).toEqual({ stream: 'SHOAL_MSGS', seq: 42, duplicate: false });
    expect(parsePubAck(json({ stream: 'SHOAL_MSGS', seq: 42, duplicate: true, domain: 'x' }))).toEqual({
      stream: 'SHOAL_MSGS',
      seq: 42,
      duplicate: true,
    });
  });

  it('reads a slice of a larger buffer, not the whole buffer', () => {
    const whole = new TextEncoder().encode('xx{"stream":"S","seq":1}yy');
    expect(parsePubAck(whole.subarray(2, whole.length - 2))).toEqual({ stream: 'S', seq: 1, duplicate: false });
  });

  it('turns a JetStream error into an Error with its codes and description', () => {
    expect(() => parsePubAck(json({ error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' } }))).toThrow(
      'JetStream error 503/10077: maximum messages exceeded',
    );
    expect(() => parsePubAck(json({ error: 'odd' }))).toThrow('JetStream error ?/?: no description');
  });

  it('rejects what is not an acknowledgement', () => {
    expect(() => parsePubAck(new TextEncoder().encode('not json'))).toThrow('not JSON');
    expect(() => parsePubAck(json(null))).toThrow('not an object');
    expect(() => parsePubAck(json({ seq: 1 }))).toThrow('names no stream');
    expect(() => parsePubAck(json({ stream: '', seq: 1 }))).toThrow('names no stream');
    expect(() => parsePubAck(json({ stream: 'S', seq: '1' }))).toThrow('no sequence');
    expect(() => parsePubAck(json({ stream: 'S', seq: 1.5 }))).toThrow('no sequence');
  });
});
