// Lint: the recommended rules of ESLint and typescript-eslint, without the
// type-checked presets so that a run takes seconds. Formatting is prettier's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const shared = [
  "console",
  "URL",
  "URLSearchParams",
  "AbortController",
  "AbortSignal",
  "TextEncoder",
  "TextDecoder",
  "structuredClone",
  "queueMicrotask",
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "fetch",
  "Response",
  "Request",
  "Headers",
  "performance",
  "crypto",
];
const node = [...shared, "process", "Buffer", "global", "globalThis", "setImmediate", "clearImmediate"];
const browser = [
  ...shared,
  "window",
  "document",
  "location",
  "history",
  "navigator",
  "localStorage",
  "sessionStorage",
  "EventSource",
  "Event",
  "CustomEvent",
  "HTMLElement",
  "Node",
  "requestAnimationFrame",
  "matchMedia",
  "FormData",
  "TextDecoderStream",
  "alert",
  "confirm",
  "prompt",
];
const readonly = (names) => Object.fromEntries(names.map((n) => [n, "readonly"]));

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/results/", "coverage/", ".prof/", ".tmp/", "test-results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{js,mjs,cjs,ts}"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: readonly(node) },
    rules: {
      // The house style names a value left out on purpose with a leading underscore (`{ revision: _revision, ...rest }`).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true }],
      // Terminal and text safety code matches control characters on purpose.
      "no-control-regex": "off",
    },
  },
  {
    files: ["src/gateway/dashboard/static/**/*.js"],
    languageOptions: { globals: readonly(browser) },
  },
);
