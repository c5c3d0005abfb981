#!/usr/bin/env node
// tsc compiles only TypeScript: copy the dashboard's static files next to the compiled modules.
import { cpSync } from "node:fs";

cpSync(new URL("../src/gateway/dashboard/static/", import.meta.url), new URL("../dist/gateway/dashboard/static/", import.meta.url), { recursive: true });
