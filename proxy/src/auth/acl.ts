// ACL rules of one connection: the rules of its JWT claim, then its chain's, each with `%c` and `%u` filled in.
// First matching rule wins; when any rule is configured, what none allows is denied. A rule whose placeholder has
// no safe value (absent, empty, or holding `+`, `#` or `/`, which would widen the filter) is left out: a client
// id of `#` matches no `%c` rule rather than every topic (CVE-2017-7650).
import { isValidFilter, type AclRuleConfig } from '../config/auth-schema.js';
import { filterCovered, filtersOverlap, topicMatches } from './acl-topics.js';

export type AclAction = 'publish' | 'subscribe';

interface CompiledRule {
  readonly allow: boolean;
  readonly publish: boolean;
  readonly subscribe: boolean;
  readonly levels: readonly string[];
}

/** Who the placeholders stand for. */
export interface AclSubject {
  readonly clientId: string;
  readonly username: string | undefined;
}

const SHARE_PREFIX = '$share/';

const safeValue = (value: string | undefined): value is string => value !== undefined && value !== '' && !/[+#/]/.test(value);

/** The rule's filter with its placeholders filled, or undefined when a placeholder has no safe value. */
function fill(topic: string, subject: AclSubject): string | undefined {
  let filled = topic;
  if (filled.includes('%c')) {
    if (!safeValue(subject.clientId)) return undefined;
    filled = filled.replaceAll('%c', subject.clientId);
  }
  if (filled.includes('%u')) {
    if (!safeValue(subject.username)) return undefined;
    filled = filled.replaceAll('%u', subject.username);
  }
  return isValidFilter(filled) ? filled : undefined;
}

/** The filter a subscription is checked with: a shared subscription's without `$share/<group>/`. */
export function aclFilterOf(filter: string): string {
  if (!filter.startsWith(SHARE_PREFIX)) return filter;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  return slash === -1 ? filter : filter.slice(slash + 1);
}

/** What one connection may publish and subscribe to. */
export class ClientAccess {
  /** No rule configured anywhere: everything is allowed. */
  static readonly unrestricted = new ClientAccess(undefined);

  private constructor(private readonly rules: readonly CompiledRule[] | undefined) {}

  /** Compiles the rule lists in order (undefined lists are absent; an empty list still means deny by default). */
  static of(ruleLists: readonly (readonly AclRuleConfig[] | undefined)[], subject: AclSubject): ClientAccess {
    const present = ruleLists.filter((rules) => rules !== undefined);
    if (present.length === 0) return ClientAccess.unrestricted;
    const compiled: CompiledRule[] = [];
    for (const rule of present.flat()) {
      const filter = fill(rule.topic, subject);
      if (filter === undefined) continue;
      compiled.push({
        allow: rule.permission === 'allow',
        publish: rule.action !== 'subscribe',
        subscribe: rule.action !== 'publish',
        levels: filter.split('/'),
      });
    }
    return new ClientAccess(compiled);
  }

  get restricted(): boolean {
    return this.rules !== undefined;
  }

  /** May publish to the topic name. */
  mayPublish(topic: string): boolean {
    return this.decide('publish', topic.split('/'), topicMatches, topicMatches);
  }

  /**
   * May subscribe to the filter: an allow rule must cover every topic the filter matches; a deny rule refuses any
   * filter that could match one of its topics. Shared subscriptions are checked without `$share/<group>/`.
   */
  maySubscribe(filter: string): boolean {
    return this.decide('subscribe', aclFilterOf(filter).split('/'), filterCovered, filtersOverlap);
  }

  /** May receive a message on this topic through a subscription (retained messages are checked one by one). */
  mayReceive(topic: string): boolean {
    return this.decide('subscribe', topic.split('/'), topicMatches, topicMatches);
  }

  private decide(
    action: AclAction,
    levels: readonly string[],
    allows: (pattern: readonly string[], levels: readonly string[]) => boolean,
    denies: (pattern: readonly string[], levels: readonly string[]) => boolean,
  ): boolean {
    if (this.rules === undefined) return true;
    for (const rule of this.rules) {
      if (!(action === 'publish' ? rule.publish : rule.subscribe)) continue;
      if (rule.allow ? allows(rule.levels, levels) : denies(rule.levels, levels)) return rule.allow;
    }
    return false;
  }
}
