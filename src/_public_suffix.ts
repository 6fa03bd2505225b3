/**
 * Public suffix lookups (https://publicsuffix.org/list/ "Algorithm") over the rules in
 * `_public_suffix_data.ts`, which stay one string until the first host of more than one label is
 * looked up.
 *
 * @module
 */

import { RULES } from "./_public_suffix_data.ts";

/** Every rule in full (`co.uk`, `*.ck`, `!www.ck`); `null` until first needed. */
let rules: Set<string> | null = null;

function loadRules(): Set<string> {
  const set = new Set<string>();
  for (const line of RULES.split("\n")) {
    const words = line.split(" ");
    const top = words[0];
    for (let i = 1; i < words.length; i++) set.add(`${words[i]}.${top}`);
  }
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
  rules ??= loadRules();
  let suffix = host.slice(dot + 1);
  let parent = suffix;
  // A leading dot stops the walk: an empty label can be part of no rule.
  while (dot > 0) {
    dot = host.lastIndexOf(".", dot - 1);
    const candidate = host.slice(dot + 1);
    if (rules.has(`!${candidate}`)) return parent;
    if (rules.has(candidate) || rules.has(`*.${parent}`)) suffix = candidate;
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
