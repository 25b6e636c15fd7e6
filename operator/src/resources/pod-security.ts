// The hardened pod and container settings every Shoal pod runs with (Pod Security Standards "restricted").
import type { V1PodSecurityContext, V1SecurityContext } from './kube-types.js';

/** Numeric user and group of every Shoal container (non-root; the images' `node` / `nats` users). */
export const RUN_AS_ID = 1000;

/** Pod-level: non-root, seccomp RuntimeDefault, volumes group-owned by the pod's group. */
export function restrictedPodSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_ID,
    runAsGroup: RUN_AS_ID,
    fsGroup: RUN_AS_ID,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level: read-only root filesystem, no privilege escalation, every capability dropped. */
export function restrictedContainerSecurityContext(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
