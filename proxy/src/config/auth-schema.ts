// Authentication chains, ACL rules, connect-rate limits and slow-read protection: the security part of the
// proxy's configuration contract (see docs/security.md). Imports only zod, like schema.ts, which wires it in.
import { z } from 'zod';

/** Whether a topic filter is well formed: `#` only as the last level, `+` and `#` only as whole levels. */
export function isValidFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    return level === '+' || !(level.includes('+') || level.includes('#'));
  });
}

/** A chain's name, as a listener's `auth` field names it. */
export const ChainName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a chain name: lowercase letters, digits and -');

/**
 * One ACL rule. `topic` is an MQTT topic filter that may hold `%c` (the client id) and `%u` (the username);
 * a rule whose placeholder cannot be filled safely (value absent or holding `+`, `#` or `/`) matches nothing.
 */
export const AclRule = z.strictObject({
  permission: z.enum(['allow', 'deny']),
  action: z.enum(['publish', 'subscribe', 'all']),
  topic: z.string().min(1).max(1_024).refine(isValidFilter, 'a topic filter: + and # only as whole levels, # last'),
});

const Anonymous = z.strictObject({ type: z.literal('anonymous') });

/** Users and password hashes from a file (`username:$scrypt$…` lines, see `shoal-passwd`), reloaded on change. */
const PasswordFile = z.strictObject({ type: z.literal('password-file'), file: z.string().min(1) });

const JwtAlgorithm = z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512']);

/** A JWT in the CONNECT password, verified with the keys of a JWKS file (reloaded on change). */
const Jwt = z.strictObject({
  type: z.literal('jwt'),
  jwksFile: z.string().min(1),
  /** Algorithms accepted (each key verifies only its own family); `none` never is. */
  algorithms: z.array(JwtAlgorithm).min(1).default(JwtAlgorithm.options),
  /** Required `iss`, when set. */
  issuer: z.string().min(1).optional(),
  /** Required member of `aud`, when set. */
  audience: z.string().min(1).optional(),
  /** Tolerance on exp and nbf. */
  clockSkewSeconds: z.int().min(0).max(300).default(30),
  /** The claim that becomes the username (%u); absent: no username (the CONNECT username is not signed), %u fills nothing. */
  usernameClaim: z.string().min(1).optional(),
  /** A claim that must equal the client id (binds a token to one device), when set. */
  clientIdClaim: z.string().min(1).optional(),
  /** The claim holding ACL rules (a list of rules as in `acl`), checked before the chain's rules. */
  aclClaim: z.string().min(1).default('acl'),
});

/** The verified client certificate (TLS listeners with `caFile`) names the user. */
const ClientCertificate = z.strictObject({
  type: z.literal('client-certificate'),
  /** Which name of the certificate becomes the username: its CN or its first SAN of a type. */
  usernameFrom: z.enum(['cn', 'san-dns', 'san-uri', 'san-email']).default('cn'),
});

export const Authenticator = z.discriminatedUnion('type', [Anonymous, PasswordFile, Jwt, ClientCertificate]);

/** Authenticators tried in order (the first that recognises the credentials decides) and the ACL rules. */
const AuthChain = z.strictObject({
  authenticators: z.array(Authenticator).min(1),
  /** Ordered rules, first match wins; when present (even empty) anything no rule allows is denied. */
  acl: z.array(AclRule).max(10_000).optional(),
  /** More rules (after `acl`) from a JSON file holding a list of rules (a mounted ConfigMap), reloaded on change. */
  aclFile: z.string().min(1).optional(),
});

/** The rules of an ACL file: a JSON list of rules; throws when it is not one. */
export function parseAclFile(text: string): AclRuleConfig[] {
  return z.array(AclRule).max(10_000).parse(JSON.parse(text));
}

export const AuthConfig = z.strictObject({
  chains: z.record(ChainName, AuthChain),
});

/** Fields of `limits`: connect-rate token buckets and the slow-reader bound. */
export const securityLimits = {
  /**
   * New connections per second from one source address (token bucket refill); 0 = no limit (the default: behind a
   * LoadBalancer that hides client addresses every device seems to come from a node).
   */
  connectRatePerAddress: z.number().min(0).max(1_000_000).default(0),
  /** Bucket size per address: connections one address may open at once (a NAT in front of many devices). */
  connectBurstPerAddress: z.int().min(1).max(1_000_000).default(2_000),
  /** New connections per second into this proxy; 0 = no limit. */
  connectRatePerProxy: z.number().min(0).max(1_000_000).default(5_000),
  connectBurstPerProxy: z.int().min(1).max(1_000_000).default(10_000),
  /** Close a connection whose socket stays above its write high-water mark this long (0 = never). */
  slowReadTimeoutMs: z.int().min(0).max(3_600_000).default(60_000),
};

/** Listeners naming a chain that `auth.chains` does not define, as messages (empty when all is well). */
export function undefinedChains(config: {
  listeners: Record<string, { auth?: string | undefined } | undefined>;
  auth?: { chains: Record<string, unknown> } | undefined;
}): string[] {
  return Object.entries(config.listeners).flatMap(([listener, settings]) => {
    const chain = settings?.auth;
    return chain === undefined || config.auth?.chains[chain] !== undefined ? [] : [`listeners.${listener}.auth names "${chain}", which auth.chains does not define`];
  });
}

export type AuthConfig = z.infer<typeof AuthConfig>;
export type AuthChainConfig = z.infer<typeof AuthChain>;
export type AuthenticatorConfig = z.infer<typeof Authenticator>;
export type AclRuleConfig = z.infer<typeof AclRule>;
