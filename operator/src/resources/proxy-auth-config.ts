// The `auth` part of `X-proxy-config`: one chain, `cluster`, named by every listener, built from `spec.auth`
// (files of the Secret mounted at AUTH_DIR) and `spec.acl` (the rules file of the ConfigMap mounted at ACL_DIR).
import type { ProxyConfigInput } from '@shoal/proxy';
import { UnsupportedSpecError } from './errors.js';
import type { ResolvedCluster } from './resolved-cluster.js';

/** Where a referenced auth Secret and ACL ConfigMap are mounted. */
export const AUTH_DIR = '/etc/shoal/auth';
export const ACL_DIR = '/etc/shoal/acl';

/** The chain every listener of the cluster's proxies names. */
export const AUTH_CHAIN = 'cluster';

type Authenticators = NonNullable<ProxyConfigInput['auth']>['chains'][string]['authenticators'];

function authenticators(cluster: ResolvedCluster): Authenticators {
  const { auth } = cluster.spec;
  if (auth === undefined) return [{ type: 'anonymous' }]; // an ACL without authentication
  const list: Authenticators = [];
  if (auth.jwksKey !== undefined) list.push({ type: 'jwt', jwksFile: `${AUTH_DIR}/${auth.jwksKey}`, ...auth.jwt });
  if (auth.usersFileKey !== undefined) list.push({ type: 'password-file', file: `${AUTH_DIR}/${auth.usersFileKey}` });
  if (auth.anonymous) list.push({ type: 'anonymous' });
  if (list.length === 0) throw new UnsupportedSpecError('auth', 'auth names no mechanism: set usersFileKey, jwksKey or anonymous');
  return list;
}

/** The proxy configuration's `auth` section, or undefined when the cluster configures neither auth nor ACL. */
export function buildProxyAuth(cluster: ResolvedCluster): ProxyConfigInput['auth'] {
  const { auth, acl } = cluster.spec;
  if (auth === undefined && acl === undefined) return undefined;
  return {
    chains: {
      [AUTH_CHAIN]: { authenticators: authenticators(cluster), ...(acl === undefined ? {} : { aclFile: `${ACL_DIR}/${acl.key}` }) },
    },
  };
}

/** What a listener adds to name the chain (nothing when there is none). */
export function listenerAuth(cluster: ResolvedCluster): { auth?: string } {
  return cluster.spec.auth === undefined && cluster.spec.acl === undefined ? {} : { auth: AUTH_CHAIN };
}
