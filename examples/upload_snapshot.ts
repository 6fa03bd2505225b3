// Upload a camera snapshot as multipart/form-data, with metadata fields, as an OpenMV script
// would after `img = sensor.snapshot()`.
//
//   deno run --allow-net examples/upload_snapshot.ts [base-url]

import * as requests from "../mod.ts";
import { baseUrl } from "./_local_server.ts";

const { base, done } = await baseUrl();
try {
  // Stand-in for a JPEG from the sensor: SOI marker, some bytes, EOI marker.
  const jpeg = new Uint8Array(32 * 1024);
  jpeg.set([0xff, 0xd8], 0);
  jpeg.set([0xff, 0xd9], jpeg.length - 2);

  const r = await requests.post(`${base}/upload`, {
    data: { camera: "openmv-01", taken_at: new Date().toISOString() },
    files: { snapshot: ["snapshot.jpg", jpeg, "image/jpeg"] },
    timeout: 10,
  });
  r.raise_for_status();
  console.log(r.status_code, r.json());
} finally {
  done();
}
