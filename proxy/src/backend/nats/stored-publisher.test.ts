import { describe, expect, it } from '@jest/globals';
import { parsePubAck, quickPubAck } from './stored-publisher.js';

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

describe('quickPubAck', () => {
  const head = new TextEncoder().encode('{"stream":"SHOAL_MSGS","seq":');
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('reads the usual acknowledgement and a duplicate from their bytes', () => {
    expect(quickPubAck(text('{"stream":"SHOAL_MSGS","seq":42}'), head, 'SHOAL_MSGS')).toEqual({ stream: 'SHOAL_MSGS', seq: 42, duplicate: false });
    expect(quickPubAck(text('{"stream":"SHOAL_MSGS","seq":7,"duplicate":true}'), head, 'SHOAL_MSGS')).toEqual({
      stream: 'SHOAL_MSGS',
      seq: 7,
      duplicate: true,
    });
  });

  it('leaves every other shape to parsePubAck', () => {
    for (const other of [
      '{"stream":"OTHER","seq":42}',
      '{"stream":"SHOAL_MSGS","seq":42,"domain":"hub"}',
      '{"stream":"SHOAL_MSGS","seq":42,"duplicate":false}',
      '{"stream":"SHOAL_MSGS","seq":}',
      '{"stream":"SHOAL_MSGS","seq":-1}',
      '{"stream":"SHOAL_MSGS","seq":1e3}',
      '{"stream":"SHOAL_MSGS","seq":12345678901234567}',
      '{"stream":"SHOAL_MSGS","seq":42} ',
      '{"error":{"code":503,"description":"x"}}',
      '',
    ]) {
      expect({ other, ack: quickPubAck(text(other), head, 'SHOAL_MSGS') }).toEqual({ other, ack: undefined });
    }
  });
});
