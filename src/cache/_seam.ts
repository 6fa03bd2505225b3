// The sender seam as /work/wt/SEAM.md describes it, until src/transport/_sender.ts is on this
// branch: the caching sender is written against these shapes, which that file will replace.

import type { HeaderMap } from "../_headers.ts";
import type { HTTPDigestAuth } from "../digest_auth.ts";

/** One hop as the sender sees it. */
export interface Exchange {
  method: string;
  href: string;
  url: URL | null;
  headers: HeaderMap | null;
  payload: BodyInit | null;
  digest: HTTPDigestAuth | null;
  decoded: boolean;
  cache: CacheOutcome | null;
}

/** What a cache did for one hop. */
export interface CacheOutcome {
  fromCache: boolean;
  status: string | null;
}

/** How every hop of one call goes out. */
export interface Sender {
  send(exchange: Exchange, signal: AbortSignal | undefined): Promise<globalThis.Response>;
  readonly aborts: boolean;
  release(): void;
}
