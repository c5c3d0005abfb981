import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const OPS_TOKEN = "ops-admin-token-0123456789";
const APP_TOKEN = "app-chat-token-0123456789a";
const OUT = fileURLToPath(new URL("../../test-results/dashboard/", import.meta.url));

describe("dashboard in a real browser", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let browser: Browser;
  let page: Page;
  const say = async (key: string, text: string) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": key },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: text }] }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  before(async () => {
    await mkdir(OUT, { recursive: true });
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      sessions: { maxHistoryLength: 6 },
      gateway: {
        model: { baseUrl: upstream.baseUrl, model: "m", maxRetries: 0 },
        auth: {
          tokens: [
            { name: "ops", token: OPS_TOKEN, scopes: ["admin:read", "admin:write"] },
            { name: "app", token: APP_TOKEN, scopes: ["chat"] },
          ],
        },
      },
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await upstream?.close();
  });

  it("serves the page with a Content-Security-Policy and nothing without the token but the login form", async () => {
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    const html = await res.text();
    assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
    assert.equal((await fetch(`${gw.url}/admin/sessions`)).status, 401);
  });

  it("asks for the token, then lists sessions and shows a new one live, without reloading", async () => {
    await say("dm:web:alice", "hello from alice about order ORD-1");
    await page.goto(gw.url);
    await page.getByLabel("Gateway token").fill("wrong-token-wrong-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That token was refused.").waitFor();
    await page.getByLabel("Gateway token").fill(gw.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "dm:web:alice" }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    await say("dm:web:bob", "bob arrives");
    await page.getByRole("link", { name: "dm:web:bob" }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, "the page was not reloaded");
    await page.screenshot({ path: `${OUT}sessions.png`, fullPage: true });
  });

  it("shows a session's context bar and summary, renders HTML payloads as text, clears and archives", async () => {
    for (let i = 0; i < 6; i++) await say("dm:web:alice", `turn ${i}: parcel TRK-${1000 + i} is due on day ${i}`);
    await say("dm:web:alice", '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>');
    await page.getByRole("link", { name: "dm:web:alice" }).click();
    await page.getByRole("heading", { name: "Context" }).waitFor();
    assert.ok(await page.getByRole("img", { name: /^stored:/ }).isVisible(), "stored-context bar");
    assert.ok(await page.getByRole("img", { name: /^sent:/ }).isVisible(), "sent-context bar");
    assert.match((await page.locator("#summary").textContent()) ?? "", /TRK-100/);
    const messages = page.locator("#messages");
    assert.match((await messages.textContent()) ?? "", /<img src=x onerror="window.pwned=1"><script>/);
    assert.equal(await messages.locator("img, script").count(), 0, "the payload is text, not markup");
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
    await page.getByRole("button", { name: /Show earlier messages/ }).click();
    await page.getByText("turn 0: parcel TRK-1000 is due on day 0", { exact: true }).waitFor();
    await page.screenshot({ path: `${OUT}session.png`, fullPage: true });

    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Clear history" }).click();
    await page.getByRole("heading", { name: /Messages \(0 active, 0 folded\)/ }).waitFor();
    await page.getByRole("button", { name: "Archive" }).click();
    await page.getByRole("button", { name: "Unarchive" }).waitFor();
    await page.getByRole("link", { name: "← Sessions" }).click();
    await page.getByRole("link", { name: "dm:web:bob" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "dm:web:alice" }).count(), 0, "an archived session leaves the default list");
    await page.getByLabel("Status").selectOption("archived");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("link", { name: "dm:web:alice" }).waitFor();
  });

  it("works with a scoped admin token, refuses a chat-only one by naming the scope, and signs in from the printed link", async () => {
    await say("dm:web:carol", "carol is here");
    await say("dm:web:dave", "dave too");
    const fresh = await browser.newPage();
    try {
      await fresh.goto(gw.url);
      await fresh.getByLabel("Gateway token").fill(APP_TOKEN);
      await fresh.getByRole("button", { name: "Sign in" }).click();
      await fresh.getByText("That token lacks the admin:read scope the dashboard needs.").waitFor();
      await fresh.getByLabel("Gateway token").fill(OPS_TOKEN);
      await fresh.getByRole("button", { name: "Sign in" }).click();
      await fresh.getByRole("link", { name: "dm:web:carol" }).click();
      await fresh.getByRole("button", { name: "Archive" }).click();
      await fresh.getByRole("button", { name: "Unarchive" }).waitFor();
      await fresh.getByRole("button", { name: "Log out" }).click();
      // The link `openclaw gateway` prints: the token rides in the fragment and leaves the address bar.
      await fresh.goto(`${gw.url}/#token=${encodeURIComponent(OPS_TOKEN)}`);
      await fresh.getByRole("link", { name: "dm:web:dave" }).waitFor();
      assert.equal(new URL(fresh.url()).hash, "");
    } finally {
      await fresh.close();
    }
  });

  it("marks bidi controls and zero-width characters in messages and labels instead of letting them hide or reorder text", async (t) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": "dm:web:grace" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "invoice \u202egnp.exe and a\u200bb, family 👨\u200d👩\u200d👧" }] }),
    });
    assert.equal(res.status, 200, await res.text());
    const id = res.headers.get("x-openclaw-session-id") ?? "";
    const patched = await fetch(`${gw.url}/admin/sessions/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" },
      body: JSON.stringify({ label: "pay \u202etxt.exe" }),
    });
    assert.equal(patched.status, 200);
    const view = await browser.newPage();
    t.after(() => view.close());
    await view.goto(`${gw.url}/#token=${encodeURIComponent(OPS_TOKEN)}`);
    await view.getByRole("link", { name: "dm:web:grace" }).waitFor();
    const row = (await view.locator("#rows tr", { hasText: "dm:web:grace" }).textContent()) ?? "";
    assert.ok(row.includes("pay U+202Etxt.exe") && !row.includes("\u202e"), `the label is marked: ${row}`);
    await view.getByRole("link", { name: "dm:web:grace" }).click();
    await view.getByRole("heading", { name: "Context" }).waitFor();
    const messages = view.locator("#messages");
    const text = (await messages.textContent()) ?? "";
    assert.ok(text.includes("invoice U+202Egnp.exe and aU+200Bb"), `the message is marked: ${text}`);
    assert.ok(!/[\u200b\u202e]/.test(text), "no raw hidden character reaches the page");
    assert.ok(text.includes("👨\u200d👩\u200d👧"), "a joiner inside an emoji sequence is kept");
    assert.ok((await messages.locator(".invisible-char").count()) >= 2, "each hidden character is a marked element");
    assert.equal(await messages.locator(".invisible-char").first().getAttribute("title"), "hidden character U+202E");
  });

  it("lists a thread under its parent, shows labels and origins, and finds a session by its label", async (t) => {
    const hook = async (body: Record<string, unknown>) => {
      const res = await fetch(`${gw.url}/hooks/inbound`, { method: "POST", headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { sessionId: string };
    };
    const team = await hook({ channel: "web", senderId: "erin", groupId: "team", subject: "Release crew", text: "team chat" });
    await hook({ channel: "web", senderId: "erin", groupId: "team", threadId: "T1", text: "a side thread" });
    await say("dm:web:frank", "frank is newer than both");
    const patched = await fetch(`${gw.url}/admin/sessions/${team.sessionId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" },
      body: JSON.stringify({ label: "Crew room" }),
    });
    assert.equal(patched.status, 200);
    const view = await browser.newPage();
    t.after(() => view.close());
    await view.goto(`${gw.url}/#token=${encodeURIComponent(OPS_TOKEN)}`);
    await view.getByRole("link", { name: "dm:web:frank" }).waitFor();
    const rows = view.locator("#rows tr");
    const texts = await rows.allTextContents();
    const at = texts.findIndex((t) => t.startsWith("group:web:team"));
    assert.ok(at >= 0, texts.join("\n"));
    assert.match(texts[at] ?? "", /Crew room · Release crew · web$/);
    assert.match(texts[at + 1] ?? "", /^↳ thread:T1/, "the thread is the row under its parent");
    await view.getByLabel("Key or name contains").fill("crew room");
    await view.getByRole("button", { name: "Apply" }).click();
    await view.getByRole("link", { name: "dm:web:frank" }).waitFor({ state: "detached" });
    await view.getByRole("link", { name: "group:web:team", exact: true }).waitFor();
    assert.equal(await rows.count(), 1, "the filter finds the session by its label");
  });

  it("keeps the folded messages someone asked for while a live update of the page was on its way", async () => {
    for (let i = 0; i < 6; i++) await say("dm:web:heidi", `heidi turn ${i}: locker L-${700 + i}`);
    const res = await fetch(`${gw.url}/admin/sessions/dm:web:heidi`, { headers: { authorization: `Bearer ${gw.token}` } });
    const { id } = (await res.json()) as { id: string };
    await page.goto(`${gw.url}/#/s/${id}`);
    const earlier = page.getByRole("button", { name: /Show earlier messages/ });
    await earlier.waitFor();
    // The next render's context request is held, so its data (the session, read before the click) arrives after the click.
    const held: { continue(): Promise<void> }[] = [];
    let arrived!: () => void;
    const contextAsked = new Promise<void>((resolve) => (arrived = resolve));
    await page.route(`**/admin/sessions/${id}/context`, (route) => {
      held.push(route);
      arrived();
    });
    try {
      const docRead = page.waitForResponse((r) => r.url().endsWith(`/admin/sessions/${id}`) && r.request().method() === "GET");
      // An edit from elsewhere: its event re-renders the open page.
      const edit = await fetch(`${gw.url}/admin/sessions/${id}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${OPS_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ label: "heidi's lockers" }),
      });
      assert.equal(edit.status, 200, await edit.text());
      await Promise.all([contextAsked, docRead]);
      await earlier.click();
      for (const route of held.splice(0)) await route.continue();
      await page.unroute(`**/admin/sessions/${id}/context`);
      // The update is drawn (the label shows), and the folded messages asked for are still there.
      await page.getByText("heidi's lockers", { exact: true }).waitFor();
      await page.getByText("heidi turn 0: locker L-700", { exact: true }).waitFor({ timeout: 10_000 });
    } finally {
      for (const route of held) await route.continue().catch(() => undefined);
      await page.unroute(`**/admin/sessions/${id}/context`).catch(() => undefined);
    }
  });
});
