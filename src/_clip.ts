// The one rule for quoting a URL or value in a message: at most its first 200 characters.

/**
 * `text` cut to its first `max` characters with "..." after them, or `text` itself when it is no
 * longer, so that a hostile server or a huge argument cannot make an error message huge. A
 * surrogate pair is never cut in half.
 */
export function clip(text: string, max = 200): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}...`;
}
