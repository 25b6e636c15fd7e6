// The scenario `pairs-qos1-slo`: the QoS 1 pairs of `pairs-qos1`, paced, at the rates slo-search.ts chooses
// below the rate the same system reached in this run's `pairs-qos1`. Its figure is the highest paced rate whose
// PUBACK p99 stayed within `sloBoundMs`; the flow and resources reported are those of that probe (or, when no
// probe met the bound, of the slowest one).
import { flowSpec, measureFlow, topicsOf } from './flow-measure.js';
import type { BenchSettings, ScenarioDefinition, SystemResult } from './side-by-side-scenarios.js';
import { highestMet, nextProbeRate, probeMet, type SloProbe } from './slo-search.js';
import type { Target } from './targets.js';

function pairsAt(target: Target, settings: BenchSettings, probe: number, ratePerSecond: number): Promise<SystemResult> {
  const topics = topicsOf(`slo${probe}`, settings.pairs, settings.runId);
  return measureFlow(target, flowSpec(target, { ...settings, seconds: settings.sloSeconds }, `pairs-qos1-slo${probe}`, {
    qos: 1,
    ratePerPublisher: ratePerSecond / settings.pairs,
    publishers: topics.map((topic) => ({ endpoint: target.publishTo, topic })),
    subscribers: topics.map((topic, i) => ({ endpoint: target.subscribeTo, filter: topic, publishers: [i] })),
  }));
}

export const sloSearch: ScenarioDefinition['run'] = async (target, settings, previous) => {
  const ceiling = previous.get('pairs-qos1')?.get(target.name)?.flow?.publishedPerSecond ?? 0;
  if (ceiling <= 0) throw new Error('pairs-qos1-slo needs pairs-qos1 in the same run (it searches below that rate)');
  const probes: SloProbe[] = [];
  const runs = new Map<number, SystemResult>();
  for (let i = 0; i < settings.sloProbes; i++) {
    const rate = nextProbeRate(probes, ceiling);
    const result = await pairsAt(target, settings, i, rate);
    const flow = result.flow;
    const publishedPerSecond = flow?.publishedPerSecond ?? 0;
    const pubackP99Ms = flow?.pubackLatencyMs?.p99;
    probes.push({ ratePerSecond: rate, publishedPerSecond, pubackP99Ms, e2eP99Ms: flow?.latencyMs?.p99, met: probeMet(settings.sloBoundMs, rate, publishedPerSecond, pubackP99Ms) });
    runs.set(rate, result);
  }
  const best = highestMet(probes, ceiling);
  const shown = runs.get(best ?? Math.min(...probes.map((p) => p.ratePerSecond)));
  if (shown === undefined) throw new Error('no probe ran');
  return { ...shown, slo: { boundMs: settings.sloBoundMs, ceilingPerSecond: ceiling, highestMetPerSecond: best, probes } };
};
