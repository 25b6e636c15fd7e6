// The operator as a child process (operator/dist/main.js), as the chart runs it, with its log captured.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** One parsed log line of the operator (pino JSON). */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export class OperatorProcess {
  readonly lines: LogLine[] = [];
  private exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    let rest = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          this.lines.push({ level: 50, msg: part });
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.lines.push({ level: 50, msg: chunk }));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts `node operator/dist/main.js` with `env` added to this process's environment. */
  static start(env: Readonly<Record<string, string>>): OperatorProcess {
    const main = join(process.cwd(), 'operator', 'dist', 'main.js');
    return new OperatorProcess(spawn(process.execPath, [main], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Log lines at error level or above (pino: 50 error, 60 fatal) since line `from`. */
  errorsSince(from = 0): LogLine[] {
    return this.lines.slice(from).filter((line) => line.level >= 50);
  }

  /** Reconcile passes so far, from the operator's /metrics (shoal_operator_reconcile_total). */
  async reconciles(): Promise<number> {
    const started = this.lines.find((line) => line.msg === 'Started shoal-operator');
    if (started === undefined) return 0;
    const text = await (await fetch(`http://127.0.0.1:${String(started['port'])}/metrics`)).text();
    let total = 0;
    for (const match of text.matchAll(/^shoal_operator_reconcile_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
    return total;
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }
}
