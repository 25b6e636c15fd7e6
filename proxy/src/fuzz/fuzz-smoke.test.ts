// The CI smoke of `make fuzz` (bench/fuzz.ts): a few thousand generated hostile inputs (fuzz-inputs.ts) through the
// in-process proxy core, one connection each. Every input must leave the connection usable (a PINGREQ after it is
// answered) or closed within the bound, with no exception escaping (jest fails the test on an uncaught one) and
// nothing logged at level error. fast-check shrinks a failure to a minimal input and prints its seed.
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FuzzDriver, padding } from '../test-support/fuzz-driver.js';
import { encode, frameStarts, fuzzInput } from '../test-support/fuzz-inputs.js';

const RUNS = 3_000;
const driver = new FuzzDriver({ boundMs: 2_000 });
afterAll(async () => driver.close());

describe('fuzz smoke', () => {
  it(`${RUNS} generated inputs end answered or closed, with no error`, async () => {
    const seen = { answered: 0, closed: 0 };
    await fc.assert(
      fc.asyncProperty(fuzzInput, async (input) => {
        const errorsBefore = driver.errorLogs.length;
        const { outcome } = await driver.run(input);
        if (outcome === 'answered' || outcome === 'closed') seen[outcome] += 1;
        expect(['answered', 'closed', 'incomplete']).toContain(outcome);
        expect(driver.errorLogs.slice(errorsBefore)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    // the generators reach past the decoder: many inputs are handled and answered, many refused
    expect(seen.answered).toBeGreaterThan(RUNS / 20);
    expect(seen.closed).toBeGreaterThan(RUNS / 4);
  }, 60_000);
});

describe('fuzz helpers', () => {
  it('encodes packets of every type at both versions', () => {
    expect([...encode({ cmd: 'pingreq' }, 4)]).toEqual([0xc0, 0x00]);
    const v5 = encode({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 'a' } }, 5);
    const v4 = encode({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 'a' } }, 4);
    expect(v5.length).toBeGreaterThan(v4.length);
    // an empty SUBSCRIBE, which mqtt-packet refuses to encode, becomes its bare fixed header
    expect([...encode({ cmd: 'subscribe', messageId: 1, subscriptions: [] }, 4)]).toEqual([0x80, 0x00]);
  });

  it('finds frame boundaries and the padding that completes a cut packet', () => {
    const stream = Uint8Array.of(0xc0, 0x00, 0x30, 0x03, 0x00, 0x01, 0x74);
    expect(frameStarts(stream)).toEqual([0, 2]);
    expect(padding([stream], 1024)).toEqual(new Uint8Array(0));
    expect(padding([stream.subarray(0, 5)], 1024)).toEqual(new Uint8Array(2));
    expect(padding([Uint8Array.of(0x30)], 1024)).toEqual(new Uint8Array(1)); // a 0x00 Remaining Length
    expect(padding([Uint8Array.of(0x30, 0xff, 0x7f)], 1024)).toEqual(new Uint8Array(0)); // over the limit: closed anyway
    expect(padding([Uint8Array.of(0x30, 0xff, 0x7f)], 1 << 20)).toHaveLength(16_383); // 16 KB missing is padded
    expect(padding([Uint8Array.of(0x30, 0xff, 0xff, 0x7f)], 1 << 22)).toBeUndefined(); // 2 MB is not
  });
});
