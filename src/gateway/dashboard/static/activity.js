// The live view on the sessions page: turns, latency and tokens over the
// last hour from GET /admin/activity, polled while the page is visible.
// A gateway without that endpoint (404) hides the view for good.
import { api, Unauthorized } from "/assets/api.js";
import { fmt, h } from "/assets/dom.js";
import { bars, lines } from "/assets/spark.js";

/** How often the view asks for new numbers while the page is visible. */
const POLL_MS = 10_000;

/** The buckets laid on `slots` slots ending with the one `now` falls in; missing buckets are empty slots. */
export function slotted(data, slots = 60) {
  const size = data.bucketSeconds * 1000;
  const now = Date.parse(data.now);
  const out = Array.from({ length: slots }, () => null);
  for (const b of data.buckets) {
    const i = slots - 1 - Math.floor((now - Date.parse(b.start)) / size);
    if (i >= 0 && i < slots) out[i] = b;
  }
  return out;
}

/**
 * Turns a minute over the last 60 seconds: the bucket under way is still
 * filling, so the one before it counts for the part of its time the window
 * still covers. One decimal below ten.
 */
export function ratePerMinute(data, slots) {
  const size = data.bucketSeconds * 1000;
  const last = slots.at(-1);
  const prev = slots.at(-2);
  const elapsed = last ? Math.min(1, Math.max(0, (Date.parse(data.now) - Date.parse(last.start)) / size)) : 1;
  const turns = (last?.turns ?? 0) + (prev?.turns ?? 0) * (1 - elapsed);
  const rate = (turns * 60) / data.bucketSeconds;
  return rate < 10 ? Math.round(rate * 10) / 10 : Math.round(rate);
}

const clock = (b) => (b ? new Date(b.start).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) : "");
const ms = (n) => (n === null || n === undefined ? "–" : `${fmt(Math.round(n))} ms`);

/** The view's element (placed by the sessions page) and its polling. */
export function activityView() {
  const turns = h("figure", { class: "chart", id: "activity-turns" });
  const latency = h("figure", { class: "chart", id: "activity-latency" });
  const tokens = h("figure", { class: "chart", id: "activity-tokens" });
  const element = h("section", { class: "card activity", id: "activity", "aria-labelledby": "act-h", hidden: true }, h("h2", { id: "act-h" }, "Last hour"), h("div", { class: "charts" }, turns, latency, tokens));
  let timer = null;
  let running = false;
  let gone = false;
  let busy = false;

  const draw = (data) => {
    const slots = slotted(data, Math.max(1, Math.round(3600 / data.bucketSeconds)));
    const all = data.buckets;
    const sum = (f) => all.reduce((n, b) => n + (b[f] ?? 0), 0);
    const lastTimed = [...all].reverse().find((b) => b.latencyP50Ms !== null || b.latencyP95Ms !== null);
    const caption = (title, value) => h("figcaption", {}, h("span", { class: "l" }, title), h("span", { class: "n" }, value));
    turns.replaceChildren(
      caption("Turns", `${fmt(ratePerMinute(data, slots))}/min now · ${fmt(sum("turns"))} in the hour${sum("errors") > 0 ? `, ${fmt(sum("errors"))} failed` : ""}`),
      bars(
        [
          ["ok", slots.map((b) => (b ? b.turns - b.errors : 0))],
          ["failed", slots.map((b) => b?.errors ?? 0)],
        ],
        slots.map((b) => (b ? `${clock(b)}: ${fmt(b.turns)} turns, ${fmt(b.errors)} failed` : "")),
        `turns per ${data.bucketSeconds} s over the last hour`,
      ),
    );
    latency.replaceChildren(
      caption("Latency", `p50 ${ms(lastTimed?.latencyP50Ms)} · p95 ${ms(lastTimed?.latencyP95Ms)}`),
      lines(
        [
          ["p95", slots.map((b) => b?.latencyP95Ms ?? null)],
          ["p50", slots.map((b) => b?.latencyP50Ms ?? null)],
        ],
        "turn latency p50 and p95 over the last hour",
      ),
    );
    tokens.replaceChildren(
      caption("Tokens", `${fmt(sum("promptTokens") + sum("completionTokens"))} in the hour (${fmt(sum("promptTokens"))} prompt · ${fmt(sum("completionTokens"))} completion)`),
      bars(
        [
          ["prompt", slots.map((b) => b?.promptTokens ?? 0)],
          ["completion", slots.map((b) => b?.completionTokens ?? 0)],
        ],
        slots.map((b) => (b ? `${clock(b)}: ${fmt(b.promptTokens)} prompt, ${fmt(b.completionTokens)} completion tokens` : "")),
        "prompt and completion tokens over the last hour",
      ),
    );
  };

  const poll = async () => {
    clearTimeout(timer);
    timer = null;
    if (!running || gone || busy) return;
    if (document.visibilityState === "visible") {
      busy = true;
      try {
        draw(await api("/admin/activity"));
        element.hidden = false;
        element.dataset.state = "live";
      } catch (err) {
        if (err?.status === 404) {
          gone = true;
          element.hidden = true;
          element.dataset.state = "absent";
          return;
        }
        // Signed out: the login form is up. Anything else: keep the last picture and ask again later.
        if (err instanceof Unauthorized) return;
      } finally {
        busy = false;
      }
    }
    if (running && timer === null) timer = setTimeout(poll, POLL_MS);
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && running) poll();
  });

  return {
    element,
    /** Starts polling (now, then every ten seconds while visible). */
    start() {
      running = true;
      poll();
    },
    /** Stops polling (signed out). */
    stop() {
      running = false;
      clearTimeout(timer);
      timer = null;
    },
  };
}
