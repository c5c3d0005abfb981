#!/usr/bin/env node
// tsc compiles only TypeScript: copy the dashboard's static files next to the compiled modules.
import { chmodSync, cpSync } from "node:fs";

cpSync(new URL("../src/gateway/dashboard/static/", import.meta.url), new URL("../dist/gateway/dashboard/static/", import.meta.url), { recursive: true });
// The build removes dist/ first, and tsc writes files without the executable bit: without it, an
// `openclaw` that `npm link` put on the PATH stops running after the next `npm run build`.
chmodSync(new URL("../dist/cli/main.js", import.meta.url), 0o755);
