// Stream a model's answer token by token, as a chat client does: POST the prompt, then read the
// `text/event-stream` reply one event at a time, as the server sends it.
//
//   deno run --allow-net examples/stream_tokens.ts [base-url]
//
// For a GET feed that should reconnect when the connection drops (as `EventSource` does), use
// `for await (const event of requests.events(url))` instead.

import process from "node:process";
import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
try {
  await using r = await requests.post(`${base}/v1/completions`, {
    json: { prompt: "Greet the camera", stream: true },
    headers: { Accept: "text/event-stream" },
    stream: true,
    timeout: [5, 30],
  });
  r.raise_for_status();
  let tokens = 0;
  for await (const event of r.iter_events()) {
    if (event.data === "[DONE]") break;
    const { token } = JSON.parse(event.data) as { token: string };
    process.stdout.write(token);
    tokens++;
  }
  process.stdout.write("\n");
  console.log(`${tokens} tokens`);
} finally {
  done();
}
