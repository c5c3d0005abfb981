import type { Command } from "commander";

// Shown under every command's --help: the fastest way to learn a command is one that works.
const EXAMPLES: Record<string, readonly string[]> = {
  "": ["openclaw sessions list", 'openclaw sessions append --dm telegram:42 "Hi there"', "openclaw status --verbose"],
  sessions: ["openclaw sessions list --status all", "openclaw sessions show dm:telegram:42"],
  "sessions list": ["openclaw sessions list --status expired --channel telegram", "openclaw sessions list --active 60 --limit 20 --json"],
  "sessions search": ['openclaw sessions search "order 1001"', 'openclaw sessions search --regex "RSV-\\d{4}" --include-pruned --json'],
  "sessions show": ["openclaw sessions show dm:telegram:42", "openclaw sessions show 01a226 --messages 50 --all"],
  "sessions context": ["openclaw sessions context dm:telegram:42", "openclaw sessions context group:slack:C1 --json"],
  "sessions export": ["openclaw sessions export dm:telegram:42 > alice.json", "openclaw sessions export --all --output backup.json"],
  "sessions append": [
    'openclaw sessions append --dm telegram:42 "Where is my order?"',
    'openclaw sessions append --session dm:telegram:42 --role assistant "Checking." --tool-call lookup_order \'{"id":"1001"}\' --json',
    'openclaw sessions append --session dm:telegram:42 --role tool --call-id call_1 \'{"status":"shipped"}\'',
    'echo "long text" | openclaw sessions append --group slack:C1 --from bob -',
  ],
  "sessions set": ["openclaw sessions set dm:telegram:42 --pref units=metric --deny-tool 'shell.*'", 'openclaw sessions set dm:telegram:42 --system "Be brief." --reset-tools'],
  "sessions clear": ["openclaw sessions clear dm:telegram:42", "openclaw sessions clear dm:telegram:42 --yes"],
  "sessions delete": ["openclaw sessions delete dm:telegram:42", "openclaw sessions delete --status expired --older-than 30d --dry-run"],
  "sessions fork": ["openclaw sessions fork dm:telegram:42", "openclaw sessions fork dm:telegram:42 --at 01a2267e-7f88-748b-af4c-4f114dc5e6ef --key dm:telegram:43"],
  "sessions import": [
    "openclaw sessions import backup.json",
    "openclaw sessions import backup.json dm:telegram:43 --replace-live",
    "openclaw sessions export --all | openclaw --store postgres://db/openclaw sessions import -",
  ],
  "sessions prune": ["openclaw sessions prune --dry-run", "openclaw sessions prune --archived-after 30d --backup pruned.json", "openclaw sessions prune --max-sessions 10000 --json"],
  "sessions rescope": ["openclaw sessions rescope --dry-run", "openclaw sessions rescope --json"],
  identities: ["openclaw identities list", "openclaw identities link alice telegram:42 slack:U123"],
  "identities list": ["openclaw identities list", "openclaw identities list --json"],
  "identities link": ["openclaw identities link alice telegram:42 slack:U123", "openclaw identities link alice discord:998877 --json"],
  "identities unlink": ["openclaw identities unlink slack:U123", "openclaw identities unlink alice"],
  usage: ["openclaw usage", "openclaw usage --by day --since 7d", "openclaw usage --by session --since 24h --json"],
  "sessions archive": ["openclaw sessions archive dm:telegram:42 group:slack:C1"],
  "sessions unarchive": ["openclaw sessions unarchive dm:telegram:42"],
  "sessions compact": ["openclaw sessions compact --dry-run", 'openclaw sessions compact dm:telegram:42 --now --focus "the refund"'],
  status: ["openclaw status", "openclaw status --verbose --json"],
  doctor: ["openclaw doctor", "openclaw doctor --fix", "openclaw --store postgres://openclaw@db.internal/openclaw doctor --json"],
  gateway: ["openclaw gateway", "OPENCLAW_GATEWAY_TOKEN=$(openssl rand -hex 16) openclaw gateway --host 0.0.0.0 --port 8080", "openclaw gateway --log-format json 2>> gateway.log"],
  "gateway token": ["openclaw gateway token", 'curl -H "Authorization: Bearer $(openclaw gateway token)" http://127.0.0.1:18789/admin/status'],
  security: ["openclaw security audit"],
  "security audit": ["openclaw security audit", "openclaw security audit --json"],
  store: ["openclaw store copy --from ~/.openclaw --to postgres://openclaw@db.internal/openclaw", "openclaw store rekey --new-key-file /etc/openclaw/store.key.new"],
  "store copy": [
    "openclaw store copy --from ~/.openclaw --to postgres://openclaw@db.internal/openclaw --dry-run",
    "openclaw store copy --from ~/.openclaw --to postgres://openclaw@db.internal/openclaw",
    "openclaw store copy --from ~/.openclaw --to /backup/plain --to-plain",
  ],
  "store rekey": ["openclaw store rekey --new-key-env OPENCLAW_NEW_KEY", "openclaw store rekey --new-key-file /etc/openclaw/store.key.new --json"],
  config: ["openclaw config show", "openclaw config validate --config ./config.json"],
  "config show": ["openclaw config show", "openclaw config show --json"],
  "config validate": ["openclaw config validate", "openclaw --config ./staging.json config validate --json"],
};

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Adds the examples above to the help of `program` and every command under it. */
export function addExamples(program: Command): void {
  const visit = (cmd: Command): void => {
    const lines = EXAMPLES[pathOf(cmd)];
    if (lines !== undefined) cmd.addHelpText("after", `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`);
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}

/** The command paths that have examples (for tests). */
export const EXAMPLE_PATHS: readonly string[] = Object.keys(EXAMPLES);
