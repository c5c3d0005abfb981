// Preloaded (node --import) into a measured child when GNU time is absent:
// records the child's own peak RSS in KiB when it exits, whatever the exit path.
import { writeFileSync } from "node:fs";

const target = process.env.BENCH_MAXRSS_FILE;
if (target !== undefined) {
  process.on("exit", () => writeFileSync(target, `${process.resourceUsage().maxRSS}\n`));
}
