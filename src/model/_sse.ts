/** One server-sent event: its `event:` name (empty when none) and its `data:` lines joined by newlines. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads server-sent events from a byte stream as they complete. Lines end
 * in LF or CRLF; comments (`:` lines, which some servers send as
 * keep-alives) and fields other than `event` and `data` are skipped; an
 * event without data is dropped, as the SSE spec says.
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let pending = "";
  let event = "";
  let data: string[] = [];
  for await (const bytes of body) {
    pending += decoder.decode(bytes, { stream: true });
    let start = 0;
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n", start)) {
      const line = pending.charCodeAt(end - 1) === 13 && end > start ? pending.slice(start, end - 1) : pending.slice(start, end);
      start = end + 1;
      if (line === "") {
        if (data.length > 0) yield { event, data: data.join("\n") };
        event = "";
        data = [];
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      if (field !== "data" && field !== "event") continue;
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === "data") data.push(value);
      else event = value;
    }
    pending = pending.slice(start);
  }
  // A last event the server did not close with a blank line still counts.
  const tail = pending + decoder.decode();
  if (tail.startsWith("data:")) data.push(tail.slice(tail.charCodeAt(5) === 32 ? 6 : 5).replace(/\r$/, ""));
  if (data.length > 0) yield { event, data: data.join("\n") };
}
