// `X-mqtt`: the Service devices connect to (a cloud LoadBalancer by default).
import type { V1Service, V1ServicePort } from './kube-types.js';
import { selectorLabels } from './labels.js';
import { mqttServiceName } from './names.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

function ports(cluster: ResolvedCluster): V1ServicePort[] {
  const { mqtt, websocket } = cluster.spec.proxy.listeners;
  return [
    ...(mqtt.enabled ? [{ name: 'mqtt', port: mqtt.port, targetPort: 'mqtt', protocol: 'TCP' }] : []),
    ...(websocket.enabled ? [{ name: 'websocket', port: websocket.port, targetPort: 'websocket', protocol: 'TCP' }] : []),
  ];
}

/** The MQTT Service; traffic policy and source ranges only where the Service type allows them. */
export function buildMqttService(cluster: ResolvedCluster): V1Service {
  const { service } = cluster.spec.proxy;
  const external = service.type !== 'ClusterIP';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, mqttServiceName(cluster.name), 'proxy', service.annotations === undefined ? {} : { annotations: service.annotations }),
    spec: {
      type: service.type,
      selector: selectorLabels(cluster.name, 'proxy'),
      ports: ports(cluster),
      ...(external ? { externalTrafficPolicy: service.externalTrafficPolicy } : {}),
      ...(service.type === 'LoadBalancer' && service.loadBalancerSourceRanges !== undefined
        ? { loadBalancerSourceRanges: [...service.loadBalancerSourceRanges] }
        : {}),
    },
  };
}
