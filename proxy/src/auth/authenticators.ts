// The authenticators a chain is made of. Each looks at the CONNECT credentials and answers: `ignore` (not mine:
// no credentials of my kind, or a user I do not know; the chain asks the next one), `allow` with the identity,
// or `deny` with the reason and the CONNACK code.
import { z } from 'zod';
import { AclRule, type AclRuleConfig, type AuthenticatorConfig } from '../config/auth-schema.js';
import type { PeerIdentity } from '../protocol/connection.js';
import { JwtError, looksLikeJwt, verifyJwt, type JwtCheck } from './jwt.js';
import type { VerificationKey } from './jwks.js';
import { verifyPassword, type ParsedHash } from './password-hash.js';

/** What a client presented in CONNECT and the TLS handshake. */
export interface Credentials {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
  readonly peer: PeerIdentity | undefined;
}

/** 0x86 Bad User Name or Password, or 0x87 Not Authorized (v3.1.1: return codes 4 and 5). */
export type Refusal = 'bad-credentials' | 'not-authorized';

/** Why a CONNECT was refused, a bounded label of `shoal_proxy_auth_failures_total`. */
export type AuthFailureReason =
  | 'no-match'
  | 'bad-password'
  | 'jwt-malformed'
  | 'jwt-algorithm'
  | 'jwt-key'
  | 'jwt-signature'
  | 'jwt-expired'
  | 'jwt-not-yet-valid'
  | 'jwt-issuer'
  | 'jwt-audience'
  | 'jwt-client-id'
  | 'jwt-claims'
  | 'will-denied';

export type AuthOutcome =
  | { readonly result: 'ignore' }
  | { readonly result: 'allow'; readonly username: string | undefined; readonly aclRules?: readonly AclRuleConfig[] }
  | { readonly result: 'deny'; readonly refusal: Refusal; readonly reason: AuthFailureReason };

export interface Authenticator {
  authenticate(credentials: Credentials, nowMs: number): Promise<AuthOutcome>;
}

const IGNORE: AuthOutcome = { result: 'ignore' };
const deny = (refusal: Refusal, reason: AuthFailureReason): AuthOutcome => ({ result: 'deny', refusal, reason });

/** Anything goes; the username stays unverified, so it is not used for `%u`. */
export const anonymous: Authenticator = { authenticate: () => Promise.resolve({ result: 'allow', username: undefined }) };

/** Users of a users file (`current()` is the file as last read). */
export function passwordFile(current: () => ReadonlyMap<string, ParsedHash>): Authenticator {
  return {
    async authenticate({ username, password }) {
      const entry = username === undefined ? undefined : current().get(username);
      if (entry === undefined) return IGNORE;
      if (password === undefined) return deny('bad-credentials', 'bad-password');
      return (await verifyPassword(password, entry)) ? { result: 'allow', username } : deny('bad-credentials', 'bad-password');
    },
  };
}

type JwtSettings = Extract<AuthenticatorConfig, { type: 'jwt' }>;
const ClaimRules = z.array(AclRule).max(1_000);

function identityOf(claims: Readonly<Record<string, unknown>>, settings: JwtSettings, credentials: Credentials): AuthOutcome {
  if (settings.clientIdClaim !== undefined && claims[settings.clientIdClaim] !== credentials.clientId) return deny('not-authorized', 'jwt-client-id');
  // the CONNECT username is not covered by the signature: without usernameClaim there is no username (%u fills nothing)
  let username: string | undefined;
  if (settings.usernameClaim !== undefined) {
    const claimed = claims[settings.usernameClaim];
    if (typeof claimed !== 'string') return deny('not-authorized', 'jwt-claims');
    username = claimed;
  }
  const ruleClaim = claims[settings.aclClaim];
  if (ruleClaim === undefined) return { result: 'allow', username };
  const rules = ClaimRules.safeParse(ruleClaim);
  // a broken rule list is no rule list: refuse rather than fall back to the chain's rules (CVE-2018-12550)
  if (!rules.success) return deny('not-authorized', 'jwt-claims');
  return { result: 'allow', username, aclRules: rules.data };
}

/** A JWT in the password, verified with the keys `current()` returns (the JWKS file as last read). */
export function jwt(settings: JwtSettings, current: () => readonly VerificationKey[]): Authenticator {
  const algorithms = new Set(settings.algorithms);
  return {
    authenticate(credentials, nowMs) {
      const token = credentials.password?.toString('utf8');
      if (token === undefined || !looksLikeJwt(token)) return Promise.resolve(IGNORE);
      const check: JwtCheck = { algorithms, issuer: settings.issuer, audience: settings.audience, clockSkewSeconds: settings.clockSkewSeconds, nowMs };
      try {
        return Promise.resolve(identityOf(verifyJwt(token, current(), check), settings, credentials));
      } catch (err: unknown) {
        if (err instanceof JwtError) return Promise.resolve(deny('bad-credentials', `jwt-${err.reason}`));
        throw err;
      }
    },
  };
}

const SAN_PREFIX = { 'san-dns': 'DNS:', 'san-uri': 'URI:', 'san-email': 'email:' } as const;

/** The name of a client certificate the TLS listener verified. */
export function clientCertificate(from: 'cn' | keyof typeof SAN_PREFIX): Authenticator {
  return {
    authenticate({ peer }) {
      if (peer === undefined) return Promise.resolve(IGNORE);
      const username = from === 'cn' ? peer.commonName : peer.subjectAltNames.find((san) => san.startsWith(SAN_PREFIX[from]))?.slice(SAN_PREFIX[from].length);
      return Promise.resolve(username === undefined || username === '' ? IGNORE : { result: 'allow', username });
    },
  };
}
