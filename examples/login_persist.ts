// Log in once and keep the session across runs: the cookie jar is saved to a cookies.txt file
// (the format curl -b/-c and Python's MozillaCookieJar read) and loaded by the next run.
//
//   deno run --allow-net --allow-env=TMPDIR,TMP,TEMP --allow-read --allow-write examples/login_persist.ts [base-url] [cookie-file]
//
// (`os.tmpdir()` reads TMPDIR, TMP and TEMP; give a file to keep the cookies elsewhere. Run it
// twice: the second run logs in no more. `curl -b FILE BASE/me` uses the same cookies.)

import os from "node:os";
import process from "node:process";
import { CookieJar, Session } from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const file = process.argv[3] ?? `${os.tmpdir()}/requests-login-cookies.txt`;

/** The cookies of the last run, or an empty jar on the first. */
async function savedCookies(): Promise<CookieJar> {
  try {
    return await CookieJar.load(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return new CookieJar();
    throw error;
  }
}

const { base, done } = await baseUrl();
try {
  const jar = await savedCookies();
  await using session = new Session({ base_url: base, cookies: jar, timeout: 10 });
  if ((await session.get("/me")).status_code === 401) {
    const login = await session.post("/login", {
      json: { user: "camera-01", password: "s3cret" },
    });
    login.raise_for_status();
    await jar.save(file); // the session's jar: what the login set
    console.log(`logged in; cookies saved to ${file}`);
  } else {
    console.log(`reused the cookies saved in ${file}: no login`);
  }
  const me = await session.get("/me");
  console.log(me.status_code, me.json());
} finally {
  done();
}
