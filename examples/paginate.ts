// Walk a paginated API (GitHub-style `Link: <...>; rel="next"` headers), validating each item
// with a schema: the loop sees typed items, and pages are fetched only as it asks for more.
//
//   deno run --allow-net examples/paginate.ts [base-url]
//
// The schema is a Standard Schema written by hand, so the example needs no package; a Zod or
// Valibot schema (`z.object({ name: z.string(), stars: z.number() })`) goes in its place as is.

import { paginate, type StandardSchemaV1 } from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

interface Repo {
  name: string;
  stars: number;
}

/** A repository: a name and a star count; anything else in the item is dropped. */
const Repo: StandardSchemaV1<unknown, Repo> = {
  "~standard": {
    version: 1,
    vendor: "example",
    validate(value) {
      const { name, stars } = (value ?? {}) as Record<string, unknown>;
      if (typeof name !== "string") {
        return { issues: [{ message: "Expected a name", path: ["name"] }] };
      }
      if (typeof stars !== "number") {
        return { issues: [{ message: "Expected a star count", path: ["stars"] }] };
      }
      return { value: { name, stars } };
    },
  },
};

const { base, done } = await baseUrl();
try {
  let count = 0;
  let starred: Repo | null = null;
  const repos = paginate(`${base}/repos`, {
    timeout: 10,
    pagination: { schema: Repo, max_pages: 10 },
  });
  for await (const repo of repos) {
    count++;
    console.log(`${repo.name} ★${repo.stars}`);
    if (starred === null || repo.stars > starred.stars) starred = repo;
  }
  console.log(`${count} repositories; most starred: ${starred?.name} (★${starred?.stars})`);
} finally {
  done();
}
