/** Writes dashboard.json from dashboard.ts: `node packages/examples/dist/grafana/write-dashboard.js`. */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dashboard } from "./dashboard.js";

const out = fileURLToPath(new URL("../../grafana/dashboard.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(dashboard, null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
