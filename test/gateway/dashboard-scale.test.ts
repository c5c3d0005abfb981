import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { uuidv7 } from "../../src/session/ids.js";
import type { Message } from "../../src/session/types.js";
import { openStore } from "../../src/store/open.js";
import { launchBrowser } from "../helpers/browser.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { tempDir } from "../helpers/store-tmp.js";
import { testSession } from "../helpers/store-sessions.js";

const TOTAL = 4000;
const ACTIVE = 70;
const FOLDED = TOTAL - ACTIVE;
const WINDOW = 200_000;
const OUT = fileURLToPath(new URL("../../test-results/dashboard/", import.meta.url));

/** A session of TOTAL messages, FOLDED of them folded, with a 40-line summary and a system prompt of a tiny share of the window, written straight to the store. */
async function seed(dir: string): Promise<string> {
  const store = await openStore(dir);
  const start = Date.parse("2026-11-01T00:00:00.000Z");
  const messages: Message[] = Array.from({ length: TOTAL }, (_, i) => ({
    id: uuidv7(start + i * 1000, randomBytes(10)),
    role: i % 2 === 0 ? "user" : "assistant",
    content: `message #${i + 1}: parcel TRK-${10_000 + i} is due`,
    sender: i % 2 === 0 ? "alice" : null,
    createdAt: new Date(start + i * 1000).toISOString(),
    tokens: 12,
    pinned: false,
  }));
  const base = testSession({ kind: "dm", channel: "web" });
  const summary = Array.from({ length: 40 }, (_, i) => `- parcel TRK-${10_000 + i * 90} is due on day ${i}`).join("\n");
  await store.commit({
    session: {
      ...base,
      key: "dm:web:big",
      status: "active",
      participants: ["alice"],
      systemPrompts: [{ id: uuidv7(start - 1000, randomBytes(10)), content: "You are a careful assistant. Answer briefly and name parcels by their numbers.", tokens: 100, createdAt: new Date(start).toISOString() }],
      messages: messages.slice(FOLDED),
      prunedCount: FOLDED,
      summary: { text: summary, tokens: 600, messageCount: FOLDED, throughMessageId: messages[FOLDED - 1]?.id ?? "", updatedAt: new Date(start + TOTAL * 1000).toISOString(), summarizer: "extractive" },
      lastActivityAt: new Date(start + TOTAL * 1000).toISOString(),
    },
    expectedRevision: null,
    pruned: { append: messages.slice(0, FOLDED) },
    reason: "created",
  });
  await store.close();
  return base.id;
}

/** One hour of minute buckets, as `GET /admin/activity` answers, ending at `now`. */
function activity(now: number) {
  const buckets = Array.from({ length: 60 }, (_, i) => {
    const turns = i % 7 === 3 ? 0 : 2 + (i % 5);
    return {
      start: new Date(now - (59 - i) * 60_000 - (now % 60_000)).toISOString(),
      turns,
      errors: i === 58 ? 1 : 0,
      latencyP50Ms: turns === 0 ? null : 100 + i,
      latencyP95Ms: turns === 0 ? null : 400 + 2 * i,
      promptTokens: turns * 300,
      completionTokens: turns * 40,
    };
  });
  return { bucketSeconds: 60, buckets, now: new Date(now).toISOString() };
}

describe("dashboard with a long session", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let browser: Browser;
  let state: Awaited<ReturnType<typeof tempDir>>;
  let id: string;

  before(async () => {
    await mkdir(OUT, { recursive: true });
    state = await tempDir("openclaw-dash-");
    id = await seed(state.dir);
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ sessions: { contextWindow: WINDOW, reserveTokens: 4096 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "m", maxRetries: 0 } } }, { stateDir: state.dir });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await upstream?.close();
    await state?.cleanup();
  });

  const open = async (t: { after(fn: () => Promise<void>): void }, hash = ""): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    t.after(() => page.close());
    await page.goto(`${gw.url}/#token=${encodeURIComponent(gw.token)}`);
    await page.getByRole("link", { name: "dm:web:big" }).waitFor();
    if (hash) await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    return page;
  };
  /** The latest duration the page measured under `name`, once there is one. */
  const measured = async (page: Page, name: string, count = 1): Promise<number> => {
    await page.waitForFunction(([n, c]) => performance.getEntriesByName(n as string).length >= (c as number), [name, count] as const);
    return page.evaluate((n) => performance.getEntriesByName(n).at(-1)?.duration ?? NaN, name);
  };

  it("renders a session of 4,000 messages within a second of its data, holding only the active ones and one page of folded ones", async (t) => {
    const page = await open(t, `#/s/${id}`);
    const ms = await measured(page, "session-render");
    t.diagnostic(`session-render ${ms.toFixed(1)} ms`);
    assert.ok(ms <= 1000, `the session page took ${ms.toFixed(0)} ms to render after its data arrived`);
    await page.getByRole("heading", { name: `Messages (${ACTIVE} active, ${FOLDED.toLocaleString("en-US")} folded)` }).waitFor();
    await page.getByText(`message #${TOTAL}: parcel`).waitFor();
    assert.equal(await page.locator("li.msg").count(), ACTIVE, "folded messages wait behind the button");

    await page.getByRole("button", { name: `Show earlier messages (${FOLDED.toLocaleString("en-US")})` }).click();
    const range = page.locator("#folded-range");
    await page.getByText("folded 3,831–3,930 of 3,930").waitFor();
    assert.ok((await measured(page, "folded-render")) <= 1000, "a page of folded messages renders within a second");
    const folded = page.locator("#folded li");
    assert.equal(await folded.count(), 100);
    assert.match((await folded.first().textContent()) ?? "", /message #3831:/, "the newest folded page comes first, oldest first within it");
    assert.ok((await page.locator("li.msg").count()) <= 200, "at most about 200 messages in the page");

    await page.getByRole("button", { name: "100 earlier" }).click();
    await page.getByText("folded 3,731–3,830 of 3,930").waitFor();
    assert.match((await folded.first().textContent()) ?? "", /message #3731:/);
    assert.match((await folded.last().textContent()) ?? "", /message #3830:/);
    assert.equal(await page.locator("li.msg").count(), ACTIVE + 100, "a page replaces the previous one");

    await page.getByLabel("Jump to message").fill("1234");
    await page.getByRole("button", { name: "Go" }).click();
    await page.getByText("folded 1,234–1,333 of 3,930").waitFor();
    assert.match((await folded.first().textContent()) ?? "", /message #1234:/);
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.getByText("folded 1–100 of 3,930").waitFor();
    assert.match((await folded.first().textContent()) ?? "", /message #1:/);
    assert.ok(await page.getByRole("button", { name: "100 earlier" }).isDisabled(), "nothing before the start");
    await page.screenshot({ path: `${OUT}long-session.png`, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    await page.getByRole("button", { name: "100 later" }).click();
    await page.getByText("folded 101–200 of 3,930").waitFor();
    assert.equal(await range.count(), 1);
  });

  it("collapses a long summary at first and expands it on request", async (t) => {
    const page = await open(t, `#/s/${id}`);
    const toggle = page.locator("#summary-toggle");
    await toggle.waitFor();
    const summary = page.locator("#summary");
    assert.equal(await toggle.getAttribute("aria-expanded"), "false", "a 40-line summary starts collapsed");
    const collapsed = (await summary.boundingBox())?.height ?? 0;
    await page.getByRole("button", { name: /Expand summary/ }).click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    const expanded = (await summary.boundingBox())?.height ?? 0;
    assert.ok(collapsed > 0 && expanded > 5 * collapsed, `collapsed ${collapsed}px, expanded ${expanded}px`);
    await page.getByRole("button", { name: "Collapse summary" }).click();
    assert.equal((await summary.boundingBox())?.height, collapsed);
  });

  it("keeps a visible sliver for a part holding under 0.1 % of the window, labelled < 0.1 %", async (t) => {
    const page = await open(t, `#/s/${id}`);
    const stored = page.getByRole("img", { name: /^stored/ });
    await stored.waitFor();
    assert.match((await stored.getAttribute("aria-label")) ?? "", /system \d+ tokens \(< 0\.1 %\)/);
    const sliver = stored.locator("span.system");
    assert.match((await sliver.getAttribute("title")) ?? "", /< 0\.1 % of the window/);
    const box = await sliver.boundingBox();
    assert.ok(box !== null && box.width >= 2, `the system part is ${box?.width}px wide`);
  });

  it("serves its icon without a token", async () => {
    for (const path of ["/favicon.ico", "/favicon.svg"]) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "image/svg+xml");
      assert.match(await res.text(), /^<svg /);
    }
    const html = await (await fetch(`${gw.url}/`)).text();
    assert.match(html, /<link rel="icon" href="\/favicon.svg"/);
  });

  it("draws turns, latency and tokens over the last hour from /admin/activity", async (t) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    t.after(() => page.close());
    // At the start of a minute, the rate over the last 60 seconds is the whole minute before.
    const data = activity(Math.floor(Date.now() / 60_000) * 60_000);
    await page.route("**/admin/activity", (route) => route.fulfill({ json: data }));
    await page.goto(`${gw.url}/#token=${encodeURIComponent(gw.token)}`);
    const view = page.locator("#activity");
    await page.locator('#activity[data-state="live"]').waitFor();
    assert.ok(await view.isVisible());
    await page.screenshot({ path: `${OUT}activity.png` });
    const turns = (await page.locator("#activity-turns figcaption").textContent()) ?? "";
    const total = data.buckets.reduce((n, b) => n + b.turns, 0);
    assert.match(turns, new RegExp(`${data.buckets[58]?.turns}/min now · ${total} in the hour, 1 failed`));
    assert.equal(await page.locator("#activity-turns rect.failed").count(), 1, "the failed turn is its own colour");
    assert.equal(await page.locator("#activity-turns svg > g").count(), data.buckets.filter((b) => b.turns > 0).length, "one bar a busy minute");
    const timed = data.buckets.findLast((b) => b.latencyP50Ms !== null);
    assert.match((await page.locator("#activity-latency figcaption").textContent()) ?? "", new RegExp(`p50 ${timed?.latencyP50Ms} ms · p95 ${timed?.latencyP95Ms} ms`));
    // Quiet minutes have no latency: the lines break there rather than dropping to zero.
    assert.ok((await page.locator("#activity-latency polyline.p95").count()) > 1);
    const prompt = data.buckets.reduce((n, b) => n + b.promptTokens, 0);
    const completion = data.buckets.reduce((n, b) => n + b.completionTokens, 0);
    assert.match((await page.locator("#activity-tokens figcaption").textContent()) ?? "", new RegExp(`${(prompt + completion).toLocaleString("en-US")} in the hour`));
  });

  it("asks /admin/activity again every ten seconds while the page is visible, and not while it is hidden", async (t) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    t.after(() => page.close());
    let asked = 0;
    const waiting: (() => void)[] = [];
    const nextAsk = () => new Promise<void>((resolve) => waiting.push(resolve));
    await page.route("**/admin/activity", (route) => {
      asked++;
      for (const resolve of waiting.splice(0)) resolve();
      return route.fulfill({ json: activity(Date.now()) });
    });
    // Requests reach the routes in the order the page sends them: one sent after the polls shows every poll has been counted.
    await page.route("**/health", (route) => route.continue());
    const settled = () => page.evaluate("fetch('/health').then((r) => r.status)");
    await page.clock.install();
    await page.goto(`${gw.url}/#token=${encodeURIComponent(gw.token)}`);
    await page.locator('#activity[data-state="live"]').waitFor();
    await page.clock.pauseAt(Date.now() + 1000);
    const base = asked;
    let next = nextAsk();
    await page.clock.runFor(10_000);
    await next;
    await settled();
    assert.equal(asked, base + 1, "one more after ten seconds");
    const setVisibility = (state: string) =>
      page.evaluate(`Object.defineProperty(document, "visibilityState", { configurable: true, get: () => ${JSON.stringify(state)} }); document.dispatchEvent(new Event("visibilitychange"))`);
    await setVisibility("hidden");
    await page.clock.runFor(60_000);
    await settled();
    assert.equal(asked, base + 1, "none while the page is hidden");
    next = nextAsk();
    await setVisibility("visible");
    await next;
    assert.equal(asked, base + 2, "asked at once on coming back");
  });

  it("shows the gateway's own turns, latency and tokens from its /admin/activity", async (t) => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": `dm:web:live-${i}` },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `turn ${i}: where is parcel TRK-${i}?` }] }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    t.after(() => page.close());
    await page.goto(`${gw.url}/#token=${encodeURIComponent(gw.token)}`);
    await page.locator('#activity[data-state="live"]').waitFor();
    assert.match((await page.locator("#activity-turns figcaption").textContent()) ?? "", /· 3 in the hour$/, "the three turns this gateway served");
    assert.ok((await page.locator("#activity-turns rect.ok").count()) >= 1);
    assert.match((await page.locator("#activity-latency figcaption").textContent()) ?? "", /p50 [\d,]+ ms · p95 [\d,]+ ms/);
    assert.match((await page.locator("#activity-tokens figcaption").textContent()) ?? "", /^Tokens[1-9][\d,]* in the hour/);
  });

  it("hides the live view when the gateway has no /admin/activity", async (t) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    t.after(() => page.close());
    await page.route("**/admin/activity", (route) => route.fulfill({ status: 404, json: { error: { message: "no route for GET /admin/activity", type: "invalid_request_error", code: "not_found" } } }));
    await page.goto(`${gw.url}/#token=${encodeURIComponent(gw.token)}`);
    await page.getByRole("link", { name: "dm:web:big" }).waitFor();
    await page.locator('#activity[data-state="absent"]').waitFor({ state: "attached" });
    assert.equal(await page.locator("#activity").isVisible(), false);
    assert.equal(await page.getByRole("alert").count(), 0, "no error shown for an older gateway");
  });
});
