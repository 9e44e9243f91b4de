// The SDK's JavaScript, bundled: tsc checks the types and writes the declarations (dist/**/*.d.ts),
// rolldown writes the code. One file per entry point instead of ~45 small ES modules takes about
// 20 ms off every worker's start (resolving and linking each module costs more than its size
// suggests), and the entries share one copy of every class (`instanceof ConfigError` holds
// whichever entry a caller imported it from). What loads lazily stays lazy: each dynamic
// `import()` (the Kubernetes integration, prom-client, node:crypto) is a chunk of its own.
import { defineConfig } from "rolldown";

const bare = /^[^./]/; // node builtins and packages (prom-client, client-node, vitest) stay imports

export default defineConfig({
  input: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    "source-kit/index": "src/source-kit/index.ts",
    "cli/main": "src/cli/main.ts",
    // Internal, not in the package's exports, for the benches: bench/scale-down.mjs drives the
    // pod integration directly (the runtime's lazy import() of it loads this same file), and
    // bench/checkpoint.mjs needs withoutCheckpoints without the testing entry's vitest import.
    "kubernetes/index": "src/kubernetes/index.ts",
    "testing/without-checkpoints": "src/testing/without-checkpoints.ts",
  },
  external: (id) => bare.test(id),
  platform: "node",
  tsconfig: "tsconfig.json",
  output: {
    dir: "dist",
    format: "esm",
    sourcemap: true,
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/[name]-[hash].js",
    // Keep names readable in stack traces and profiles.
    minify: false,
  },
});
