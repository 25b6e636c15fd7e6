import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsSettings } from '../config/schema.js';

/** What a TLS server needs from the files: certificate, key, client CA and the minimum version. */
export type TlsContextOptions = Pick<SecureContextOptions, 'cert' | 'key' | 'ca' | 'minVersion'>;

/** The log lines the credentials write (a pino Logger fits). */
export interface TlsLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface TlsCredentialsOptions {
  readonly settings: Pick<TlsSettings, 'certFile' | 'keyFile' | 'caFile' | 'minVersion'>;
  readonly log: TlsLog;
  /** Re-read interval, a safety net for missed file events. Default 10 s. */
  readonly pollIntervalMs?: number;
  /** Quiet time after a file event before re-reading (a Secret update touches several files). Default 200 ms. */
  readonly settleMs?: number;
}

/** Thrown when the files do not hold a usable certificate and key (unreadable, not PEM, key not matching). */
export class TlsCredentialsError extends Error {
  override readonly name = 'TlsCredentialsError';
}

/**
 * The certificate, key and client CA of a TLS listener, read from files (a mounted Secret, whose updates swap a
 * symlink in the directory, so directories are watched, not files). A new, valid set is handed to every
 * subscriber (which calls `server.setSecureContext`); an invalid or half-written set is logged and the one in
 * use is kept.
 */
export class TlsCredentials {
  private readonly subscribers = new Set<(context: TlsContextOptions) => void>();
  private readonly watchers: FSWatcher[] = [];
  private poller: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private reading: Promise<boolean> = Promise.resolve(false);
  private closed = false;

  private constructor(
    private readonly options: TlsCredentialsOptions,
    private contextOptions: TlsContextOptions,
    private fingerprint: string,
  ) {}

  /** Reads and validates the files once (rejects with TlsCredentialsError) and starts watching them. */
  static async load(options: TlsCredentialsOptions): Promise<TlsCredentials> {
    const { context, text } = await readContext(options.settings);
    const credentials = new TlsCredentials(options, context, text);
    credentials.watch();
    return credentials;
  }

  /** The options in use, for `tls.createServer` / `https.createServer` and `setSecureContext`. */
  get current(): TlsContextOptions {
    return this.contextOptions;
  }

  /** Calls `subscriber` with each new valid set; returns the unsubscribe function. */
  onChange(subscriber: (context: TlsContextOptions) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Re-reads the files now; resolves true when a new set was applied. */
  reload(): Promise<boolean> {
    this.reading = this.reading.then(() => this.read());
    return this.reading;
  }

  close(): void {
    this.closed = true;
    for (const watcher of this.watchers) watcher.close();
    clearInterval(this.poller);
    clearTimeout(this.settle);
    this.subscribers.clear();
  }

  private watch(): void {
    const { certFile, keyFile, caFile } = this.options.settings;
    const files = [certFile, keyFile, ...(caFile === undefined ? [] : [caFile])];
    const names = new Set(files.map((file) => basename(file)));
    for (const dir of new Set(files.map((file) => dirname(file)))) {
      const watcher = watch(dir, (_event, file) => {
        if (file === null || names.has(file) || file.startsWith('..')) this.scheduleReload();
      });
      watcher.on('error', (err) => this.options.log.warn({ err, dir }, 'TLS file watch failed; polling only'));
      this.watchers.push(watcher);
    }
    this.poller = setInterval(() => void this.reload(), this.options.pollIntervalMs ?? 10_000);
    this.poller.unref();
  }

  private scheduleReload(): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(), this.options.settleMs ?? 200);
    this.settle.unref();
  }

  private async read(): Promise<boolean> {
    if (this.closed) return false;
    const files = { certFile: this.options.settings.certFile, keyFile: this.options.settings.keyFile };
    try {
      const { context, text } = await readContext(this.options.settings);
      if (text === this.fingerprint) return false;
      this.contextOptions = context;
      this.fingerprint = text;
      for (const subscriber of this.subscribers) subscriber(context);
      this.options.log.info(files, 'TLS certificate reloaded');
      return true;
    } catch (err: unknown) {
      this.options.log.error({ err, ...files }, 'invalid TLS certificate or key ignored; keeping the current one');
      return false;
    }
  }
}

/** Reads the files and checks that OpenSSL accepts them together (the key matches the certificate). */
async function readContext(settings: TlsCredentialsOptions['settings']): Promise<{ context: TlsContextOptions; text: string }> {
  let cert: Buffer, key: Buffer, ca: Buffer | undefined;
  try {
    [cert, key, ca] = await Promise.all([
      readFile(settings.certFile),
      readFile(settings.keyFile),
      settings.caFile === undefined ? undefined : readFile(settings.caFile),
    ]);
  } catch (err: unknown) {
    throw new TlsCredentialsError(`TLS files unreadable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const context: TlsContextOptions = { cert, key, minVersion: settings.minVersion, ...(ca === undefined ? {} : { ca }) };
  try {
    createSecureContext(context);
  } catch (err: unknown) {
    throw new TlsCredentialsError(`TLS certificate or key rejected: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { context, text: [cert, key, ca ?? Buffer.alloc(0)].map((b) => b.toString('base64')).join('.') };
}
