// QoS ≥ 1 publishes into a stream on one shard connection, without a JetStream request per message.
// Each publish is a core `PUB` with a reply subject `<inbox>.<token>`; ONE wildcard subscription
// (`<inbox>.*`) receives every acknowledgement, matched to its pending publish by token. Publishes of one
// event-loop turn go out together (one socket write), and ONE timer, armed for the oldest pending
// publish, expires what JetStream did not acknowledge in time. The semantics are js.publish's: the
// promise resolves only on the stream's acknowledgement, names the stream that stored the message, and
// rejects on a JetStream error, a no-responders status, a timeout, or a closed connection.
//
// The frames go out through NatsWire (nats-wire.ts), the header block already made (header-block.ts, with the
// `Nats-Msg-Id`); tokens are numbers, read back from the reply subject's bytes, and the usual acknowledgement
// `{"stream":"<stream>","seq":<n>}` is read from its bytes (anything else goes through JSON.parse).
import type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';
import { createInbox } from '@nats-io/transport-node';
import { digitsIn, type HeaderBlock } from './header-block.js';
import { NatsWire } from './nats-wire.js';
import { asBuffer } from '../../bytes.js';

/** What JetStream answers to a stored publish. */
export interface StoredAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/**
 * Parses a PubAck (`{"stream":…,"seq":…,"duplicate":…}` or `{"error":{"code":…,"description":…}}`);
 * throws an Error saying what was wrong.
 */
export function parsePubAck(data: Uint8Array): StoredAck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(asBuffer(data).toString('utf8'));
  } catch {
    throw new Error('the acknowledgement is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('the acknowledgement is not an object');
  const ack = parsed as { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: unknown };
  if (ack.error !== undefined) {
    const error = (typeof ack.error === 'object' && ack.error !== null ? ack.error : {}) as {
      code?: unknown;
      err_code?: unknown;
      description?: unknown;
    };
    const description = typeof error.description === 'string' ? error.description : 'no description';
    const code = typeof error.code === 'number' ? error.code : '?';
    const errCode = typeof error.err_code === 'number' ? error.err_code : '?';
    throw new Error(`JetStream error ${code}/${errCode}: ${description}`);
  }
  if (typeof ack.stream !== 'string' || ack.stream === '') throw new Error('the acknowledgement names no stream');
  if (typeof ack.seq !== 'number' || !Number.isSafeInteger(ack.seq)) throw new Error('the acknowledgement has no sequence');
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
}

export interface StoredPublisherOptions {
  /** The shard connection; the publisher subscribes to its own inbox on it at construction. */
  readonly nc: NatsConnection;
  /** The stream every acknowledgement must name. */
  readonly stream: string;
  /** How long a publish waits for its acknowledgement. */
  readonly timeoutMs: number;
  /** A monotonic millisecond clock; performance.now when absent. */
  readonly now?: () => number;
  /** Publish through the public nats.js API only (tests compare both paths). */
  readonly publicApi?: boolean;
  /** The connection's NatsWire, shared with other publishing on it (one batch per turn); made when absent. */
  readonly wire?: NatsWire;
}

/**
 * Reads `{"stream":"<stream>","seq":<digits>}` (optionally `,"duplicate":true` before the brace) from the bytes
 * of an acknowledgement; undefined for any other shape.
 */
export function quickPubAck(data: Uint8Array, expected: Uint8Array, stream: string): StoredAck | undefined {
  const n = data.length;
  const head = expected.length;
  if (n < head + 2 || n > head + 40 || data[n - 1] !== 0x7d) return undefined;
  for (let i = 0; i < head; i++) if (data[i] !== expected[i]) return undefined;
  const seq = digitsIn(data, head, n - 1);
  if (seq !== undefined) return { stream, seq, duplicate: false };
  const tail = n - DUPLICATE_TAIL.length;
  const duplicateSeq = DUPLICATE_TAIL.compare(data, tail, n) === 0 ? digitsIn(data, head, tail) : undefined;
  return duplicateSeq === undefined ? undefined : { stream, seq: duplicateSeq, duplicate: true };
}

const DUPLICATE_TAIL = Buffer.from(',"duplicate":true}', 'latin1');

/** A publish waiting to be written (in `queued`) and for its acknowledgement (in `pending`). */
interface Pending {
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly block: HeaderBlock;
  readonly token: number;
  readonly deadline: number;
  resolve: (ack: StoredAck) => void;
  reject: (error: Error) => void;
}

const unset = (): void => undefined;

/** Stored publishes on one connection; see the module comment. */
export class StoredPublisher {
  private readonly nc: NatsConnection;
  private readonly wire: NatsWire;
  private readonly prefix: string;
  /** `{"stream":"<stream>","seq":` */
  private readonly ackHead: Uint8Array;
  private readonly sub: Subscription;
  private readonly now: () => number;
  /** In publish order, hence in deadline order (the timeout is constant). */
  private readonly pending = new Map<number, Pending>();
  private queued: Pending[] = [];
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private nextToken = 0;
  private closedReason: string | undefined;

  constructor(private readonly options: StoredPublisherOptions) {
    this.nc = options.nc;
    this.wire = options.wire ?? new NatsWire(options.nc, options.publicApi === true ? { publicApi: true } : {});
    this.ackHead = Buffer.from(`{"stream":${JSON.stringify(options.stream)},"seq":`, 'utf8');
    this.now = options.now ?? (() => performance.now());
    const inbox = createInbox();
    this.prefix = `${inbox}.`;
    this.sub = this.nc.subscribe(`${inbox}.*`, { callback: (error, msg) => this.onReply(error, msg) });
    void this.sub.closed.then(
      () => this.close('the shard connection closed'),
      () => this.close('the shard connection closed'),
    );
  }

  /** True once close() ran (or the connection closed): make a new publisher for a new connection. */
  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Number of publishes waiting for their acknowledgement. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** True when frames are written directly (see nats-wire.ts). */
  get fast(): boolean {
    return this.wire.fast;
  }

  /** Stores `payload` under `subject` with the header block (headerBlockText, `Nats-Msg-Id` included). */
  publish(subject: string, payload: Uint8Array, block: HeaderBlock): Promise<StoredAck> {
    if (this.closedReason !== undefined) return Promise.reject(new Error(this.closedReason));
    const token = this.nextToken++;
    const p: Pending = { subject, payload, block, token, deadline: this.now() + this.options.timeoutMs, resolve: unset, reject: unset };
    return new Promise<StoredAck>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
      this.pending.set(token, p);
      this.queued.push(p);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
      this.timer ??= this.arm(this.options.timeoutMs);
    });
  }

  /** Rejects everything pending and stops listening; publishing afterwards fails at once. */
  close(reason = 'the publisher is closed'): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queued = [];
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new Error(reason));
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }

  /** Writes the publishes of this event-loop turn; nats.js sends them in one write. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queued;
    this.queued = [];
    for (const q of batch) {
      try {
        this.wire.publish(q.subject, q.payload, q.block, this.prefix + String(q.token));
      } catch (error) {
        this.settle(q.token)?.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private settle(token: number | undefined): Pending | undefined {
    if (token === undefined) return undefined;
    const p = this.pending.get(token);
    if (p !== undefined) this.pending.delete(token);
    return p;
  }

  private onReply(error: Error | null, msg: Msg): void {
    if (error !== null) return; // the subscription ends; `closed` settles what is pending
    const p = this.settle(this.wire.tokenAfter(msg, this.prefix));
    if (p === undefined) return; // late: it already timed out
    if (msg.data.length === 0) {
      const code = msg.headers?.code ?? 0;
      p.reject(new Error(code === 503 ? 'no responders: no stream stores the subject' : `status ${code} ${msg.headers?.description ?? ''}`));
      return;
    }
    const quick = quickPubAck(msg.data, this.ackHead, this.options.stream);
    if (quick !== undefined) {
      p.resolve(quick);
      return;
    }
    try {
      const ack = parsePubAck(msg.data);
      if (ack.stream !== this.options.stream) throw new Error(`stored by stream ${ack.stream}, not ${this.options.stream}`);
      p.resolve(ack);
    } catch (failure) {
      p.reject(failure as Error);
    }
  }

  private arm(ms: number): NodeJS.Timeout {
    return setTimeout(() => this.expire(), ms).unref(); // the connection keeps the process alive, not this
  }

  /** Rejects the publishes past their deadline, then re-arms for the oldest one left. */
  private expire(): void {
    this.timer = undefined;
    const now = this.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) {
        this.timer = this.arm(Math.max(1, Math.ceil(p.deadline - now)));
        return;
      }
      this.pending.delete(token);
      p.reject(new Error(`no acknowledgement within ${this.options.timeoutMs} ms`));
    }
  }
}
