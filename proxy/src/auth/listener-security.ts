// The authentication chain and ACL rules one listener names, with the files they read (users, JWKS) followed
// for changes. Built in proxy.ts, one per chain, shared by the listeners that name it.
import { parseAclFile, type AclRuleConfig, type AuthChainConfig } from '../config/auth-schema.js';
import { ClientAccess } from './acl.js';
import { anonymous, clientCertificate, jwt, passwordFile, type Authenticator, type AuthFailureReason, type Credentials, type Refusal } from './authenticators.js';
import { parseJwks } from './jwks.js';
import { parseUsersFile } from './users-file.js';
import { WatchedFile, type FileLog } from './watched-file.js';

export type AuthDecision =
  | { readonly ok: true; readonly username: string | undefined; readonly access: ClientAccess }
  | { readonly ok: false; readonly refusal: Refusal; readonly reason: AuthFailureReason };

export class ListenerSecurity {
  private constructor(
    private readonly authenticators: readonly Authenticator[],
    private readonly rules: () => readonly AclRuleConfig[] | undefined,
    private readonly files: readonly WatchedFile<unknown>[],
  ) {}

  /** Reads the chain's files (rejects when one is unreadable or invalid) and starts following them. */
  static async load(chain: AuthChainConfig, log: FileLog): Promise<ListenerSecurity> {
    const files: WatchedFile<unknown>[] = [];
    const authenticators: Authenticator[] = [];
    try {
      for (const settings of chain.authenticators) {
        switch (settings.type) {
          case 'anonymous':
            authenticators.push(anonymous);
            break;
          case 'password-file': {
            const users = await WatchedFile.load({ file: settings.file, what: 'users file', parse: parseUsersFile, log });
            files.push(users);
            authenticators.push(passwordFile(() => users.current));
            break;
          }
          case 'jwt': {
            const keys = await WatchedFile.load({ file: settings.jwksFile, what: 'JWKS file', parse: parseJwks, log });
            files.push(keys);
            authenticators.push(jwt(settings, () => keys.current));
            break;
          }
          case 'client-certificate':
            authenticators.push(clientCertificate(settings.usernameFrom));
            break;
        }
      }
      const aclFile = chain.aclFile === undefined ? undefined : await WatchedFile.load({ file: chain.aclFile, what: 'ACL file', parse: parseAclFile, log });
      if (aclFile !== undefined) files.push(aclFile);
      const rules = aclFile === undefined ? () => chain.acl : () => [...(chain.acl ?? []), ...aclFile.current];
      return new ListenerSecurity(authenticators, rules, files);
    } catch (err: unknown) {
      for (const file of files) file.close();
      throw err;
    }
  }

  /**
   * Runs the chain: the first authenticator that does not ignore the credentials decides. When all ignore them,
   * a client that presented credentials gets Bad User Name or Password, one that presented none Not Authorized.
   */
  async authenticate(credentials: Credentials, nowMs: number): Promise<AuthDecision> {
    for (const authenticator of this.authenticators) {
      const outcome = await authenticator.authenticate(credentials, nowMs);
      if (outcome.result === 'ignore') continue;
      if (outcome.result === 'deny') return { ok: false, refusal: outcome.refusal, reason: outcome.reason };
      const access = ClientAccess.of([outcome.aclRules, this.rules()], { clientId: credentials.clientId, username: outcome.username });
      return { ok: true, username: outcome.username, access };
    }
    const presented = credentials.username !== undefined || credentials.password !== undefined;
    return { ok: false, refusal: presented ? 'bad-credentials' : 'not-authorized', reason: 'no-match' };
  }

  close(): void {
    for (const file of this.files) file.close();
  }
}
