import { describe, expect, it } from '@jest/globals';
import type { QoS } from '../backend/message.js';
import { ManualClock } from '../test-support/protocol-harness.js';
import { OutboundFlow, type DropReason, type OutboundMessage, type OutboundSender, type SendResult } from './outbound-flow.js';

interface Sent {
  readonly kind: 'publish' | 'pubrel';
  readonly topic?: string;
  readonly packetId?: number;
  readonly dup?: boolean;
  readonly expiry?: number;
}

/** Records what the flow writes; `writable` and too-large topics are set by the test. */
class RecordingSender implements OutboundSender {
  writable = true;
  readonly sent: Sent[] = [];
  readonly tooLarge = new Set<string>();

  publish(message: OutboundMessage, packetId: number | undefined, dup: boolean, expiry?: number): SendResult {
    if (this.tooLarge.has(message.topic)) return 'too-large';
    this.sent.push({
      kind: 'publish',
      topic: message.topic,
      ...(packetId === undefined ? {} : { packetId }),
      dup,
      ...(expiry === undefined ? {} : { expiry }),
    });
    return 'sent';
  }

  pubrel(packetId: number): SendResult {
    this.sent.push({ kind: 'pubrel', packetId });
    return 'sent';
  }

  topics(): (string | undefined)[] {
    return this.sent.map((s) => s.topic);
  }
}

function msg(topic: string, qos: QoS, extra: Partial<OutboundMessage> = {}): OutboundMessage {
  return { topic, payload: Buffer.from(topic), qos, retain: false, ...extra };
}

function setup(options: { inflightMax?: number; queueMax?: number; clientMax?: number } = {}) {
  const clock = new ManualClock();
  const drops: [DropReason, QoS][] = [];
  const flow = new OutboundFlow({
    inflightMax: options.inflightMax ?? 10,
    queueMax: options.queueMax ?? 10,
    clock,
    onDrop: (reason, qos) => drops.push([reason, qos]),
  });
  const sender = new RecordingSender();
  flow.attach(sender, options.clientMax ?? 65_535);
  return { clock, drops, flow, sender };
}

describe('OutboundFlow: sending and the in-flight window', () => {
  it('sends a QoS 0 message at once, without a packet identifier and with DUP 0 [MQTT-4.3.1-1]', () => {
    const { flow, sender } = setup();
    flow.push(msg('a', 0));
    expect(sender.sent).toEqual([{ kind: 'publish', topic: 'a', dup: false }]);
    expect(flow.inflightCount).toBe(0);
  });

  it.each([1, 2] as const)('gives each QoS %i message an unused non-zero packet identifier and DUP 0 [MQTT-2.2.1-4]', (qos) => {
    const { flow, sender } = setup();
    flow.push(msg('a', qos));
    flow.push(msg('b', qos));
    const ids = sender.sent.map((s) => s.packetId);
    expect(ids.every((id) => id !== undefined && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(2);
    expect(sender.sent.every((s) => s.dup === false)).toBe(true);
    expect(flow.inflightCount).toBe(2);
  });

  it("keeps at most the client's Receive Maximum of QoS 1/2 messages unacknowledged [MQTT-3.3.4-9]", () => {
    const { flow, sender } = setup({ clientMax: 2 });
    for (const topic of ['a', 'b', 'c']) flow.push(msg(topic, 1));
    expect(sender.topics()).toEqual(['a', 'b']);
    expect(flow.queuedCount).toBe(1);
    expect(flow.acknowledge(sender.sent[0]?.packetId ?? 0)).toBe(true);
    expect(sender.topics()).toEqual(['a', 'b', 'c']);
  });

  it("bounds the window by the server's own maximum when the client allows more", () => {
    const { flow, sender } = setup({ inflightMax: 1, clientMax: 100 });
    flow.push(msg('a', 2));
    flow.push(msg('b', 2));
    expect(sender.topics()).toEqual(['a']);
  });

  it('does not count QoS 0 messages against the window, but keeps them behind queued ones (in order) [MQTT-4.9.0-2]', () => {
    const { flow, sender } = setup({ clientMax: 1 });
    flow.push(msg('q0-first', 0)); // nothing queued: straight out
    flow.push(msg('a', 1));
    flow.push(msg('b', 1)); // window full: queued
    flow.push(msg('q0-after', 0)); // behind b
    expect(sender.topics()).toEqual(['q0-first', 'a']);
    flow.acknowledge(sender.sent[1]?.packetId ?? 0);
    expect(sender.topics()).toEqual(['q0-first', 'a', 'b', 'q0-after']);
  });

  it('queues while the socket is not writable and sends in order when pumped after a drain', () => {
    const { flow, sender } = setup();
    sender.writable = false;
    flow.push(msg('a', 0));
    flow.push(msg('b', 1));
    expect(sender.sent).toEqual([]);
    sender.writable = true;
    flow.pump();
    expect(sender.topics()).toEqual(['a', 'b']);
  });

  it('reuses a packet identifier only after its flow completed [MQTT-2.2.1-4]', () => {
    const { flow, sender } = setup({ clientMax: 65_535 });
    flow.push(msg('a', 1));
    const first = sender.sent[0]?.packetId ?? 0;
    flow.push(msg('b', 1));
    expect(sender.sent[1]?.packetId).not.toBe(first);
    flow.acknowledge(first);
    expect(flow.inflightCount).toBe(1);
  });
});

describe('OutboundFlow: the bounded queue', () => {
  it('evicts the oldest queued QoS 0 message to make room for a new one, counting it as queue_full', () => {
    const { flow, sender, drops } = setup({ clientMax: 1, queueMax: 2 });
    flow.push(msg('inflight', 1));
    flow.push(msg('c', 1)); // queued
    flow.push(msg('b-qos0', 0)); // queued behind c
    flow.push(msg('d', 1)); // queue full: b-qos0 goes
    expect(drops).toEqual([['queue_full', 0]]);
    flow.acknowledge(sender.sent[0]?.packetId ?? 0);
    flow.acknowledge(sender.sent[1]?.packetId ?? 0);
    expect(sender.topics()).toEqual(['inflight', 'c', 'd']);
  });

  it('drops the new message itself when the queue holds only QoS 1/2 messages', () => {
    const { flow, drops } = setup({ clientMax: 1, queueMax: 1 });
    flow.push(msg('inflight', 1));
    flow.push(msg('queued', 2));
    flow.push(msg('late-qos1', 1));
    flow.push(msg('late-qos0', 0));
    expect(drops).toEqual([
      ['queue_full', 1],
      ['queue_full', 0],
    ]);
    expect(flow.queuedCount).toBe(1);
  });
});

describe('OutboundFlow: acknowledgements', () => {
  it('completes a QoS 1 flow on PUBACK and ignores an unknown or QoS 2 identifier', () => {
    const { flow, sender } = setup();
    flow.push(msg('one', 1));
    flow.push(msg('two', 2));
    const [one, two] = sender.sent.map((s) => s.packetId ?? 0);
    expect(flow.acknowledge(999)).toBe(false);
    expect(flow.acknowledge(two ?? 0)).toBe(false);
    expect(flow.acknowledge(one ?? 0)).toBe(true);
    expect(flow.acknowledge(one ?? 0)).toBe(false);
    expect(flow.inflightCount).toBe(1);
  });

  it('answers PUBREC with PUBREL and completes only on PUBCOMP [MQTT-4.3.3-4] [MQTT-4.3.3-5]', () => {
    const { flow, sender } = setup();
    flow.push(msg('two', 2));
    const id = sender.sent[0]?.packetId ?? 0;
    expect(flow.completed(id)).toBe(false); // PUBCOMP before PUBREC is not the flow's
    expect(flow.received(id, false)).toBe(true);
    expect(sender.sent[1]).toEqual({ kind: 'pubrel', packetId: id });
    expect(flow.inflightCount).toBe(1);
    expect(flow.completed(id)).toBe(true);
    expect(flow.inflightCount).toBe(0);
  });

  it('ends a QoS 2 flow on a PUBREC with a failure code, without PUBREL [MQTT-4.4.0-2]', () => {
    const { flow, sender } = setup();
    flow.push(msg('two', 2));
    const id = sender.sent[0]?.packetId ?? 0;
    expect(flow.received(id, true)).toBe(true);
    expect(sender.sent.filter((s) => s.kind === 'pubrel')).toEqual([]);
    expect(flow.inflightCount).toBe(0);
  });

  it('ignores PUBREC for a QoS 1 or unknown identifier', () => {
    const { flow, sender } = setup();
    flow.push(msg('one', 1));
    expect(flow.received(sender.sent[0]?.packetId ?? 0, false)).toBe(false);
    expect(flow.received(4242, false)).toBe(false);
  });
});

describe('OutboundFlow: expiry and size', () => {
  it('drops a message whose expiry passed while it was queued [MQTT-3.3.2-5]', () => {
    const { clock, flow, sender, drops } = setup({ clientMax: 1 });
    flow.push(msg('inflight', 1));
    flow.push(msg('short', 1, { expiresAtMs: clock.now() + 5_000 }));
    clock.advance(5_000);
    flow.acknowledge(sender.sent[0]?.packetId ?? 0);
    expect(sender.topics()).toEqual(['inflight']);
    expect(drops).toEqual([['expired', 1]]);
    expect(flow.inflightCount).toBe(0);
  });

  it('sends the remaining expiry interval, rounded up to whole seconds [MQTT-3.3.2-6]', () => {
    const { clock, flow, sender } = setup({ clientMax: 1 });
    flow.push(msg('inflight', 1));
    flow.push(msg('later', 1, { expiresAtMs: clock.now() + 10_000 }));
    clock.advance(3_500);
    flow.acknowledge(sender.sent[0]?.packetId ?? 0);
    expect(sender.sent[1]).toMatchObject({ topic: 'later', expiry: 7 });
  });

  it('discards a message above the client Maximum Packet Size as if it were delivered [MQTT-3.1.2-28]', () => {
    const { flow, sender, drops } = setup({ clientMax: 1 });
    sender.tooLarge.add('big');
    flow.push(msg('big', 1));
    flow.push(msg('small', 1));
    expect(drops).toEqual([['too_large', 1]]);
    expect(sender.topics()).toEqual(['small']);
    expect(flow.inflightCount).toBe(1);
  });
});

describe('OutboundFlow: sessions across connections', () => {
  it('snapshots unacknowledged messages with their identifiers and whether PUBREL was sent', () => {
    const { flow, sender } = setup();
    flow.push(msg('one', 1));
    flow.push(msg('two', 2));
    const twoId = sender.sent[1]?.packetId ?? 0;
    flow.received(twoId, false);
    expect(flow.snapshot().map((r) => [r.message.topic, r.released])).toEqual([
      ['one', false],
      ['two', true],
    ]);
  });

  it('re-sends unacknowledged PUBLISHes with DUP 1 and their original identifiers, and PUBREL for released ones, on attach [MQTT-4.4.0-1] [MQTT-4.3.3-6]', () => {
    const first = setup();
    first.flow.push(msg('one', 1));
    first.flow.push(msg('two', 2));
    first.flow.push(msg('three', 2));
    const ids = first.sender.sent.map((s) => s.packetId ?? 0);
    first.flow.received(ids[2] ?? 0, false);
    const records = first.flow.snapshot();

    const { flow } = setup();
    flow.detach();
    flow.restore(records);
    const sender = new RecordingSender();
    flow.attach(sender, 10);
    expect(sender.sent).toEqual([
      { kind: 'publish', topic: 'one', packetId: ids[0], dup: true },
      { kind: 'publish', topic: 'two', packetId: ids[1], dup: true },
      { kind: 'pubrel', packetId: ids[2] },
    ]);
  });

  it('keeps restored identifiers reserved: new messages get other ones [MQTT-2.2.1-4]', () => {
    const { flow } = setup();
    flow.detach();
    flow.restore([{ packetId: 1, message: msg('old', 1), released: false }]);
    const sender = new RecordingSender();
    flow.attach(sender, 10);
    flow.push(msg('new', 1));
    expect(sender.sent.map((s) => s.packetId)).toEqual([1, 2]);
  });

  it('re-sends an unacknowledged message whose expiry passed meanwhile: its delivery had started [MQTT-3.3.2-5] [MQTT-4.3.3-7]', () => {
    const { clock, flow } = setup();
    flow.detach();
    flow.restore([{ packetId: 7, message: msg('old', 2, { expiresAtMs: clock.now() + 1_000 }), released: false }]);
    clock.advance(60_000);
    const sender = new RecordingSender();
    flow.attach(sender, 10);
    expect(sender.sent).toEqual([{ kind: 'publish', topic: 'old', packetId: 7, dup: true, expiry: 1 }]);
  });

  it('completes a re-sent message that is now above the client Maximum Packet Size, freeing its slot [MQTT-3.1.2-28]', () => {
    const { flow, drops } = setup();
    flow.detach();
    flow.restore([{ packetId: 3, message: msg('big', 1), released: false }]);
    const sender = new RecordingSender();
    sender.tooLarge.add('big');
    flow.attach(sender, 1);
    expect(drops).toEqual([['too_large', 1]]);
    expect(flow.inflightCount).toBe(0);
    flow.push(msg('next', 1));
    expect(sender.topics()).toEqual(['next']);
  });

  it('drops queued QoS 0 messages on detach, keeps QoS 1/2 ones and sends them on the next attach', () => {
    const { flow, drops } = setup({ clientMax: 1 });
    flow.push(msg('inflight', 1));
    flow.push(msg('q0', 0));
    flow.push(msg('q1', 1));
    flow.detach();
    flow.push(msg('while-away', 2));
    expect(flow.queuedCount).toBe(2);
    expect(drops).toEqual([]);
    const sender = new RecordingSender();
    flow.attach(sender, 10);
    expect(sender.topics()).toEqual(['inflight', 'q1', 'while-away']);
    expect(sender.sent[0]?.dup).toBe(true);
  });
});
