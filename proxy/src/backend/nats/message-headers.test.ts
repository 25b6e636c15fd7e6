import { describe, expect, it } from '@jest/globals';
import { headers as natsHeaders, MsgHdrsImpl } from '@nats-io/transport-node';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Message } from '../message.js';
import { decodeDelivered, decodeMessage, encodeMessage } from './message-headers.js';
import { NatsHeader, ShoalHeader } from './nats-names.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What a subscriber sees: the headers as they cross the wire (encoded, then parsed). */
function overTheWire(h: MsgHdrs | undefined): MsgHdrs | undefined {
  if (h === undefined) return undefined;
  if (!(h instanceof MsgHdrsImpl)) throw new Error('headers() returns MsgHdrsImpl');
  return MsgHdrsImpl.decode(h.encode());
}

function roundTrip(message: Message): Message {
  const encoded = encodeMessage(message);
  return decodeMessage(message.topic, encoded.payload, overTheWire(encoded.headers));
}

describe('message headers', () => {
  it('sends a bare QoS 0 message without headers', () => {
    const message: Message = { topic: 'a/b', payload: bytes('hi'), qos: 0, retain: false };
    const encoded = encodeMessage(message);
    expect(encoded.headers).toBeUndefined();
    expect(encoded.payload).toBe(message.payload);
    expect(roundTrip(message)).toEqual(message);
  });

  it('round-trips QoS, retain, expiry and origin', () => {
    for (const qos of [0, 1, 2] as const) {
      const message: Message = {
        topic: 't',
        payload: bytes('x'),
        qos,
        retain: true,
        expiresAtMs: 1_767_225_600_123,
        originClientId: 'client 1:\r\n/ü',
      };
      expect(roundTrip(message)).toEqual(message);
    }
  });

  it('round-trips every forwarded MQTT 5 property, including binary correlation data and repeated user properties', () => {
    const correlationData = new Uint8Array([0, 1, 2, 0xff, 0x0d, 0x0a, 0x20]);
    const message: Message = {
      topic: 'req/1',
      payload: new Uint8Array([0, 0xff, 0x0a]),
      qos: 1,
      retain: false,
      properties: {
        payloadFormatIndicator: true,
        contentType: ' application/json; charset=utf-8 ',
        responseTopic: 'resp/ü/1',
        correlationData,
        userProperties: { a: ['1', '2', '=3='], 'key with spaces': 'line\nbreak', ü: '', '%': '%20' },
      },
    };
    const decoded = roundTrip(message);
    expect(decoded).toEqual(message);
    expect(decoded.properties?.correlationData).toBeInstanceOf(Uint8Array);
    expect(Array.from(decoded.properties?.correlationData ?? [])).toEqual(Array.from(correlationData));
  });

  it('keeps payloadFormatIndicator false and an empty correlation data', () => {
    const message: Message = {
      topic: 't',
      payload: new Uint8Array(),
      qos: 1,
      retain: false,
      properties: { payloadFormatIndicator: false, correlationData: new Uint8Array() },
    };
    expect(roundTrip(message)).toEqual(message);
  });

  it('decodes a plain NATS message (no headers, or foreign headers only) as QoS 0, not retained', () => {
    expect(decodeMessage('a', bytes('p'), undefined)).toEqual({ topic: 'a', payload: bytes('p'), qos: 0, retain: false });
    const foreign = natsHeaders();
    foreign.set('X-Trace', 'abc');
    expect(decodeMessage('a', bytes('p'), overTheWire(foreign))).toEqual({
      topic: 'a',
      payload: bytes('p'),
      qos: 0,
      retain: false,
    });
  });

  it('ignores malformed values from foreign publishers', () => {
    const h = natsHeaders();
    h.set(ShoalHeader.QoS, '7');
    h.set(ShoalHeader.ExpiresAt, 'soon');
    h.set(ShoalHeader.ContentType, '%E0%A4%A');
    h.append(ShoalHeader.UserProperty, 'no-separator');
    expect(decodeMessage('a', bytes(''), overTheWire(h))).toEqual({ topic: 'a', payload: bytes(''), qos: 0, retain: false });
  });

  it('reads the stream sequence a re-published message carries, and the shard it came through', () => {
    const encoded = encodeMessage({ topic: 'a', payload: bytes('p'), qos: 1, retain: false });
    const h = overTheWire(encoded.headers);
    h?.set(NatsHeader.Sequence, '42');
    expect(decodeDelivered('a', encoded.payload, h, 'shard-1')).toEqual({
      topic: 'a',
      payload: bytes('p'),
      qos: 1,
      retain: false,
      shardId: 'shard-1',
      sequence: 42,
    });
    expect(decodeDelivered('a', bytes('p'), undefined, 'shard-0')).toEqual({
      topic: 'a',
      payload: bytes('p'),
      qos: 0,
      retain: false,
      shardId: 'shard-0',
    });
  });
});
