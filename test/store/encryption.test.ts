import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import type { Message, Session } from "../../src/session/types.js";
import { keyIdOf } from "../../src/store/_crypto.js";
import { Keyring, type Key } from "../../src/store/encryption.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import { rekeySessions } from "../../src/store/rekey.js";
import type { SessionStore } from "../../src/store/store.js";
import { withPostgresDatabase, type PostgresTestDatabase } from "../helpers/postgres.js";
import { appendTo, richSession, testMessage } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

const newKey = (): Key => {
  const bytes = randomBytes(32);
  return { id: keyIdOf(bytes), bytes };
};
const [A, B, C] = [newKey(), newKey(), newKey()];

/** One backend under test: a fresh store's opener, its raw bytes as text, and a fingerprint of everything stored. */
interface Place {
  open(keyring?: Keyring, rekeying?: boolean): Promise<SessionStore>;
  /** Every stored byte (file names and contents, or every row of every table) as text. */
  raw(): Promise<string>;
  cleanup(): Promise<void>;
}

/** Words that appear only in content that must be sealed: a message, a tool call, the summary, a preference, a system prompt, a folded message, an append. */
const MARKS = ["zebra-message-4711", "zebra-toolargs-4712", "zebra-summary-4713", "zebra-pref-4714", "zebra-prompt-4715", "zebra-pruned-4716", "zebra-appended-4717"];

function markedSession(): Session {
  const s = richSession();
  const [first, call, result, last] = s.messages as [Message, Message, Message, Message];
  return {
    ...s,
    preferences: { ...s.preferences, note: MARKS[3] as string },
    systemPrompts: [{ ...(s.systemPrompts[0] as Session["systemPrompts"][number]), content: `Be kind. ${MARKS[4]}` }],
    summary: { ...(s.summary as NonNullable<Session["summary"]>), text: `Earlier: ${MARKS[2]}` },
    messages: [{ ...first, content: `hello ${MARKS[0]}` }, { ...call, toolCalls: [{ id: "call_01", name: "web.search", arguments: JSON.stringify({ q: MARKS[1] }) }] }, result, last],
  };
}

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    assert.ok(isOpenclawError(err), String(err));
    assert.doesNotMatch(err.message, /\n/, "the error is one line");
    return err.code;
  }
  return "none";
};

/** Stores a marked session with a folded message and an appended one; returns what it should read back as. */
async function seedMarked(store: SessionStore): Promise<{ session: Session; pruned: Message[] }> {
  const doc = markedSession();
  const pruned = [testMessage(`folded ${MARKS[5]}`)];
  let saved = await store.commit({ session: doc, expectedRevision: null, pruned: { append: pruned } });
  const added = [testMessage(`late ${MARKS[6]}`, "2025-01-02T09:50:00.000Z")];
  saved = await appendTo(store, saved, added);
  return { session: saved, pruned };
}

async function readsBack(store: SessionStore, expected: { session: Session; pruned: Message[] }): Promise<void> {
  const loaded = await store.get(expected.session.id);
  assert.ok(loaded);
  assert.deepEqual(loaded.session, expected.session);
  assert.deepEqual(await store.readPruned(expected.session.id), expected.pruned);
}

function assertSealed(raw: string, what: string): void {
  for (const mark of MARKS) assert.ok(!raw.includes(mark), `${what} shows "${mark}" in plain text`);
}

function suite(name: string, fresh: () => Promise<Place>): void {
  describe(`encryption at rest: ${name}`, () => {
    it("message contents, tool calls, summary, preferences, system prompts and pruned history are not stored in plain text; ids and keys are", async () => {
      const place = await fresh();
      try {
        const store = await place.open(new Keyring(A));
        const expected = await seedMarked(store);
        // Pending appends (the file store's log records) count as stored too.
        assertSealed(await place.raw(), "the open store");
        await store.close();
        const raw = await place.raw();
        assertSealed(raw, "the closed store");
        assert.ok(raw.includes(expected.session.id) && raw.includes(expected.session.key), "ids and routing keys stay clear");
        const again = await place.open(new Keyring(A));
        await readsBack(again, expected);
        await again.close();
      } finally {
        await place.cleanup();
      }
    });

    it("a wrong or missing key is one line (ENCRYPTION_KEY) and changes no stored byte", async () => {
      const place = await fresh();
      try {
        const store = await place.open(new Keyring(A));
        const expected = await seedMarked(store);
        await store.close();
        const before = await place.raw();
        assert.equal(await code(place.open(new Keyring(B))), "ENCRYPTION_KEY");
        assert.equal(await code(place.open()), "ENCRYPTION_KEY");
        assert.equal(await place.raw(), before, "nothing was written");
        const right = await place.open(new Keyring(A));
        await readsBack(right, expected);
        await right.close();
      } finally {
        await place.cleanup();
      }
    });

    it("a plain store opened with a key reads its plain sessions and seals what it writes from then on", async () => {
      const place = await fresh();
      try {
        const plain = await place.open();
        const old = await plain.commit({ session: markedSession(), expectedRevision: null });
        await plain.close();
        const store = await place.open(new Keyring(A));
        assert.deepEqual((await store.get(old.id))?.session, old);
        const fresh2 = await store.commit({ session: markedSession(), expectedRevision: null });
        await store.close();
        assert.equal(await code(place.open()), "ENCRYPTION_KEY", "once it holds sealed content, the store needs its key");
        const again = await place.open(new Keyring(A));
        assert.deepEqual((await again.get(fresh2.id))?.session, fresh2);
        await again.close();
      } finally {
        await place.cleanup();
      }
    });

    it("a save that changes no message keeps each message's sealed bytes (PostgreSQL keeps its rows), while changed content is sealed anew", async () => {
      const place = await fresh();
      try {
        const store = await place.open(new Keyring(A));
        const { session } = await seedMarked(store);
        await store.close();
        const sealedValues = (raw: string) => new Set([...raw.matchAll(/"sealed":"(v1\.[^"]+)"/g)].map((m) => m[1] as string));
        const before = sealedValues(await place.raw());
        const again = await place.open(new Keyring(A));
        const loaded = await again.get(session.id);
        assert.ok(loaded);
        await again.commit({ session: { ...loaded.session, preferences: { note: "changed" } }, expectedRevision: loaded.session.revision });
        await again.close();
        const after = sealedValues(await place.raw());
        const kept = [...before].filter((v) => after.has(v));
        // Five messages and one folded message unchanged; the head (preferences, prompts) changed.
        assert.ok(kept.length >= 6, `only ${kept.length} of ${before.size} sealed values kept`);
        assert.ok(
          [...after].some((v) => !before.has(v)),
          "the changed preferences are sealed anew",
        );
      } finally {
        await place.cleanup();
      }
    });

    it("rekey re-encrypts everything: the old key no longer opens the store, the new one reads every session unchanged", async () => {
      const place = await fresh();
      try {
        const store = await place.open(new Keyring(A));
        const one = await seedMarked(store);
        const two = await seedMarked(store);
        await store.close();
        const rotating = await place.open(new Keyring(C, [A]), true);
        const report = await rekeySessions(rotating, C.id);
        await rotating.close();
        assert.equal(report.sessions, 2);
        assert.deepEqual(report.after, [C.id]);
        const raw = await place.raw();
        assertSealed(raw, "the rekeyed store");
        assert.ok(!raw.includes(`v1.${A.id}.`), "no value is left under the old key");
        assert.equal(await code(place.open(new Keyring(A))), "ENCRYPTION_KEY");
        const after = await place.open(new Keyring(C));
        for (const s of [one, two]) {
          const loaded = await after.get(s.session.id);
          assert.ok(loaded);
          // A rekey is one more revision of the same content.
          assert.deepEqual(loaded.session, { ...s.session, revision: s.session.revision + 1 });
          assert.deepEqual(await after.readPruned(s.session.id), s.pruned);
        }
        await after.close();
      } finally {
        await place.cleanup();
      }
    });

    it("a rekey that stopped half-way loses nothing: one key alone is refused, running it again with both finishes", async () => {
      const place = await fresh();
      try {
        const store = await place.open(new Keyring(A));
        const one = await seedMarked(store);
        const two = await seedMarked(store);
        await store.close();
        // What a rekey killed after its first session leaves: both ids recorded, one session under each key.
        const half = await place.open(new Keyring(C, [A]), true);
        const key = half as SessionStore & { recordKeyIds(ids: string[]): Promise<void> };
        await key.recordKeyIds([A.id, C.id]);
        const loaded = await half.get(one.session.id);
        assert.ok(loaded);
        await half.commit({ session: loaded.session, expectedRevision: loaded.session.revision });
        await half.close();
        const before = await place.raw();
        assert.ok(before.includes(`v1.${A.id}.`) && before.includes(`v1.${C.id}.`));
        for (const k of [A, C]) assert.equal(await code(place.open(new Keyring(k))), "ENCRYPTION_KEY");
        assert.equal(await place.raw(), before, "a refused open writes nothing");
        const again = await place.open(new Keyring(C, [A]), true);
        await rekeySessions(again, C.id);
        await again.close();
        const after = await place.open(new Keyring(C));
        assert.equal((await after.get(one.session.id))?.session.messages.length, one.session.messages.length);
        await readsBack(after, { session: { ...two.session, revision: two.session.revision + 1 }, pruned: two.pruned });
        await after.close();
      } finally {
        await place.cleanup();
      }
    });
  });
}

async function filesAsText(root: string): Promise<string> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        // An open store's lock files come and go while we look.
        const file = await Promise.all([stat(p), readFile(p)]).catch(() => undefined);
        if (file !== undefined) out.push(`${relative(root, p)} ${(file[0].mode & 0o777).toString(8)}\n${file[1].toString("latin1")}`);
      }
    }
  };
  await walk(root);
  return out.join("\n");
}

suite("file", async () => {
  const { dir, cleanup } = await tempDir();
  return {
    open: (keyring, rekeying) => openFileStore({ dir, warn: () => {}, ...(keyring !== undefined ? { keyring } : {}), ...(rekeying ? { rekeying } : {}) }),
    raw: () => filesAsText(dir),
    cleanup,
  };
});

const db = await withPostgresDatabase();
if ("skip" in db) describe("encryption at rest: postgres", { skip: db.skip }, () => {});
else suite("postgres", () => postgresPlace(db));

async function postgresPlace(db: PostgresTestDatabase): Promise<Place> {
  const url = db.freshSchemaUrl();
  const schema = new URL(url).searchParams.get("schema") as string;
  return {
    open: (keyring, rekeying) => openPostgresStore(url, { warn: () => {}, poolMax: 2, ...(keyring !== undefined ? { keyring } : {}), ...(rekeying ? { rekeying } : {}) }),
    raw: async () => {
      const parts: string[] = [];
      for (const table of ["sessions", "messages", "pruned", "encryption_keys"]) {
        const rows = await db.admin<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM ${schema}.${table} t ORDER BY 1`);
        parts.push(table, ...rows.map((x) => x.r));
      }
      return parts.join("\n");
    },
    cleanup: async () => void (await db.admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)),
  };
}

describe("encryption at rest: file store specifics", () => {
  it("search's text probe never rules out a sealed session that holds the text", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = await openFileStore({ dir, warn: () => {}, keyring: new Keyring(A) });
      const { session } = await seedMarked(store);
      await store.checkpoint();
      assert.equal(await store.mayContain(session.id, "zebra-message", false), true);
      assert.equal(await store.mayContain(session.id, "zebra-pruned", true), true);
      await store.close();
    } finally {
      await cleanup();
    }
  });

  it("a sealed value moved into another session or message fails its check instead of being read there", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = await openFileStore({ dir, warn: () => {}, keyring: new Keyring(A) });
      const x = (await seedMarked(store)).session;
      const y = (await seedMarked(store)).session;
      await store.close();
      const path = (id: string) => join(dir, "sessions", `${id}.json`);
      type Stored = { sealed: string; messageFile: { gen: number } };
      const docX = JSON.parse(await readFile(path(x.id), "utf8")) as Stored;
      const docY = JSON.parse(await readFile(path(y.id), "utf8")) as Stored;
      // Another session's preferences and prompts, then another message's content within one session (its message file).
      await writeFile(path(y.id), JSON.stringify({ ...docY, sealed: docX.sealed }));
      const linesPath = join(dir, "sessions", `${x.id}.${docX.messageFile.gen}.jsonl`);
      const swapped = (await readFile(linesPath, "utf8"))
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { sealed: string });
      [swapped[0], swapped[3]] = [
        { ...(swapped[0] as { sealed: string }), sealed: (swapped[3] as { sealed: string }).sealed },
        { ...(swapped[3] as { sealed: string }), sealed: (swapped[0] as { sealed: string }).sealed },
      ];
      await writeFile(linesPath, swapped.map((m) => `${JSON.stringify(m)}\n`).join(""));
      const again = await openFileStore({ dir, warn: () => {}, keyring: new Keyring(A) });
      assert.equal(await code(again.get(y.id)), "STORAGE");
      assert.equal(await code(again.get(x.id)), "STORAGE");
      await again.close();
      assert.deepEqual(await readdir(join(dir, "sessions", "quarantine")), [], "left where it is for the operator to look at");
    } finally {
      await cleanup();
    }
  });

  it("a document the key cannot open is reported, never quarantined as corrupt", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = await openFileStore({ dir, warn: () => {}, keyring: new Keyring(A) });
      const { session } = await seedMarked(store);
      await store.close();
      // Without the key record (lost, or a copied-in document), only the value itself says which key it needs.
      await rm(join(dir, "sessions", "encryption.json"));
      const doc = join(dir, "sessions", `${session.id}.json`);
      const bytes = createHash("sha256")
        .update(await readFile(doc))
        .digest("hex");
      const warnings: string[] = [];
      const other = await openFileStore({ dir, warn: (m) => warnings.push(m), keyring: new Keyring(B) });
      assert.equal(await code(other.get(session.id)), "ENCRYPTION_KEY");
      assert.equal(await code(other.readPruned(session.id)), "ENCRYPTION_KEY");
      await other.close();
      assert.equal(
        createHash("sha256")
          .update(await readFile(doc))
          .digest("hex"),
        bytes,
        "the document is where it was, unchanged",
      );
      assert.deepEqual(await readdir(join(dir, "sessions", "quarantine")), []);
      assert.deepEqual(warnings, []);
    } finally {
      await cleanup();
    }
  });
});
