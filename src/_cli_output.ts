// What cli.ts prints: JSON re-indented (and colored for a terminal) token by token, so numbers
// and key order stay exactly as sent; byte sizes; and the progress bar of a download.

const TOKENS =
  /"(?:[^"\\]|\\.)*"|[{}[\],:]|true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const INDENT = "  ";
const RESET = "\x1b[0m";
const COLORS = {
  key: "\x1b[34;1m",
  string: "\x1b[32m",
  number: "\x1b[36m",
  literal: "\x1b[35m",
} as const;

/**
 * `text` re-indented by two spaces, with ANSI colors when `color` is true; null when it is not
 * JSON. Values are copied token for token, never re-serialized.
 */
export function formatJson(text: string, color: boolean): string | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const tokens = text.match(TOKENS) ?? [];
  const paint = (kind: keyof typeof COLORS, token: string) =>
    color ? `${COLORS[kind]}${token}${RESET}` : token;
  let out = "";
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    switch (token) {
      case "{":
      case "[":
        if (next === (token === "{" ? "}" : "]")) {
          out += token + next;
          i++;
        } else {
          depth++;
          out += `${token}\n${INDENT.repeat(depth)}`;
        }
        break;
      case "}":
      case "]":
        depth--;
        out += `\n${INDENT.repeat(depth)}${token}`;
        break;
      case ",":
        out += `,\n${INDENT.repeat(depth)}`;
        break;
      case ":":
        out += ": ";
        break;
      case "true":
      case "false":
      case "null":
        out += paint("literal", token);
        break;
      default:
        if (token.startsWith('"')) out += paint(next === ":" ? "key" : "string", token);
        else out += paint("number", token);
    }
  }
  return out;
}

/** `1234567` as `1.2 MB` (powers of 1000, as download tools show). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A one-line progress bar, redrawn in place at most ten times a second. */
export class ProgressBar {
  #write: (text: string) => void;
  #width: number;
  #started = performance.now();
  #drawn = 0;
  #loaded = 0;
  #total: number | null = null;

  /**
   * @param write Writes text to the terminal.
   * @param columns The terminal width.
   */
  constructor(write: (text: string) => void, columns: number) {
    this.#write = write;
    this.#width = Math.max(10, Math.min(40, columns - 45));
  }

  /** Records progress; redraws when the last drawing is old enough. */
  update(loaded: number, total: number | null): void {
    this.#loaded = loaded;
    this.#total = total;
    const now = performance.now();
    if (now - this.#drawn >= 100) {
      this.#drawn = now;
      this.#draw(now);
    }
  }

  /** Draws the final state and ends the line. */
  done(): void {
    this.#draw(performance.now());
    this.#write("\n");
  }

  #draw(now: number): void {
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = `${formatBytes(Math.round(this.#loaded / seconds))}/s`;
    const total = this.#total;
    let line: string;
    if (total !== null && total > 0) {
      const fraction = Math.min(this.#loaded / total, 1);
      const filled = Math.round(fraction * this.#width);
      line = `${(fraction * 100).toFixed(0).padStart(3)}% [${"#".repeat(filled)}${
        "-".repeat(this.#width - filled)
      }] ${formatBytes(this.#loaded)} of ${formatBytes(total)}  ${rate}`;
    } else {
      line = `${formatBytes(this.#loaded)}  ${rate}`;
    }
    this.#write(`\r${line}\x1b[K`);
  }
}
