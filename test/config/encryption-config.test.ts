import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/schema.js";
import { isOpenclawError } from "../../src/errors.js";
import { loadKey } from "../../src/store/encryption.js";
import { tempDir } from "../helpers/store-tmp.js";

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(isOpenclawError(err, "ENCRYPTION_KEY"), String(err));
    assert.doesNotMatch(err.message, /\n/);
    return err.message;
  }
  return "accepted";
};

describe("storage.encryption", () => {
  it("is off by default, and takes exactly one of keyEnv or an absolute keyFile", () => {
    assert.equal(configSchema.parse({}).storage.encryption, undefined);
    assert.deepEqual(configSchema.parse({ storage: { encryption: { keyEnv: "OPENCLAW_STORE_KEY" } } }).storage.encryption, { keyEnv: "OPENCLAW_STORE_KEY" });
    assert.deepEqual(configSchema.parse({ storage: { encryption: { keyFile: "/etc/openclaw/store.key" } } }).storage.encryption, { keyFile: "/etc/openclaw/store.key" });
    for (const bad of [{}, { keyEnv: "A", keyFile: "/k" }, { keyFile: "store.key" }, { keyEnv: "not a name" }, { key: "c2VjcmV0" }, "OPENCLAW_STORE_KEY"]) {
      assert.equal(configSchema.safeParse({ storage: { encryption: bad } }).success, false, JSON.stringify(bad));
    }
  });

  it("a key is 32 bytes as hex, base64 or base64url, named by an id that does not reveal it", () => {
    const bytes = randomBytes(32);
    const ids = [bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url")].map((v) => loadKey({ keyEnv: "K" }, "test", { K: `${v}\n` }).id);
    assert.equal(new Set(ids).size, 1, "every spelling of one key has one id");
    assert.match(ids[0] as string, /^[0-9a-f]{16}$/);
    assert.ok(!bytes.toString("hex").includes(ids[0] as string));
    assert.notEqual(loadKey({ keyEnv: "K" }, "test", { K: randomBytes(32).toString("hex") }).id, ids[0]);
    for (const v of [randomBytes(16).toString("base64"), randomBytes(31).toString("hex"), "x".repeat(44), ""]) {
      assert.match(
        refusal(() => loadKey({ keyEnv: "K" }, "test", { K: v })),
        /not a 32-byte key|not set/,
      );
    }
    assert.match(
      refusal(() => loadKey({ keyEnv: "MISSING" }, "storage.encryption", {})),
      /MISSING .*not set/,
    );
  });

  it("a key file must be a regular file readable by its owner alone", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, "store.key");
      await writeFile(file, randomBytes(32).toString("base64"), { mode: 0o600 });
      assert.match(loadKey({ keyFile: file }).id, /^[0-9a-f]{16}$/);
      for (const mode of [0o640, 0o604, 0o660]) {
        await chmod(file, mode);
        assert.match(
          refusal(() => loadKey({ keyFile: file })),
          /chmod 600/,
        );
      }
      assert.match(
        refusal(() => loadKey({ keyFile: join(dir, "absent.key") })),
        /cannot read the key file .*ENOENT/,
      );
      assert.match(
        refusal(() => loadKey({ keyFile: dir })),
        /not a regular file|cannot read/,
      );
    } finally {
      await cleanup();
    }
  });
});
