// Regenerates the dashboard screenshots shown in docs/gateway.md (docs/*.png):
//   npm run build && node --import tsx scripts/screenshots.ts
// Starts a fake upstream model and a gateway on a throw-away state dir,
// writes a few conversations through the API, and photographs both pages.
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../test/helpers/browser.js";
import { startFakeUpstream } from "../test/helpers/fake-upstream.js";
import { startGatewayProcess } from "../test/helpers/gateway-process.js";

const DOCS = fileURLToPath(new URL("../docs/", import.meta.url));
const upstream = await startFakeUpstream();
const gw = await startGatewayProcess({ sessions: { maxHistoryLength: 8, contextWindow: 8192, reserveTokens: 1024 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "llama3.1:8b", maxRetries: 0 } } });
const say = async (key: string, text: string): Promise<void> => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": key },
    body: JSON.stringify({ model: "llama3.1:8b", messages: [{ role: "user", content: text }] }),
  });
  if (!res.ok) throw new Error(`chat failed: ${res.status} ${await res.text()}`);
};
try {
  const lines = [
    "Book a table for 4 at 19:30, ref INV-2024-0042",
    "My flight is BA249 on 2026-12-03, seat 14C",
    "Refund for order PO-2025-000731 please",
    "Call me at +1-415-555-0123 after 18:00",
    "Budget is now $15,000 for the offsite",
    "Ship parcel 1Z999AA10123456784 to the Aurora office",
  ];
  for (let i = 0; i < 12; i++) await say("dm:telegram:42", lines[i % lines.length] ?? "");
  await say("group:slack:C024BE91L", "Standup moved to 10:00, room Aurora-2");
  await say("dm:discord:987", "What's the status of OPS-4471?");
  await say("dm:whatsapp:31612345678", "Is the Amsterdam office open on Friday?");
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(gw.url);
    await page.getByLabel("Gateway token").fill(gw.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "dm:telegram:42" }).waitFor();
    await page.screenshot({ path: `${DOCS}dashboard-sessions.png` });
    await page.getByRole("link", { name: "dm:telegram:42" }).click();
    await page.getByRole("heading", { name: "Context" }).waitFor();
    await page.screenshot({ path: `${DOCS}dashboard-session.png`, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(`wrote ${DOCS}dashboard-sessions.png and dashboard-session.png\n`);
} finally {
  await gw.stop();
  await upstream.close();
}
