// The command-line options of bench/fleet-throughput.ts (its header lists them).
import type { LoadQoS, ProtocolVersion } from './raw-mqtt.js';

export interface Options {
  readonly qos: LoadQoS | undefined;
  readonly pairs: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly drainSeconds: number;
  readonly payload: number;
  readonly window: number;
  readonly batch: number;
  readonly protocolVersion: ProtocolVersion;
  readonly cpuProf: boolean;
}

function argumentMap(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--cpu-prof') values.set('cpu-prof', 'true');
    else if (arg.startsWith('--') && i + 1 < argv.length) values.set(arg.slice(2), argv[++i] ?? '');
    else throw new Error(`unexpected argument ${arg}; usage: see the header of bench/fleet-throughput.ts`);
  }
  return values;
}

export function parseOptions(argv: readonly string[]): Options {
  const values = argumentMap(argv);
  const take = (key: string): string | undefined => {
    const value = values.get(key);
    values.delete(key);
    return value;
  };
  const num = (key: string, fallback: number, min: number, max: number): number => {
    const raw = take(key);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${key} must be a number in ${min}..${max}`);
    return n;
  };
  const choice = <T>(key: string, fallback: T, allowed: Record<string, T>): T => {
    const raw = take(key);
    if (raw === undefined) return fallback;
    const value = allowed[raw];
    if (value === undefined) throw new Error(`--${key} must be one of ${Object.keys(allowed).join(', ')}`);
    return value;
  };
  const options: Options = {
    qos: choice<LoadQoS | undefined>('qos', undefined, { '0': 0, '1': 1 }),
    pairs: num('pairs', 20, 1, 5_000),
    seconds: num('seconds', 10, 1, 600),
    warmupSeconds: num('warmup', 2, 0, 60),
    drainSeconds: num('drain', 30, 1, 120),
    payload: num('payload', 128, 12, 1_000_000),
    window: num('window', 64, 1, 65_535),
    batch: num('batch', 16, 1, 4_096),
    protocolVersion: choice<ProtocolVersion>('mqtt', 4, { '3.1.1': 4, '5': 5 }),
    cpuProf: take('cpu-prof') !== undefined,
  };
  if (values.size > 0) throw new Error(`unknown option(s): ${[...values.keys()].map((k) => `--${k}`).join(' ')}`);
  return options;
}
