// Topic and filter relations the ACL needs, on levels (`a/+/#` → ['a', '+', '#']). A filter starting with a
// wildcard never matches a topic starting with `$` [MQTT-4.7.2-1], here as in delivery.

const dollarGuard = (wild: readonly string[], literal: readonly string[]): boolean => {
  const first = wild[0];
  return (first === '+' || first === '#') && literal[0]?.startsWith('$') === true;
};

/** Whether the filter `pattern` matches the topic name `topic` (MQTT matching; `a/#` also matches `a`). */
export function topicMatches(pattern: readonly string[], topic: readonly string[]): boolean {
  if (dollarGuard(pattern, topic)) return false;
  for (let i = 0; i < pattern.length; i += 1) {
    const level = pattern[i];
    if (level === '#') return true;
    const actual = topic[i];
    if (actual === undefined) return false;
    if (level !== '+' && level !== actual) return false;
  }
  return topic.length === pattern.length;
}

/** Whether every topic the filter `filter` matches is matched by `pattern` (the rule allows the whole subscription). */
export function filterCovered(pattern: readonly string[], filter: readonly string[]): boolean {
  if (dollarGuard(pattern, filter)) return false;
  for (let i = 0; i < pattern.length; i += 1) {
    const level = pattern[i];
    if (level === '#') return true;
    const wanted = filter[i];
    if (wanted === undefined || wanted === '#') return false;
    if (level === '+') continue;
    if (wanted === '+' || wanted !== level) return false;
  }
  return filter.length === pattern.length;
}

/** Whether some topic is matched by both filters (a deny rule then refuses the subscription). */
export function filtersOverlap(a: readonly string[], b: readonly string[]): boolean {
  if (dollarGuard(a, b) || dollarGuard(b, a)) return false;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === '#' || y === '#') return true;
    if (x === undefined || y === undefined) return false;
    if (x !== '+' && y !== '+' && x !== y) return false;
  }
  return true;
}
