// Runs fuzz inputs (fuzz-inputs.ts) against the in-process proxy core of protocol-harness.ts: the real
// Connection and ClientHandler over a duplexPair, one connection per input. Each input must end with the
// connection usable (a PINGREQ sent after it is answered) or closed, within a bound; an error the handler logs
// ("unexpected error handling a client" = an exception caught at the top) is reported as well.
import { duplexPair, type Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import { pino } from 'pino';
import type { ProxyLimits } from '../config/schema.js';
import { ClientHandler } from '../protocol/client-handler.js';
import { Connection } from '../protocol/connection.js';
import { noMetrics } from '../protocol/ports.js';
import type { FuzzInput } from './fuzz-inputs.js';
import { ProtocolHarness } from './protocol-harness.js';

/** How an input ended. */
export type FuzzOutcome =
  /** The PINGREQ after the input was answered: the connection is still usable. */
  | 'answered'
  /** The proxy closed the connection. */
  | 'closed'
  /** The input ends inside a packet whose declared body is too large to pad: the proxy rightly waits for it. */
  | 'incomplete'
  /** The proxy sent part of a packet and nothing more within the bound: its outbound stream is corrupt. */
  | 'truncated-reply'
  /** Neither an answer nor a close within the bound. */
  | 'hang';

export interface FuzzResult {
  readonly outcome: FuzzOutcome;
  /** What the proxy sent, e.g. ['connack:0x00', 'puback', 'disconnect:0x81']. */
  readonly replies: readonly string[];
  /** The client id of the driver's CONNECT (connected mode), unique to this connection but for one in 16. */
  readonly clientId?: string;
}

export interface FuzzDriverOptions {
  /** Limits of the proxy under test. */
  readonly limits?: Partial<ProxyLimits>;
  /** How long an input may take to be answered or closed. @default 2000 */
  readonly boundMs?: number;
}

/** Bodies up to this size are completed with zero bytes so the trailing PINGREQ is read as its own packet. */
const MAX_PAD = 64 * 1024;
const PINGREQ = Uint8Array.of(0xc0, 0x00);
const TYPE_NAMES = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'];

/** One proxy core plus the error lines its handlers logged. */
export class FuzzDriver {
  readonly harness: ProtocolHarness;
  /** Every line logged at level error or above (each is a bug: an exception the handler caught at the top). */
  readonly errorLogs: string[] = [];
  private readonly boundMs: number;
  private connections = 0;

  constructor(options: FuzzDriverOptions = {}) {
    this.harness = new ProtocolHarness({ limits: options.limits ?? {} });
    this.boundMs = options.boundMs ?? 2_000;
    const log = pino({ level: 'error' }, { write: (line: string) => void this.errorLogs.push(line.trim()) });
    Object.assign(this.harness.ctx, { log });
  }

  /** Sends one input on a new connection and waits until it is answered, closed or the bound passes. */
  async run(input: FuzzInput): Promise<FuzzResult> {
    const [serverSide, clientSide] = duplexPair();
    serverSide.on('close', () => clientSide.destroy());
    const conn = new Connection(serverSide, { maxPacketSizeBytes: this.harness.ctx.limits.maxPacketSizeBytes, hooks: noMetrics, remoteAddress: 'fuzz' });
    new ClientHandler(conn, this.harness.ctx);
    const watcher = new ReplyWatcher(clientSide);
    const clientId = input.mode === 'connected' ? this.clientId(input) : undefined;
    try {
      const result = await this.exchange(input, clientSide, watcher, clientId);
      return clientId === undefined ? result : { ...result, clientId };
    } finally {
      clientSide.destroy();
      serverSide.destroy();
    }
  }

  /** CONNECT (connected mode), the input, the padding that completes its last packet, a PINGREQ; then waits. */
  private async exchange(input: FuzzInput, clientSide: Duplex, watcher: ReplyWatcher, clientId: string | undefined): Promise<FuzzResult> {
    if (clientId !== undefined) {
      const connect = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: input.version, clientId, clean: true, keepalive: 0 } as const;
      clientSide.write(mqtt.generate(connect, { protocolVersion: input.version }));
      if (!(await watcher.until((w) => w.replies.length > 0, this.boundMs))) return { outcome: 'hang', replies: watcher.replies };
      if (watcher.closed) return { outcome: 'closed', replies: watcher.replies };
    }
    for (const chunk of input.chunks) clientSide.write(chunk);
    const pad = padding(input.chunks, this.harness.ctx.limits.maxPacketSizeBytes);
    if (pad === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      return { outcome: watcher.closed ? 'closed' : 'incomplete', replies: watcher.replies };
    }
    if (pad.length > 0) clientSide.write(pad);
    clientSide.write(PINGREQ);
    const settled = await watcher.until((w) => w.pingresps > 0, this.boundMs);
    if (!settled) return { outcome: watcher.partial ? 'truncated-reply' : 'hang', replies: watcher.replies };
    return { outcome: watcher.pingresps > 0 ? 'answered' : 'closed', replies: watcher.replies };
  }

  /** The input's client id, made unique but for one connection in 16 (those take over each other's sessions). */
  private clientId(input: FuzzInput): string {
    this.connections += 1;
    return this.connections % 16 === 0 ? input.clientId : `${input.clientId}-${this.connections}`;
  }

  async close(): Promise<void> {
    await this.harness.close();
  }
}

/** Reads the proxy's side of the connection frame by frame: the packet types (and reason codes) and the close. */
class ReplyWatcher {
  readonly replies: string[] = [];
  pingresps = 0;
  closed = false;
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;

  constructor(stream: Duplex) {
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    const done = (): void => {
      this.closed = true;
      this.wake?.();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  }

  /** The proxy's output ends inside a packet. */
  get partial(): boolean {
    return this.buffered.length > 0;
  }

  /** Resolves true once `condition` holds or the stream closed, false after `timeoutMs`. */
  until(condition: (watcher: ReplyWatcher) => boolean, timeoutMs: number): Promise<boolean> {
    if (condition(this) || this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, timeoutMs);
      this.wake = (): void => {
        if (!condition(this) && !this.closed) return;
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const header = readFrameHeader(this.buffered, 0);
      if (header === undefined || header === 'malformed' || this.buffered.length < header.headerBytes + header.length) break;
      const body = this.buffered.subarray(header.headerBytes, header.headerBytes + header.length);
      this.replies.push(describe(this.buffered[0] ?? 0, body));
      if ((this.buffered[0] ?? 0) >> 4 === 13) this.pingresps += 1;
      this.buffered = this.buffered.subarray(header.headerBytes + header.length);
    }
    this.wake?.();
  }
}

function describe(first: number, body: Uint8Array): string {
  const type = first >> 4;
  const name = TYPE_NAMES[type] ?? String(type);
  if (type === 2) return `${name}:0x${(body[1] ?? 0).toString(16).padStart(2, '0')}`;
  if (type === 14 && body.length > 0) return `${name}:0x${(body[0] ?? 0).toString(16).padStart(2, '0')}`;
  return name;
}

function readFrameHeader(bytes: Uint8Array, offset: number): { headerBytes: number; length: number } | undefined | 'malformed' {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (offset + i >= bytes.length) return undefined;
    const byte = bytes[offset + i] ?? 0;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { headerBytes: i + 1, length };
    multiplier *= 128;
  }
  return 'malformed';
}


/**
 * The bytes that complete the packet the input ends inside, so that a PINGREQ after them is read as a packet:
 * empty when the input ends on a packet boundary or the proxy must close anyway (a Remaining Length of five
 * bytes, a packet over the limit); undefined when the missing body is larger than MAX_PAD.
 */
export function padding(chunks: readonly Uint8Array[], maxPacketSizeBytes: number): Uint8Array | undefined {
  const bytes = Buffer.concat(chunks);
  let offset = 0;
  while (offset < bytes.length) {
    const header = readFrameHeader(bytes, offset);
    if (header === 'malformed') return new Uint8Array(0);
    if (header === undefined) {
      // ends inside the fixed header: finish its Remaining Length with a 0x00 byte (a fifth byte is malformed)
      const lengthBytes = [...bytes.subarray(offset + 1)];
      if (lengthBytes.length >= 4) return new Uint8Array(0);
      const completed = Buffer.concat([bytes.subarray(offset), Uint8Array.of(0)]);
      const whole = readFrameHeader(completed, 0);
      if (whole === undefined || whole === 'malformed') return new Uint8Array(0);
      if (whole.headerBytes + whole.length > maxPacketSizeBytes) return new Uint8Array(0);
      return whole.length > MAX_PAD ? undefined : new Uint8Array(1 + whole.length);
    }
    if (header.headerBytes + header.length > maxPacketSizeBytes) return new Uint8Array(0);
    const end = offset + header.headerBytes + header.length;
    if (end > bytes.length) {
      const missing = end - bytes.length;
      return missing > MAX_PAD ? undefined : new Uint8Array(missing);
    }
    offset = end;
  }
  return new Uint8Array(0);
}
