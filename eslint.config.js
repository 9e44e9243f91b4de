import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/*.mjs", "**/*.cjs", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["packages/*/src/**/*.ts", "packages/*/test/**/*.ts", "packages/examples/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
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
    rules: { "@typescript-eslint/explicit-module-boundary-types": "error" },
  },
  {
    // Tests, examples, benches and the CLI talk to a terminal.
    files: ["packages/*/test/**/*.ts", "packages/examples/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "packages/sdk/src/cli/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
