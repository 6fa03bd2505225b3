// HeaderMap, the record the module hands to fetch, must keep what `Headers` would keep.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HeaderMap } from "../src/_headers.ts";

test("HeaderMap set, append, delete and get agree with Headers", () => {
  const names = ["Accept", "accept", "X-Token", "x-token", "Content-Type"];
  const values = ["a", " padded ", "\ttab\t", "x, y", "\r\nlead", "é"];
  let seed = 7;
  const pick = <T>(list: T[]) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return list[seed % list.length];
  };
  for (let round = 0; round < 200; round++) {
    const map = new HeaderMap();
    const headers = new Headers();
    for (let step = 0; step < 6; step++) {
      const name = pick(names);
      const value = pick(values);
      const op = pick(["set", "append", "delete"] as const);
      if (op === "delete") {
        map.delete(name);
        headers.delete(name);
      } else {
        map[op](name, value);
        headers[op](name, value);
      }
      for (const probe of names) {
        assert.equal(map.get(probe), headers.get(probe), `${op} ${name}: get ${probe}`);
        assert.equal(map.has(probe), headers.has(probe));
      }
    }
    // Through fetch both are copied into a new Headers, which trims the values again.
    assert.deepEqual([...new Headers(map.fields)], [...new Headers([...headers])]);
  }
});

test("HeaderMap fields inherit nothing, so nothing inherited is sent", () => {
  const map = new HeaderMap();
  map.set("Accept", "text/plain");
  const proto = Object.prototype as Record<string, unknown>;
  proto["x-polluted"] = "yes";
  try {
    assert.equal("x-polluted" in map.fields, false);
  } finally {
    delete proto["x-polluted"];
  }
  assert.deepEqual([...new Headers(map.fields)], [["accept", "text/plain"]]);
});
