import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

/**
 * The direction of dependencies between the SDK's folders, lowest first. A folder may import
 * from the layers below its own, never from a layer above nor from a sibling in its own layer,
 * so no cycle can form between folders (madge and import-x/no-cycle skip type-only imports,
 * this rule sees them too). Top-level files of src/ sit in the layer they are listed in.
 */
const sdkLayers = [
  ["errors.ts", "logger.ts"],
  ["internal"],
  ["handler.ts", "lifecycle", "source", "resources"],
  ["events.ts", "config", "lease"],
  ["loop", "drain"],
  ["http", "metrics", "kubernetes"],
  ["status.ts"],
  ["runtime.ts"],
  ["worker.ts"],
  ["index.ts", "testing", "source-kit", "cli"],
];
/** The adapters' folders: shared pieces first, then one folder per backend that may not import another. */
const adapterLayers = [["redis"], ["bullmq", "amqp", "sqs", "pg", "checkpoint-redis", "checkpoint-pg"]];

const nodeGlobals = Object.fromEntries(
  [
    "process", "console", "Buffer", "URL", "URLSearchParams", "AbortController", "AbortSignal", "TextEncoder", "TextDecoder",
    "setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate", "queueMicrotask",
    "structuredClone", "performance", "fetch", "globalThis",
  ].map((name) => [name, "readonly"]),
);

function directionZones(root, layers) {
  const zones = [];
  layers.forEach((layer, i) => {
    const above = layers.slice(i + 1).flat();
    for (const part of layer) {
      const siblings = layer.filter((other) => other !== part);
      const from = [...above, ...siblings].map((p) => `${root}/${p}`);
      if (from.length === 0) continue;
      zones.push({
        target: `${root}/${part}`,
        from,
        message: `${root}/${part} sits below (or beside) these in the folder direction of eslint.config.js; move the shared piece down instead.`,
      });
    }
  });
  return zones;
}

export default tseslint.config(
  // Plain .mjs is ignored except the bench scripts, which are linted as Node ESM (see below).
  { ignores: ["**/dist/**", "**/node_modules/**", "**/*.mjs", "!bench/**/*.mjs", "**/*.cjs", "coverage/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["packages/*/src/**/*.ts", "packages/*/test/**/*.ts", "packages/examples/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: {
      // Resolve the ".js" specifiers of NodeNext sources to their ".ts" files, or the import
      // rules below cannot follow an import.
      "import-x/resolver-next": [createNodeResolver({ extensionAlias: { ".js": [".ts", ".js"] } })],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-cycle": "error",
      "no-console": "error",
    },
  },
  {
    files: ["packages/*/src/**/*.ts"],
    rules: {
      "@typescript-eslint/explicit-module-boundary-types": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            ...directionZones("./packages/sdk/src", sdkLayers),
            ...directionZones("./packages/adapters/src", adapterLayers),
            {
              target: "./packages/adapters/src",
              from: "./packages/sdk/src",
              message: "adapters import @quiesce/sdk (or @quiesce/sdk/source-kit), never the SDK's sources.",
            },
          ],
        },
      ],
    },
  },
  {
    // The bench scripts: plain Node ESM, no type information; they print their results.
    files: ["bench/**/*.mjs"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: nodeGlobals },
    rules: {
      "no-console": "off",
      // `const { dropped, ...kept } = run` is how the benches leave fields out of a JSON line.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Tests, examples, benches and the CLI talk to a terminal.
    files: ["packages/*/test/**/*.ts", "packages/examples/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "packages/sdk/src/cli/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
