// Live updates: /admin/events read with fetch (EventSource cannot send the token).
import { token } from "/assets/api.js";

let stream = null;

/** Stops following the event stream. */
export function stopEvents() {
  stream?.abort();
  stream = null;
}

/** Follows /admin/events, resuming after the last id seen, calling `onEvent` with each event; `status` shows whether the page is live. */
export async function followEvents(status, onEvent) {
  stopEvents();
  const controller = new AbortController();
  stream = controller;
  let last = "";
  while (!controller.signal.aborted) {
    try {
      const res = await fetch("/admin/events", { headers: { authorization: `Bearer ${token()}`, ...(last ? { "last-event-id": last } : {}) }, signal: controller.signal });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      status.textContent = "live";
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const id = /^id: ?(.*)$/m.exec(block)?.[1];
          const data = /^data: ?(.*)$/m.exec(block)?.[1];
          if (id) last = id;
          if (data) {
            try {
              onEvent(JSON.parse(data));
            } catch {
              // A keep-alive or an event this page does not know.
            }
          }
        }
      }
    } catch {
      if (controller.signal.aborted) return;
    }
    status.textContent = "reconnecting…";
    await new Promise((r) => setTimeout(r, 1000));
  }
}
