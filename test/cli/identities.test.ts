import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { errorLine, sandbox } from "../helpers/cli-run.js";

test("identities link, list and unlink edit sessions.identityLinks; linked identities then share one DM session", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { dmScope: "per-peer", maxHistoryLength: 50 } }));
  assert.match((await sb.ok(["identities", "list"])).stdout, /no identities linked/);

  const linked = await sb.ok(["identities", "link", "alice", "Telegram:42", "slack:U123"]);
  assert.equal(linked.stdout, "linked telegram:42, slack:U123 to alice\n");
  assert.match(linked.stderr, /sessions rescope --dry-run/);
  const file = JSON.parse(await readFile(join(sb.stateDir, "config.json"), "utf8")) as { sessions: Record<string, unknown> };
  assert.deepEqual(file.sessions, { dmScope: "per-peer", maxHistoryLength: 50, identityLinks: { alice: ["telegram:42", "slack:U123"] } }, "other settings are kept");
  assert.equal((await stat(join(sb.stateDir, "config.json"))).mode & 0o777, 0o600);

  const list = await sb.json<{ scope: string; people: Array<{ person: string; identities: string[]; key: string }> }>(["identities", "list"]);
  assert.deepEqual(list, { scope: "per-peer", people: [{ person: "alice", identities: ["telegram:42", "slack:U123"], key: "dm:peer:alice" }] });
  assert.match((await sb.ok(["identities", "list"])).stdout, /alice\s+telegram:42, slack:U123\s+dm:peer:alice/);

  const a = await sb.json<{ id: string; key: string }>(["sessions", "append", "--dm", "telegram:42", "from telegram"]);
  const b = await sb.json<{ id: string; key: string }>(["sessions", "append", "--dm", "slack:U123", "from slack"]);
  assert.deepEqual([a.key, b.id], ["dm:peer:alice", a.id]);
  const shown = await sb.json<{ participants: string[]; messages: Array<{ sender: string; channel?: string }> }>(["sessions", "show", "dm:peer:alice"]);
  assert.deepEqual(shown.participants, ["alice"]);
  assert.deepEqual(
    shown.messages.map((m) => [m.sender, m.channel]),
    [
      ["42", "telegram"],
      ["U123", "slack"],
    ],
  );

  const taken = await sb.run(["identities", "link", "bob", "telegram:42"]);
  assert.equal(errorLine(taken), "error: telegram:42 is already linked to alice: an identity belongs to one person (openclaw identities unlink telegram:42 first); nothing was changed");
  assert.match(errorLine(await sb.run(["identities", "link", "bob", "telegram"])), /invalid identity "telegram": give it as channel:userId/);
  assert.match(errorLine(await sb.run(["identities", "unlink", "discord:1"])), /discord:1 is not linked to anyone/);

  assert.equal((await sb.ok(["identities", "unlink", "telegram:42"])).stdout, "unlinked telegram:42 from alice\n");
  await sb.ok(["identities", "unlink", "alice"]);
  const after = JSON.parse(await readFile(join(sb.stateDir, "config.json"), "utf8")) as { sessions: Record<string, unknown> };
  assert.deepEqual(after.sessions, { dmScope: "per-peer", maxHistoryLength: 50 });
});

test("identities link refuses to rewrite a config file that is already invalid", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), '{"sessions": {"dmScope": "per-user"}}');
  const r = await sb.run(["identities", "link", "alice", "telegram:42"]);
  assert.match(errorLine(r), /sessions\.dmScope: expected one of/);
  assert.equal(await readFile(join(sb.stateDir, "config.json"), "utf8"), '{"sessions": {"dmScope": "per-user"}}');
});
