// Debian's redis-server for the tests of examples/cache_redis.ts: started on a free loopback
// port, without persistence, stopped by its pid. Null (with the reason) when it cannot be had:
// the package is absent, or the example's npm client (examples/deps) is not installed.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { closedPort } from "./_server.ts";

const SERVER = "/usr/bin/redis-server";
const CLIENT = new URL("../examples/deps/node_modules/redis/package.json", import.meta.url);

/** A running redis-server. */
export interface Redis {
  url: string;
  stop(): Promise<void>;
}

/** Why Redis cannot be had here, or null when it can. */
export function redisMissing(): string | null {
  if (!fs.existsSync(SERVER)) {
    return `${SERVER} is absent (Debian package redis-server; .ci/run installs it)`;
  }
  if (!fs.existsSync(CLIENT)) {
    return "the redis npm client is absent: npm ci --prefix examples/deps";
  }
  return null;
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts redis-server on a free loopback port and waits until it accepts connections. */
export async function startRedis(): Promise<Redis> {
  const port = await closedPort();
  const child = spawn(
    SERVER,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; i < 100; i++) {
    if (await accepting(port)) {
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not start on port ${port}`);
}
