import { describe, expect, it } from '@jest/globals';
import { headers as natsHeaders, MsgHdrsImpl, type MsgHdrs } from '@nats-io/transport-node';
import type { ForwardedProperties, Message } from '../message.js';
import { digitsIn, headerBlockOf, headerBlockText, headerPairs, OriginLines, readHeaderBlock } from './header-block.js';
import { decodeDelivered } from './message-headers.js';
import { ShoalHeader } from './nats-names.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const latin1 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));

const text = (s: string): string => encodeURIComponent(s);

/** The properties' headers as message-headers.ts appended them to a MsgHdrs before. */
function appendProperties(h: MsgHdrs, p: ForwardedProperties): void {
  if (p.payloadFormatIndicator !== undefined) h.append(ShoalHeader.PayloadFormat, p.payloadFormatIndicator ? '1' : '0');
  if (p.contentType !== undefined) h.append(ShoalHeader.ContentType, text(p.contentType));
  if (p.responseTopic !== undefined) h.append(ShoalHeader.ResponseTopic, text(p.responseTopic));
  if (p.correlationData !== undefined) h.append(ShoalHeader.CorrelationData, Buffer.from(p.correlationData).toString('base64'));
  for (const [key, value] of Object.entries(p.userProperties ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) h.append(ShoalHeader.UserProperty, `${text(key)}=${text(one)}`);
  }
}

/** The block as nats.js wrote it before: a MsgHdrs appended in the same order, then `set('Nats-Msg-Id')`. */
function referenceBlock(message: Message, msgId?: string): string {
  const h = natsHeaders();
  if (message.qos !== 0) h.append(ShoalHeader.QoS, String(message.qos));
  if (message.retain) h.append(ShoalHeader.Retain, '1');
  if (message.expiresAtMs !== undefined) h.append(ShoalHeader.ExpiresAt, String(Math.trunc(message.expiresAtMs)));
  if (message.originClientId !== undefined) h.append(ShoalHeader.Origin, text(message.originClientId));
  if (message.properties !== undefined) appendProperties(h, message.properties);
  if (msgId !== undefined) h.set('Nats-Msg-Id', msgId);
  if (!(h instanceof MsgHdrsImpl)) throw new Error('headers() returns MsgHdrsImpl');
  return new TextDecoder().decode(h.encode());
}

const full: Message = {
  topic: 'req/1',
  payload: bytes('p'),
  qos: 2,
  retain: true,
  expiresAtMs: 1_767_225_600_123.7,
  originClientId: 'client 1:\r\n/ü%',
  properties: {
    payloadFormatIndicator: false,
    contentType: ' application/json; charset=utf-8 ',
    responseTopic: 'resp/ü/1',
    correlationData: new Uint8Array([0, 1, 0xff, 0x0d, 0x0a]),
    userProperties: { a: ['1', '2', '=3='], 'key with spaces': 'line\nbreak', ü: '', '%': '%20' },
  },
};

describe('headerBlockText', () => {
  it('writes exactly the bytes the MsgHdrs encoding wrote, Nats-Msg-Id last', () => {
    const cases: [Message, string | undefined][] = [
      [{ topic: 't', payload: bytes(''), qos: 1, retain: false, originClientId: 'dev-1' }, 'proxy-a.17'],
      [{ topic: 't', payload: bytes(''), qos: 0, retain: false, originClientId: 'dev-1' }, undefined],
      [{ topic: 't', payload: bytes(''), qos: 0, retain: true }, undefined],
      [full, 'id-1'],
      [full, undefined],
    ];
    const origins = new OriginLines();
    for (const [message, msgId] of cases) {
      expect(headerBlockText(message, msgId)).toBe(referenceBlock(message, msgId));
      expect(headerBlockText(message, msgId, origins)).toBe(referenceBlock(message, msgId));
      expect(headerBlockText(message, msgId, origins)).toBe(referenceBlock(message, msgId)); // the cached origin line
    }
  });

  it('writes nothing for a bare QoS 0 message, and is ASCII otherwise', () => {
    expect(headerBlockText({ topic: 't', payload: bytes(''), qos: 0, retain: false })).toBeUndefined();
    const block = headerBlockText(full, 'x') ?? '';
    expect(Buffer.byteLength(block)).toBe(block.length);
  });

  it('refuses a message id a header cannot carry', () => {
    const message: Message = { topic: 't', payload: bytes(''), qos: 1, retain: false };
    expect(() => headerBlockText(message, 'a\r\nb')).toThrow('ASCII without CR or LF');
    expect(() => headerBlockText(message, 'ü')).toThrow('ASCII without CR or LF');
  });

  it('builds blocks of arbitrary pairs, refusing names and values NATS cannot carry', () => {
    expect(headerBlockOf([['X-A', ' 1 '], ['X-A', '2']])).toBe('NATS/1.0\r\nX-A: 1\r\nX-A: 2\r\n\r\n');
    expect(headerBlockOf([])).toBe('NATS/1.0\r\n\r\n');
    expect(headerPairs(headerBlockOf([['K', 'v: w']]))).toEqual([['K', 'v: w']]);
    expect(() => headerBlockOf([['a:b', 'v']])).toThrow('cannot be a header name');
    expect(() => headerBlockOf([['a b', 'v']])).toThrow('cannot be a header name');
    expect(() => headerBlockOf([['a', 'v\n']])).toThrow('without CR or LF');
  });
});

describe('readHeaderBlock and decodeDelivered on raw bytes', () => {
  it('decodes what it encodes, as the MsgHdrs path does', () => {
    const block = bytes(`${(headerBlockText(full) ?? '').slice(0, -2)}Nats-Sequence: 42\r\n\r\n`);
    const fromBytes = decodeDelivered(full.topic, full.payload, block, 'shard-1');
    expect(fromBytes).toEqual(decodeDelivered(full.topic, full.payload, MsgHdrsImpl.decode(block), 'shard-1'));
    expect(fromBytes).toEqual({ ...full, expiresAtMs: 1_767_225_600_123, shardId: 'shard-1', sequence: 42 });
  });

  it('keeps repeated user properties in order and takes the first value of a single header', () => {
    const block = headerBlockOf([
      [ShoalHeader.QoS, '1'],
      [ShoalHeader.QoS, '2'],
      [ShoalHeader.UserProperty, 'k=1'],
      [ShoalHeader.UserProperty, 'j=x'],
      [ShoalHeader.UserProperty, 'k=2'],
      [ShoalHeader.UserProperty, 'k=%E2%82%AC'],
    ]);
    expect(decodeDelivered('a', bytes(''), bytes(block), 's')).toEqual({
      topic: 'a',
      payload: bytes(''),
      qos: 1,
      retain: false,
      shardId: 's',
      properties: { userProperties: { k: ['1', '2', '€'], j: 'x' } },
    });
  });

  it('ignores foreign headers and differently cased keys, and reads a status line', () => {
    const block = bytes('NATS/1.0 503 No Responders\r\nX-Trace: abc\r\nshoal-qos: 1\r\nNats-Msg-Id: 7\r\nShoal-Retain: 1\r\n\r\n');
    expect(readHeaderBlock(block)).toEqual({ retain: '1' });
  });

  it('reads raw UTF-8 values from foreign publishers, trimmed, like MsgHdrsImpl.decode', () => {
    const block = bytes('NATS/1.0\r\nShoal-Content-Type:   text/ü €  \r\nShoal-Origin:\tdev\t\r\nShoal-Qos: 1\r\n\r\n');
    const expected = decodeDelivered('a', bytes(''), MsgHdrsImpl.decode(block), 's');
    expect(decodeDelivered('a', bytes(''), block, 's')).toEqual(expected);
    expect(expected.properties?.contentType).toBe('text/ü €');
    expect(expected.originClientId).toBe('dev');
  });

  it('survives malformed blocks: no final CRLF, lines without a colon, bare CR, empty keys and values', () => {
    const cases = [
      'NATS/1.0\r\nShoal-Qos: 1',
      'NATS/1.0\r\nShoal-Qos 1\r\nShoal-Retain: 1\r\n\r\n',
      'NATS/1.0\r\n: x\r\nShoal-Qos:\r\nShoal-Expires-At: soon\r\nShoal-Content-Type: %E0%A4%A\r\n\r\n',
      'NATS/1.0\r\nNats-Sequence: 12x\r\nShoal-User-Property: no-separator\r\n',
      'NATS/1.0\r\nNats-Sequence: -3\r\n',
      'NATS/1.0',
      '',
      '\r\n',
      'garbage\r\n\r\n\r\n',
    ];
    for (const text of cases) {
      const block = latin1(text);
      const fromBytes = decodeDelivered('a', bytes(''), block, 's');
      expect({ text, decoded: fromBytes }).toEqual({ text, decoded: decodeDelivered('a', bytes(''), MsgHdrsImpl.decode(block), 's') });
    }
    // nats.js refuses a value with a bare CR (the message was dropped); the line is read up to its CRLF
    const bareCr = latin1('NATS/1.0\r\nShoal-Origin: a\rb\r\nShoal-Qos: 2\r\n');
    expect(() => MsgHdrsImpl.decode(bareCr)).toThrow();
    expect(decodeDelivered('a', bytes(''), bareCr, 's')).toMatchObject({ qos: 2, originClientId: 'a\rb' });
  });

  it('decodes random blocks as the MsgHdrs path does', () => {
    const parts = ['Shoal-Qos', 'Shoal-Origin', 'Nats-Sequence', 'Shoal-User-Property', ':', ' ', '\r\n', '\r', '1', '%41', '=', 'x'];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let run = 0; run < 2_000; run++) {
      let text = 'NATS/1.0\r\n';
      for (let i = random(12); i > 0; i--) text += parts[random(parts.length)] ?? '';
      const block = latin1(text);
      let expected: unknown;
      try {
        expected = decodeDelivered('a', bytes(''), MsgHdrsImpl.decode(block), 's');
      } catch {
        continue; // a key nats.js refuses: that message was dropped before; now it decodes
      }
      expect({ text, decoded: decodeDelivered('a', bytes(''), block, 's') }).toEqual({ text, decoded: expected });
    }
  });

  it('reads a block that is a slice of a larger buffer', () => {
    const whole = bytes('xxNATS/1.0\r\nShoal-Qos: 2\r\n\r\nPAYLOAD');
    expect(readHeaderBlock(whole.subarray(2, whole.length - 7))).toEqual({ qos: '2' });
  });
});

describe('digitsIn', () => {
  it('reads digits only, at most 15 of them', () => {
    const b = bytes('x12345y');
    expect(digitsIn(b, 1, 6)).toBe(12_345);
    expect(digitsIn(b, 1, 7)).toBeUndefined();
    expect(digitsIn(b, 3, 3)).toBeUndefined();
    expect(digitsIn(bytes('9'.repeat(15)), 0, 15)).toBe(999_999_999_999_999);
    expect(digitsIn(bytes('1'.repeat(16)), 0, 16)).toBeUndefined();
  });
});
