// Measuring one flow on one system (bench/lib/flow.ts), as every publish/subscribe scenario of the side-by-side
// benchmark does: the system's backlog drained and the machine quiet first, its processes' CPU and RSS metered over
// the measured interval.
import { runFlow, type FlowSpec } from './flow.js';
import { waitForQuietMachine, type QuietReport } from './quiet-machine.js';
import { ResourceMeter, type ResourceReport } from './resource-meter.js';
import { round } from './samples.js';
import type { BenchSettings, SystemResult } from './side-by-side-scenarios.js';
import type { Target } from './targets.js';

/** The system's own backlog drained (Target.settle), then the whole machine quiet. */
export async function settleBefore(target: Target): Promise<{ settledBeforeSeconds: number; quietBefore: QuietReport }> {
  const settledBeforeSeconds = await target.settle();
  return { settledBeforeSeconds, quietBefore: await waitForQuietMachine() };
}

export const topicsOf = (prefix: string, count: number, runId: string): string[] => Array.from({ length: count }, (_, i) => `bench/${runId}/${prefix}/${i}`);

export function flowSpec(target: Target, settings: BenchSettings, name: string, shape: Pick<FlowSpec, 'qos' | 'publishers' | 'subscribers'> & { e2eWindow?: number; ratePerPublisher?: number }): FlowSpec {
  return {
    payloadBytes: settings.payloadBytes,
    window: settings.window,
    e2eWindow: shape.e2eWindow ?? settings.e2eWindow,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds,
    drainSeconds: settings.drainSeconds,
    clientIdPrefix: `${settings.runId}-${target.name}-${name}`,
    ...shape,
  };
}

export async function measureFlow(target: Target, spec: FlowSpec): Promise<SystemResult> {
  const { settledBeforeSeconds, quietBefore } = await settleBefore(target);
  const meter = new ResourceMeter(target.pids).watchRss();
  let resources: ResourceReport | undefined;
  const flow = await runFlow(spec, () => meter.start(), () => (resources = meter.stop()));
  const report = resources ?? meter.stop();
  const delivered = flow.deliveredPerSecond * flow.intervalSeconds;
  return {
    system: target.name,
    settledBeforeSeconds,
    quietBefore,
    resources: report,
    ...(delivered > 0 ? { cpuSecondsPer100k: round((report.systemCpuSeconds * 1e5) / delivered, 3) } : {}),
    flow,
  };
}

