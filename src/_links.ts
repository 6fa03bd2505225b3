// The `Link` header (RFC 8288) as Python `requests` reads it: keyed by `rel`, else by URL.
// A scanner that reads each character once: the header is the server's, and a regular
// expression that backtracks on it costs time quadratic in its length.

import type { Link } from "./response.ts";

const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

function skipSpace(text: string, at: number): number {
  let c = text.charCodeAt(at);
  while (c === SPACE || c === TAB) c = text.charCodeAt(++at);
  return at;
}

/** Where a parameter name ends: `=`, `;`, `,`, whitespace or the end of the text. */
function nameEnd(text: string, at: number): number {
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === EQUALS || c === SEMICOLON || c === COMMA || c === SPACE || c === TAB) break;
  }
  return at;
}

const QUOTED_PAIR = /\\([\s\S])/g;

/**
 * The quoted string whose opening quote is at `at - 1`, unescaped (`\x` stands for `x`), and
 * where it ends; an unterminated one runs to the end of the text.
 */
function quoted(text: string, at: number): [string, number] {
  const start = at;
  let escaped = false;
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      escaped = true;
      at++; // the escaped character is kept as it is, even a quote
    }
  }
  const end = Math.min(at, text.length);
  const raw = text.slice(start, end);
  return [escaped ? raw.replace(QUOTED_PAIR, "$1") : raw, end + 1];
}

/**
 * Reads the `; name=value` parameters that start at `at` into `link`, and returns where they
 * end. Names are lower-cased; values unquoted and trimmed; a name without `=` gets "".
 */
function readParams(text: string, at: number, link: Link): number {
  for (;;) {
    at = skipSpace(text, at);
    if (text.charCodeAt(at) !== SEMICOLON) return at;
    const start = skipSpace(text, at + 1);
    at = nameEnd(text, start);
    if (at === start) return at;
    const name = text.slice(start, at).toLowerCase();
    at = skipSpace(text, at);
    let value = "";
    if (text.charCodeAt(at) === EQUALS) {
      at = skipSpace(text, at + 1);
      if (text.charCodeAt(at) === QUOTE) {
        [value, at] = quoted(text, at + 1);
      } else {
        const from = at;
        let c = text.charCodeAt(at);
        while (at < text.length && c !== COMMA && c !== SEMICOLON) c = text.charCodeAt(++at);
        value = text.slice(from, at);
      }
    }
    link[name] = value.trim();
  }
}

/**
 * `header` parsed as `Response.links` gives it, in time linear in its length: each `<url>`
 * with its parameters, keyed by its `rel` parameter, or by its URL when it has none. A `,` or
 * `;` inside `<...>` or inside a quoted value belongs to it; text that fits no link is skipped
 * up to the next `<`.
 */
export function parseLinks(header: string): Record<string, Link> {
  const links: Record<string, Link> = Object.create(null);
  let at = 0;
  for (;;) {
    const open = header.indexOf("<", at);
    if (open < 0) break;
    const close = header.indexOf(">", open + 1);
    // No `>` after this `<` means none after any later one either: nothing more to find.
    if (close < 0) break;
    const link: Link = Object.create(null);
    link.url = header.slice(open + 1, close);
    at = readParams(header, close + 1, link);
    links[link.rel ?? link.url] = link;
  }
  return links;
}
