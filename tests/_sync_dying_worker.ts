// Run by sync_test.ts as a script: `<runtime> tests/_sync_dying_worker.ts <server URL>`. It makes
// the sync API start its worker threads with tests/_sync_doom.ts loaded beside the real worker
// module (by wrapping node:worker_threads' Worker, which the sync API looks up when it starts a
// worker), lets a worker die or hang in the middle of a call, and prints one JSON line of what
// happened. Without the sync API's liveness check, the doomed call would block forever.

import process from "node:process";

type WorkerModule = { Worker: new (url: URL, options?: object) => object };
const getBuiltin = process.getBuiltinModule as (id: string) => unknown;
const doom = new URL("./_sync_doom.ts", import.meta.url).href;
const PREFIX = "data:text/javascript,";

process.getBuiltinModule = ((id: string) => {
  const module = getBuiltin(id);
  if (id !== "node:worker_threads") return module;
  const { Worker } = module as WorkerModule;
  class DoomedWorker extends Worker {
    constructor(url: URL, options?: object) {
      const entry = decodeURIComponent(url.href.slice(PREFIX.length));
      const code = `import ${JSON.stringify(doom)}; ${entry}`;
      super(new URL(`${PREFIX}${encodeURIComponent(code)}`), options);
    }
  }
  return { ...(module as object), Worker: DoomedWorker };
}) as typeof process.getBuiltinModule;

const requests = await import("../sync.ts");
const base = process.argv[2];
const report: Record<string, unknown> = {};

function doomed(name: string, call: () => unknown): void {
  const started = performance.now();
  try {
    call();
    report[name] = { returned: true };
  } catch (error) {
    report[name] = {
      ms: Math.round(performance.now() - started),
      requestError: error instanceof requests.RequestError,
      message: (error as Error).message,
      request: (error as InstanceType<typeof requests.RequestError>).request,
    };
  }
}

const session = new requests.Session({ headers: { "X-Kept": "yes" } });
session.get(`${base}/headers?set-cookie=sid%3D42%3B%20Path%3D%2F`);
report.before = requests.get(`${base}/get`).status_code;
// The server answers after 5 s and the call's own timeout is longer still: only the worker's
// death can end the call early.
doomed("exit", () => requests.get(`${base}/slow/5000?doom=exit`, { timeout: 30 }));
report.afterExit = requests.get(`${base}/get`).status_code;
const echoed = session.get(`${base}/echo`).json() as { headers: [string, string][] };
report.sessionHeaders = echoed.headers.filter(([name]) => name === "cookie" || name === "x-kept");
doomed("spin", () => session.get(`${base}/slow/5000?doom=spin`, { timeout: 30 }));
report.afterSpin = session.get(`${base}/get`).status_code;
process.stdout.write(`${JSON.stringify(report)}\n`);
