// Log in once, keep the session cookie, and call an authenticated endpoint with it.
//
//   deno run --allow-net examples/session_login.ts [base-url]

import { Session } from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
try {
  await using session = new Session({
    base_url: base,
    headers: { "X-Device": "openmv-01" },
    timeout: 10,
  });
  const login = await session.post("/login", { json: { user: "camera-01", password: "s3cret" } });
  login.raise_for_status();
  console.log("cookies after login:", session.cookies.toObject());

  const me = await session.get("/me");
  console.log(me.status_code, me.json());
} finally {
  done();
}
