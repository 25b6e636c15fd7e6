// Many idle MQTT connections at little cost to the load generator: a raw socket each, a precomputed
// CONNECT, CONNACK checked by its first bytes, and ONE timer for the whole pool that sends each connection a
// PINGREQ every half keepalive (spread over that period). Used by the idle-connection scenario of the
// side-by-side benchmark and by the workers of the connection-scale benchmark.
//
// Every connection that closes after its CONNACK without close() having been called is a drop.
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import mqtt from 'mqtt-packet';

const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);
const PINGRESP_FIRST_BYTE = 0xd0;
const CONNACK_FIRST_BYTE = 0x20;

export interface IdleTarget {
  readonly host: string;
  readonly port: number;
}

export interface IdlePoolOptions {
  /** Where connection i goes: `targets[i % targets.length]`. */
  readonly targets: readonly IdleTarget[];
  /** Source address of connection i: `sourceAddresses[i % length]` (127.0.0.x spreads the ephemeral ports). */
  readonly sourceAddresses: readonly string[];
  readonly clientIdPrefix: string;
  readonly keepaliveSeconds: number;
  /** CONNECTs awaiting their CONNACK at once. */
  readonly concurrency: number;
  readonly connectTimeoutMs?: number;
}

export interface IdlePoolCounts {
  /** Connections that received a successful CONNACK and are open now. */
  open: number;
  connected: number;
  /** Failed CONNECTs (refused, timed out, reset) while opening. */
  failed: number;
  /** Open connections that closed without close(). */
  drops: number;
  pingsSent: number;
  pingResponses: number;
  firstErrors: string[];
}

interface Conn {
  socket: Socket;
  ready: boolean;
}

export class IdlePool {
  readonly counts: IdlePoolCounts = { open: 0, connected: 0, failed: 0, drops: 0, pingsSent: 0, pingResponses: 0, firstErrors: [] };
  private readonly conns: Conn[] = [];
  private pingTimer: NodeJS.Timeout | undefined;
  private pingCursor = 0;
  private closing = false;

  constructor(private readonly options: IdlePoolOptions) {}

  /** Opens `count` more connections with at most `concurrency` CONNECTs outstanding; resolves when all settled. */
  async open(count: number, onProgress?: (counts: IdlePoolCounts) => void): Promise<void> {
    // Keepalives run from the first connection on: a server closes a connection silent for 1.5 × keepalive.
    this.startPings();
    const first = this.conns.length;
    let next = first;
    const end = first + count;
    const worker = async (): Promise<void> => {
      while (next < end && !this.closing) {
        const i = next++;
        await this.openOne(i);
        if (onProgress !== undefined && i % 1_000 === 0) onProgress(this.counts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, count) }, worker));
  }

  private openOne(i: number): Promise<void> {
    const { targets, sourceAddresses, keepaliveSeconds } = this.options;
    const target = targets[i % targets.length] ?? { host: '127.0.0.1', port: 0 };
    const localAddress = sourceAddresses[i % sourceAddresses.length];
    return new Promise((resolve) => {
      const socket = netConnect({ host: target.host, port: target.port, ...(localAddress === undefined ? {} : { localAddress }) });
      const conn: Conn = { socket, ready: false };
      this.conns.push(conn);
      const timer = setTimeout(() => fail('no CONNACK in time'), this.options.connectTimeoutMs ?? 10_000);
      const fail = (why: string): void => {
        clearTimeout(timer);
        if (conn.ready) return;
        this.counts.failed++;
        if (this.counts.firstErrors.length < 5) this.counts.firstErrors.push(`${this.options.clientIdPrefix}-${i}: ${why}`);
        socket.destroy();
        resolve();
      };
      socket.on('error', (err) => fail(err.message));
      socket.on('close', () => {
        if (!conn.ready) return fail('closed before CONNACK');
        this.counts.open--;
        if (!this.closing) {
          this.counts.drops++;
          if (this.counts.firstErrors.length < 5) this.counts.firstErrors.push(`${this.options.clientIdPrefix}-${i}: dropped`);
        }
      });
      socket.on('data', (chunk: Buffer) => {
        if (!conn.ready) {
          if (chunk[0] !== CONNACK_FIRST_BYTE || chunk[3] !== 0) return fail(`CONNACK refused: ${chunk.subarray(0, 4).toString('hex')}`);
          clearTimeout(timer);
          conn.ready = true;
          this.counts.open++;
          this.counts.connected++;
          resolve();
          chunk = chunk.subarray(4);
        }
        // PINGRESPs are two bytes each; an idle connection receives nothing else.
        for (let at = 0; at < chunk.length; at += 2) if (chunk[at] === PINGRESP_FIRST_BYTE) this.counts.pingResponses++;
      });
      socket.once('connect', () => {
        socket.write(mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `${this.options.clientIdPrefix}-${i}`, clean: true, keepalive: keepaliveSeconds }));
      });
    });
  }

  /** One timer: every 100 ms it pings the share of connections due, so each is pinged every keepalive/2. */
  private startPings(): void {
    if (this.pingTimer !== undefined || this.options.keepaliveSeconds === 0) return;
    const tickMs = 100;
    const ticksPerPeriod = (this.options.keepaliveSeconds * 1000) / 2 / tickMs;
    let carry = 0;
    this.pingTimer = setInterval(() => {
      carry += this.conns.length / ticksPerPeriod;
      for (; carry >= 1; carry--) {
        const conn = this.conns[this.pingCursor++ % this.conns.length];
        if (conn?.ready === true && !conn.socket.destroyed) {
          conn.socket.write(PINGREQ);
          this.counts.pingsSent++;
        }
      }
    }, tickMs);
  }

  /** DISCONNECT and end every connection, `concurrency` at a time; resolves when all are closed (or after a bound). */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closing = true;
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    const closed = this.conns.map((conn) => new Promise<void>((resolve) => {
      if (conn.socket.destroyed) return resolve();
      conn.socket.once('close', () => resolve());
      conn.socket.end(DISCONNECT);
    }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const conn of this.conns) conn.socket.destroy();
  }
}
