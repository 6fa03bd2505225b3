// Public suffixes (https://publicsuffix.org/list/ "Algorithm") over the rules of
// `_public_suffix_data.js`, which stay one string until a host of more than one label is looked
// up.

import { RULES } from "./_public_suffix_data.js";

/**
 * The first labels of the rules directly under each domain (`co` under `uk`, `*` for `*.ck`,
 * `!www` for `!www.ck`): the text of its line until first needed, then a Set. `null` until the
 * first lookup.
 */
let byParent: Map<string, string | Set<string>> | null = null;

function indexLines(): Map<string, string | Set<string>> {
  const index = new Map<string, string | Set<string>>();
  for (let start = 0; start < RULES.length;) {
    const newline = RULES.indexOf("\n", start);
    const end = newline === -1 ? RULES.length : newline;
    // Every line holds at least one label after its domain.
    const space = RULES.indexOf(" ", start);
    index.set(RULES.slice(start, space), RULES.slice(space + 1, end));
    start = end + 1;
  }
  return index;
}

/** The first labels of the rules directly under `parent`. */
function rulesUnder(parent: string): Set<string> | undefined {
  byParent ??= indexLines();
  const labels = byParent.get(parent);
  if (typeof labels !== "string") return labels;
  const set = new Set(labels.split(" "));
  byParent.set(parent, set);
  return set;
}

/**
 * The public suffix of a host name in the URL parser's form (lower case, punycode, no trailing
 * dot): the labels the prevailing rule matches. An exception rule prevails and gives its match
 * less the leftmost label; otherwise the rule of most labels does; with none, the last label.
 */
export function publicSuffix(host: string): string {
  let dot = host.lastIndexOf(".");
  if (dot === -1) return host;
  let parent = host.slice(dot + 1);
  let suffix = parent;
  // A leading dot stops the walk: an empty label can be part of no rule.
  while (dot > 0) {
    const end = dot;
    dot = host.lastIndexOf(".", dot - 1);
    const label = host.slice(dot + 1, end);
    const rules = rulesUnder(parent);
    if (rules?.has(`!${label}`)) return parent;
    const candidate = `${label}.${parent}`;
    if (rules !== undefined && (rules.has(label) || rules.has("*"))) suffix = candidate;
    parent = candidate;
  }
  return suffix;
}

/** Whether a host name in the URL parser's form is itself a public suffix. */
export function isPublicSuffix(host: string): boolean {
  return publicSuffix(host) === host;
}

/**
 * The registrable domain of a host name (its public suffix and one more label), or the host
 * itself when it is a public suffix.
 */
export function registrableDomain(host: string): string {
  const suffix = publicSuffix(host);
  if (suffix === host) return host;
  // The dot before the suffix; the label before it runs from the dot before that.
  const end = host.length - suffix.length - 1;
  return host.slice(end === 0 ? 0 : host.lastIndexOf(".", end - 1) + 1);
}
