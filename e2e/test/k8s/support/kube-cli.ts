// kubectl and helm against the API server of $KUBECONFIG (started by `make e2e-k8s`), as a user would
// run them. JSON in and out; failures keep stderr so the API server's message can be asserted on.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const BIN = process.env['SHOAL_K8S_BIN'] ?? join(process.cwd(), '.tools', 'bin');

/** Result of a command that may fail. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tool args…` with optional stdin; never rejects (look at `code`). */
export function run(tool: 'kubectl' | 'helm', args: readonly string[], input?: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(join(BIN, tool), [...args], { env, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

/** Runs kubectl and returns stdout; throws with stderr on failure. */
export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const result = await run('kubectl', args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Test data is read loosely. */
export type Json = ReturnType<typeof JSON.parse>;

/** `kubectl get -o json`, or undefined when the object does not exist. */
export async function getJson(kind: string, name: string, namespace: string): Promise<Json> {
  const result = await run('kubectl', ['get', kind, name, '-n', namespace, '-o', 'json', '--ignore-not-found', '--show-managed-fields']);
  if (result.code !== 0) throw new Error(`kubectl get ${kind} ${name} failed: ${result.stderr}`);
  return result.stdout.trim() === '' ? undefined : JSON.parse(result.stdout);
}

/** Applies a manifest (JSON or YAML text) in `namespace`. */
export function apply(manifest: string, namespace: string): Promise<CliResult> {
  return run('kubectl', ['apply', '-n', namespace, '-f', '-'], manifest);
}

/**
 * Polls `probe` until it returns a value other than undefined (the API server's state is eventually
 * what the operator makes it; there is no event to await from outside the process).
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err: unknown) {
      last = err;
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The condition `type` of an MqttCluster's status. */
export const condition = (cluster: Json, type: string): Json => cluster?.status?.conditions?.find((c: Json) => c.type === type);
