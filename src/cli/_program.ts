import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { channelPair, collect, intAtLeast, parseDuration, tokenPair } from "./_args.js";
import type { AppendFlags } from "./commands/append.js";
import { addExamples } from "./_examples.js";
import type { ForkFlags } from "./commands/fork.js";
import type { DoctorFlags } from "./commands/doctor.js";
import type { ClearFlags } from "./commands/clear.js";
import type { CompactFlags } from "./commands/compact.js";
import type { ContextFlags } from "./commands/context.js";
import type { DeleteFlags } from "./commands/delete.js";
import type { ExportFlags } from "./commands/export.js";
import type { JsonFlag } from "./_args.js";
import { portNumber } from "./_args.js";
import type { GatewayFlags } from "./commands/gateway.js";
import type { ImportFlags } from "./commands/import.js";
import type { ListFlags } from "./commands/list.js";
import type { PruneFlags } from "./commands/prune.js";
import type { SearchFlags } from "./commands/search.js";
import type { RescopeFlags } from "./commands/rescope.js";
import type { SetFlags } from "./commands/set.js";
import type { ShowFlags } from "./commands/show.js";
import type { StatusFlags } from "./commands/status.js";
import type { UsageFlags } from "./commands/usage.js";
import type { StoreCopyFlags } from "./commands/store-copy.js";
import type { StoreRekeyFlags } from "./commands/store-rekey.js";

// Only commander is loaded eagerly: every action imports its own module, so
// `openclaw sessions list` never loads the code of `import` or `compact`.

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

// Who may name which session: the gateway's trust model, where an operator looks first.
const GATEWAY_TRUST = `
Credentials and trust (gateway.auth):
  Every route but GET /health needs "Authorization: Bearer <token>". With no
  token configured, the first start generates one (<state dir>/gateway-token,
  0600) and prints it once; \`openclaw gateway token\` shows it again.
  gateway.auth.token / OPENCLAW_GATEWAY_TOKEN: one token with every scope.
  gateway.auth.tokens: [{name, token | tokenSha256 | tokenEnv, scopes}], scopes:
    chat         /v1 statelessly and on the conversations and responses it created
    route        /v1 naming any session by x-openclaw-session-key or channel + sender
    hooks        POST /hooks/inbound
    admin:read   GET /admin/… and the dashboard
    admin:write  changes under /admin
  Only route names a user's session; a chat token opens only what it created
  (other sessions are 404 to it). gateway.auth.mode "none" drops tokens, on
  loopback only.`;

const jsonOption = (): Option => new Option("--json", "print one JSON document on stdout");

/** Builds the `openclaw` command tree; parsing errors throw instead of exiting (see main.ts). */
export function buildProgram(): Command {
  const program = new Command("openclaw")
    .description("Manage the sessions of the OpenClaw assistant in its store.")
    .version(version(), "-V, --version", "print the version")
    .option("--state-dir <dir>", "state directory (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
    .option("--config <file>", "config file (default: $OPENCLAW_CONFIG_PATH or <state dir>/config.json)")
    .option("--store <uri>", "session store: file:<dir>, postgres://user@host/db or memory: (default: $OPENCLAW_STORE, then storage.uri, then the state dir)")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    // main.ts prints every error as one `error: ` line; commander must stay quiet and throw.
    .configureOutput({ outputError: () => undefined })
    .exitOverride();

  const sessions = program.command("sessions").description("list, inspect, edit and maintain sessions");
  addReadCommands(sessions);
  addWriteCommands(sessions);
  addMaintenanceCommands(sessions);

  program
    .command("status")
    .description("state directory, store size, sessions by status and kind")
    .option("-v, --verbose", "add per-session context usage, the largest sessions, the running gateway's figures and memory use")
    .addOption(jsonOption())
    .action(async (opts: StatusFlags, cmd: Command) => (await import("./commands/status.js")).runStatus(opts, cmd));

  program
    .command("usage")
    .description("tokens the sessions' model calls used (input, output, total), by channel, day or session")
    .addOption(new Option("--by <grouping>", "group by channel, day (UTC) or session").choices(["channel", "day", "session"]).default("channel"))
    .option("--since <duration>", "only model calls in the last DURATION (30m, 12h, 7d)", parseDuration)
    .option("--limit <n>", "at most N rows (default 50)", intAtLeast(1))
    .addOption(jsonOption())
    .action(async (opts: UsageFlags, cmd: Command) => (await import("./commands/usage.js")).runUsage(opts, cmd));

  const gateway = program
    .command("gateway")
    .description("serve the sessions over HTTP: an OpenAI-compatible API, an admin API and the dashboard")
    .option("--host <host>", "address to bind (default: gateway.host, 127.0.0.1)")
    .option("--port <port>", "port to listen on, 0 for any free port (default: gateway.port, 18789)", portNumber)
    .option("--model <name>", "echo: the built-in offline model (not for production); another name: that model on gateway.model's upstream")
    .addOption(new Option("--log-format <format>", "log lines on stderr: json (one object a line) or pretty (default: gateway.log.format, else pretty on a terminal, json otherwise)").choices(["json", "pretty"]))
    .addOption(new Option("--log-level <level>", "least severe level logged (default: gateway.log.level, info)").choices(["debug", "info", "warn", "error", "silent"]))
    .addOption(jsonOption())
    .addHelpText("after", GATEWAY_TRUST)
    .action(async (opts: GatewayFlags, cmd: Command) => (await import("./commands/gateway.js")).runGateway(opts, cmd));
  gateway
    .command("token")
    .description("print the gateway token (the one generated on first start, or set by config or OPENCLAW_GATEWAY_TOKEN)")
    .addOption(jsonOption())
    .action(async (opts: JsonFlag, cmd: Command) => (await import("./commands/gateway.js")).runGatewayToken(opts, cmd));

  program
    .command("doctor")
    .description("read every document and log of the store, report each problem with what to do; --fix repairs what it can")
    .option("--fix", "restore quarantined files that parse again, remove leftovers, move corrupt files aside, rebuild the index, and archive all but the newest live session of a key that has several")
    .addOption(jsonOption())
    .action(async (opts: DoctorFlags, cmd: Command) => (await import("./commands/doctor.js")).runDoctor(opts, cmd));

  program
    .command("security")
    .description("check the set-up for what would expose the sessions")
    .command("audit")
    .description("file modes, tokens and their scopes, an exposed gateway, plain-http upstreams, encryption at rest: each finding with what to change; exit 1 while one remains")
    .addOption(jsonOption())
    .action(async (opts: JsonFlag, cmd: Command) => (await import("./commands/security.js")).runSecurityAudit(opts, cmd));

  const store = program.command("store").description("move sessions between stores, rotate the encryption key");
  store
    .command("copy")
    .description("copy every session (pruned history included) from one store to another, then check the copy; safe to re-run")
    .requiredOption("--from <uri>", "source store: file:<dir>, a directory, postgres://… or memory:")
    .requiredOption("--to <uri>", "target store")
    .option("--dry-run", "count what would be copied; write nothing")
    .option("--skip-existing", "leave sessions the target already has as they are")
    .option("--as-archived", "copy a live session whose key already has another live session in the target archived")
    .option("--replace-live", "archive the target's live session of the key and copy the session as the key's live one")
    .option("--from-key-env <name>", "the source's encryption key from this environment variable (default: storage.encryption)")
    .option("--from-key-file <path>", "the source's encryption key from this file (mode 0600)")
    .option("--to-key-env <name>", "encrypt the target with the key in this environment variable (default: storage.encryption)")
    .option("--to-key-file <path>", "encrypt the target with the key in this file (mode 0600)")
    .option("--to-plain", "write the target unencrypted, whatever storage.encryption says")
    .addOption(jsonOption())
    .action(async (opts: StoreCopyFlags, cmd: Command) => (await import("./commands/store-copy.js")).runStoreCopy(opts, cmd));
  store
    .command("rekey")
    .description("re-encrypt every session with a new key (storage.encryption's key opens the old content; a plain store becomes encrypted); safe to re-run")
    .option("--new-key-env <name>", "environment variable holding the new 32-byte key (base64 or hex)")
    .option("--new-key-file <path>", "file (mode 0600) holding the new key")
    .addOption(jsonOption())
    .action(async (opts: StoreRekeyFlags, cmd: Command) => (await import("./commands/store-rekey.js")).runStoreRekey(opts, cmd));

  const identities = program.command("identities").description("people whose channel identities share one DM session (sessions.identityLinks in config.json)");
  identities
    .command("list")
    .description("each person, their identities, and the DM key they share under sessions.dmScope")
    .addOption(jsonOption())
    .action(async (opts: JsonFlag, cmd: Command) => (await import("./commands/identities.js")).runIdentitiesList(opts, cmd));
  identities
    .command("link")
    .description("link channel identities to a person (created when new); an identity belongs to one person")
    .argument("<person>", "the person's id (A-Z a-z 0-9 _ . @ + = -)")
    .argument("<identities...>", "channel:userId, e.g. telegram:42 slack:U123")
    .addOption(jsonOption())
    .action(async (person: string, ids: string[], opts: JsonFlag, cmd: Command) => (await import("./commands/identities.js")).runIdentitiesLink(person, ids, opts, cmd));
  identities
    .command("unlink")
    .description("unlink identities (channel:userId), or a person and all their identities (a bare person id)")
    .argument("<targets...>", "channel:userId or person id")
    .addOption(jsonOption())
    .action(async (targets: string[], opts: JsonFlag, cmd: Command) => (await import("./commands/identities.js")).runIdentitiesUnlink(targets, opts, cmd));

  const config = program.command("config").description("show or check the configuration");
  config
    .command("show")
    .description("effective configuration, and where each value came from")
    .addOption(jsonOption())
    .action(async (opts: JsonFlag, cmd: Command) => (await import("./commands/config.js")).runConfigShow(opts, cmd));
  config
    .command("validate")
    .description("check the config file; exit 1 with the first problem")
    .addOption(jsonOption())
    .action(async (opts: JsonFlag, cmd: Command) => (await import("./commands/config.js")).runConfigValidate(cmd, opts));
  addExamples(program);
  return program;
}

function addReadCommands(sessions: Command): void {
  sessions
    .command("list")
    .description("sessions, newest activity first (archived ones hidden unless asked for)")
    .addOption(new Option("--status <status>", "only this status").choices(["created", "active", "expired", "archived", "all"]))
    .addOption(new Option("--kind <kind>", "only this kind").choices(["dm", "group", "isolated"]))
    .option("--channel <channel>", "only this channel")
    .option("--active <minutes>", "only sessions active in the last N minutes", intAtLeast(1))
    .option("--limit <n>", "at most N sessions (default 50)", intAtLeast(1))
    .option("--offset <n>", "skip the first N sessions (paging with --limit)", intAtLeast(0))
    .addOption(jsonOption())
    .action(async (opts: ListFlags, cmd: Command) => (await import("./commands/list.js")).runList(opts, cmd));

  sessions
    .command("search")
    .description("messages containing TEXT (case-insensitive), newest first, across sessions")
    .argument("<text>", "text to find, or a JavaScript regular expression with --regex")
    .option("--regex", "TEXT is a JavaScript regular expression (matched case-insensitively)")
    .addOption(new Option("--kind <kind>", "only sessions of this kind").choices(["dm", "group", "isolated"]))
    .option("--channel <channel>", "only sessions on this channel")
    .addOption(new Option("--status <status>", "only sessions with this status (default: all but archived)").choices(["created", "active", "expired", "archived", "all"]))
    .option("--include-pruned", "also search the pruned history (messages folded into the summary)")
    .option("--limit <n>", "at most N hits (default 50)", intAtLeast(1))
    .addOption(jsonOption())
    .action(async (text: string, opts: SearchFlags, cmd: Command) => (await import("./commands/search.js")).runSearch(text, opts, cmd));

  sessions
    .command("show")
    .description("metadata, preferences, tools, context usage, summary and recent messages")
    .argument("<ref>", "session id, id prefix (≥ 6 characters) or routing key")
    .option("--messages <n>", "how many recent messages to show", intAtLeast(0), 20)
    .option("--all", "also show the pruned-history log (messages folded into the summary)")
    .addOption(jsonOption())
    .action(async (ref: string, opts: ShowFlags, cmd: Command) => (await import("./commands/show.js")).runShow(ref, opts, cmd));

  sessions
    .command("context")
    .description("exactly what the model would be sent now: each message with its part and tokens, against the window and budget")
    .argument("<ref>", "session id, id prefix (≥ 6 characters) or routing key")
    .addOption(jsonOption())
    .action(async (ref: string, opts: ContextFlags, cmd: Command) => (await import("./commands/context.js")).runContext(ref, opts, cmd));

  sessions
    .command("export")
    .description("write sessions as one versioned JSON document (stdout by default)")
    .argument("[refs...]", "sessions to export")
    .option("--all", "export every session")
    .option("-o, --output <file>", "write to FILE (atomically, mode 0600) instead of stdout")
    .action(async (refs: string[], opts: ExportFlags, cmd: Command) => (await import("./commands/export.js")).runExport(refs, opts, cmd));
}

function addWriteCommands(sessions: Command): void {
  sessions
    .command("append")
    .description("record one message in the routed session, creating it when needed (no model is called)")
    .argument("<text>", 'message text, or "-" to read it from stdin')
    .option("--dm <channel:user>", "direct-message session of USER on CHANNEL", channelPair("USER"))
    .option("--group <channel:group>", "group session of GROUP on CHANNEL (needs --from)", channelPair("GROUP"))
    .option("--from <user>", "sender of the message (with --group or --session)")
    .option("--isolated <name>", "a new isolated session for task NAME")
    .option("--hook <name>", "the session of webhook NAME (key hook:NAME), apart from every conversation")
    .option("--job <name>", "a session for one run of job NAME (key job:NAME:RUN)")
    .option("--run <id>", "with --job: the run id (default: a new one, so a new session)")
    .option("--session <ref>", "an existing session")
    .addOption(new Option("--role <role>", "message role").choices(["user", "assistant", "system", "tool"]).default("user"))
    .option("--call-id <id>", "with --role tool: the id of the tool call this result answers")
    .option("--tool-call <name-and-args...>", "with --role assistant: NAME ARGS_JSON, a tool call to record (repeatable; give the text first or end the pairs with another option)", collect)
    .option("--thread <id>", "with --dm or --group: the thread ID inside it (key …:thread:ID)")
    .option("--account <id>", "with --dm or --group: the bot account that received the message (sessions.dmScope per-account-channel-peer keys DMs by it)")
    .option("--display-name <name>", "with --dm or --group: the sender's display name (kept in the session's origin)")
    .option("--subject <text>", "with --dm or --group: the group's subject (kept in the session's origin)")
    .option("--pin", "pin the message: it is never folded into the summary")
    .option("--client-id <id>", "the sender's id for this message: repeating the command with the same id stores it once")
    .option("--usage <input:output>", "with --role assistant: the tokens the model call used (added to the session's usage)", tokenPair)
    .option("--no-commands", 'record a message such as "/new" or "/status" as it is instead of running it as an in-chat command')
    .addOption(jsonOption())
    .action(async (text: string, opts: AppendFlags, cmd: Command) => (await import("./commands/append.js")).runAppend(text, opts, cmd));

  sessions
    .command("set")
    .description("edit preferences, tool permissions and the system prompt")
    .argument("<ref>", "session id, id prefix or routing key")
    .option("--pref <key=value>", "set a preference; VALUE is JSON when it parses, else text (repeatable)", collect)
    .option("--unset-pref <key>", "remove a preference (repeatable)", collect)
    .option("--allow-tool <pattern>", "allow tools matching PATTERN, * wildcards (repeatable)", collect)
    .option("--deny-tool <pattern>", "deny tools matching PATTERN; deny wins (repeatable)", collect)
    .option("--remove-allow <pattern>", "remove PATTERN from the allow list (repeatable)", collect)
    .option("--remove-deny <pattern>", "remove PATTERN from the deny list (repeatable)", collect)
    .option("--reset-tools", "set the tool permissions back to the config default for the session's kind")
    .option("--system <text>", 'replace the system prompt ("" removes it)')
    .option("--label <text>", 'name the session: shown by list and the dashboard, matched by search ("" removes it)')
    .addOption(jsonOption())
    .action(async (ref: string, opts: SetFlags, cmd: Command) => (await import("./commands/set.js")).runSet(ref, opts, cmd));

  sessions
    .command("fork")
    .description("start a new session from another's history (up to a message); the original is untouched")
    .argument("<ref>", "session id, id prefix or routing key")
    .option("--at <message-id>", "the last message to keep (default: all of them)")
    .option("--key <key>", "the fork's key: dm:CHANNEL:USER or group:CHANNEL:GROUP with no live session, or isolated:NAME (default isolated:fork)")
    .addOption(jsonOption())
    .action(async (ref: string, opts: ForkFlags, cmd: Command) => (await import("./commands/fork.js")).runFork(ref, opts, cmd));

  sessions
    .command("clear")
    .description("remove a session's history; keep its id, key, preferences, tools and system prompts")
    .argument("<ref>", "session id, id prefix or routing key")
    .option("-y, --yes", "do not ask before clearing an active session (asked only on a terminal)")
    .addOption(jsonOption())
    .action(async (ref: string, opts: ClearFlags, cmd: Command) => (await import("./commands/clear.js")).runClear(ref, opts, cmd));

  sessions
    .command("delete")
    .description("remove sessions and all their files")
    .argument("[refs...]", "sessions to delete")
    .addOption(new Option("--status <status>", "bulk: every session with this status").choices(["expired", "archived"]))
    .option("--older-than <duration>", "bulk: only those inactive for longer than DURATION (30m, 12h, 7d)", parseDuration)
    .option("--dry-run", "list what would be deleted, delete nothing")
    .option("-y, --yes", "do not ask before deleting active sessions (asked only on a terminal)")
    .addOption(jsonOption())
    .action(async (refs: string[], opts: DeleteFlags, cmd: Command) => (await import("./commands/delete.js")).runDelete(refs, opts, cmd));
}

function addMaintenanceCommands(sessions: Command): void {
  sessions
    .command("import")
    .description("restore sessions from an export document (all of them, or those the refs name)")
    .argument("<file>", 'export file, or "-" for stdin')
    .argument("[refs...]", "only these sessions of the document: ids, id prefixes or routing keys")
    .option("--overwrite", "replace sessions that already exist")
    .option("--skip-existing", "leave sessions that already exist as they are; import the rest")
    .option("--as-archived", "import a live session whose key already has another live session archived")
    .option("--replace-live", "archive the key's live session and import the session as the key's live one")
    .addOption(jsonOption())
    .action(async (file: string, refs: string[], opts: ImportFlags, cmd: Command) => (await import("./commands/import.js")).runImport(file, refs, opts, cmd));

  sessions
    .command("rescope")
    .description("move live DM sessions to the keys sessions.dmScope and sessions.identityLinks make now; sessions meeting on one key merge (the key's live or most recent session keeps it, the others are archived)")
    .option("--dry-run", "show what would move, merge or be archived; change nothing")
    .addOption(jsonOption())
    .action(async (opts: RescopeFlags, cmd: Command) => (await import("./commands/rescope.js")).runRescope(opts, cmd));

  sessions
    .command("prune")
    .description("delete what the retention rules (sessions.maintenance) select, oldest first; never a live session")
    .option("--dry-run", "list what would be deleted, delete nothing")
    .option("--backup <file>", "export the sessions to FILE (atomically, mode 0600) before deleting them")
    .option("--archived-after <duration>", "delete sessions archived longer than DURATION (default: sessions.maintenance.deleteArchivedAfter)", parseDuration)
    .option("--expired-after <duration>", "delete sessions expired longer than DURATION (default: sessions.maintenance.deleteExpiredAfter)", parseDuration)
    .option("--max-sessions <n>", "keep at most N sessions, deleting the oldest archived or expired ones (default: sessions.maintenance.maxSessions)", intAtLeast(1))
    .addOption(jsonOption())
    .action(async (opts: PruneFlags, cmd: Command) => (await import("./commands/prune.js")).runPrune(opts, cmd));

  sessions
    .command("archive")
    .description("make sessions read-only and hide them from the default list")
    .argument("<refs...>", "sessions to archive")
    .addOption(jsonOption())
    .action(async (refs: string[], opts: JsonFlag, cmd: Command) => (await import("./commands/archive.js")).runArchive(refs, opts, cmd, "archive"));

  sessions
    .command("unarchive")
    .description("bring archived sessions back")
    .argument("<refs...>", "sessions to unarchive")
    .addOption(jsonOption())
    .action(async (refs: string[], opts: JsonFlag, cmd: Command) => (await import("./commands/archive.js")).runArchive(refs, opts, cmd, "unarchive"));

  sessions
    .command("compact")
    .description("expire, archive and fold sessions, rewrite files, rebuild the index, remove leftovers")
    .argument("[refs...]", "only these sessions (default: all)")
    .option("--dry-run", "report what would change, change nothing")
    .option("--now", "fold the one given session into its summary now, even under the limits")
    .option("--focus <text>", "with --now: extra instruction for the summary (used by the openai-compatible summarizer; the extractive one ignores it)")
    .option("--keep <n>", "with --now: fold whole turns until about N of the most recent messages are left (never fewer)")
    .addOption(jsonOption())
    .action(async (refs: string[], opts: CompactFlags, cmd: Command) => (await import("./commands/compact.js")).runCompact(refs, opts, cmd));
}
