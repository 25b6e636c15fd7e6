// The chart of the side-by-side summary: throughput, latency percentiles and connection figures per system.
import type { SystemResult } from './side-by-side-scenarios.js';
import { barChartSvg, type BarPanel } from './svg-chart.js';

export function summaryChart(results: ReadonlyMap<string, ReadonlyMap<string, SystemResult>>, systems: readonly string[], date: string): string {
  const value = (scenario: string, pick: (r: SystemResult) => number | undefined): (number | undefined)[] =>
    systems.map((s) => {
      const r = results.get(scenario)?.get(s);
      return r === undefined ? undefined : pick(r);
    });
  const panels: BarPanel[] = [
    {
      title: 'Throughput', unit: 'msg/s delivered; QoS 1: PUBACKed', log: true, groups: [
        { label: 'pairs QoS 0', values: value('pairs-qos0', (r) => r.flow?.deliveredPerSecond) },
        { label: 'pairs QoS 1', values: value('pairs-qos1', (r) => r.flow?.publishedPerSecond) },
        { label: 'fan-in QoS 0', values: value('fan-in', (r) => r.flow?.deliveredPerSecond) },
        { label: 'fan-out QoS 0', values: value('fan-out', (r) => r.flow?.deliveredPerSecond) },
      ],
    },
    {
      title: 'End-to-end latency', unit: 'ms', log: true, groups: [
        { label: 'QoS 0 p50', values: value('pairs-qos0', (r) => r.flow?.latencyMs?.p50) },
        { label: 'QoS 0 p99', values: value('pairs-qos0', (r) => r.flow?.latencyMs?.p99) },
        { label: 'QoS 1 p50', values: value('pairs-qos1', (r) => r.flow?.latencyMs?.p50) },
        { label: 'QoS 1 p99', values: value('pairs-qos1', (r) => r.flow?.latencyMs?.p99) },
        { label: 'QoS 1 half rate p50', values: value('pairs-qos1-half-rate', (r) => r.flow?.latencyMs?.p50) },
        { label: 'QoS 1 half rate p99', values: value('pairs-qos1-half-rate', (r) => r.flow?.latencyMs?.p99) },
      ],
    },
    {
      title: 'Connections', unit: 'KiB RSS per idle connection; CONNACK/s with persistent sessions', log: true, groups: [
        { label: 'KiB per added idle connection', values: value('idle-connections', (r) => r.idle?.marginalKibPerConnection) },
        { label: 'CONNACK/s (one endpoint)', values: value('connect-rate', (r) => r.connect?.connacksPerSecond) },
        { label: 'system CPU s per 100k delivered, QoS 1', values: value('pairs-qos1', (r) => r.cpuSecondsPer100k) },
      ],
    },
  ];
  return barChartSvg(`Shoal vs Mosquitto vs nats-server MQTT, ${date}, same machine, same load generator`, systems, panels);
}
