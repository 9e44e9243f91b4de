/**
 * The built packages a bench measures, side by side with the raw client library:
 * `adapterRequire` resolves the client libraries from the adapters package (the same copies the
 * adapter uses, so both sides run the same code), `loadBuilt` imports the SDK and one adapter
 * subpath from packages/*\/dist, or exits with the build hint. QUIESCE_BENCH_SDK and
 * QUIESCE_BENCH_ADAPTERS (the adapter subpath's entry file) point at other builds, to compare
 * before and after a change; an adapters copy must import the same SDK build (its
 * node_modules/@quiesce/sdk) for a fair pair.
 */
import { createRequire } from "node:module";

export const adapterRequire = createRequire(new URL("../../packages/adapters/package.json", import.meta.url));

export async function loadBuilt(bench, subpath) {
  const here = `file://${process.cwd()}/`;
  const at = (variable, fallback) => (process.env[variable] ? new URL(process.env[variable], here) : new URL(fallback, import.meta.url));
  try {
    const sdk = await import(at("QUIESCE_BENCH_SDK", "../../packages/sdk/dist/index.js").href);
    const adapter = await import(at("QUIESCE_BENCH_ADAPTERS", `../../packages/adapters/dist/${subpath}/index.js`).href);
    return { sdk, adapter };
  } catch (error) {
    process.stderr.write(`${bench} bench: cannot load the built packages (run \`pnpm run build\` first): ${error.message}\n`);
    process.exit(1);
  }
}
