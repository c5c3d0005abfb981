import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createExtractiveSummarizer, extractIdentifiers, extractiveSummary } from "../../src/context/extractive.js";
import { estimateTokens, loadTokenCounter } from "../../src/context/tokens.js";
import type { Message, Summary } from "../../src/session/types.js";
import { T0, call, msg } from "../helpers/context-fixtures.js";

const IDS = [
  "INV-2024-0042",
  "JIRA-1234",
  "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
  "https://billing.example.com/invoices/42?view=full",
  "ops@example.com",
  "42 ms",
  "3.5 GB",
  "$1,200",
  "src/context/build.ts",
  "`parseConfig`",
  "@bob",
];

function conversation(): Message[] {
  return [
    msg(0, { role: "user", sender: "alice", content: "Invoice INV-2024-0042 was charged $1,200 twice. See https://billing.example.com/invoices/42?view=full." }),
    msg(1, { role: "assistant", content: "Let me look it up.", toolCalls: [call("call_1", "lookup_invoice", '{"invoice":"INV-2024-0042"}')] }),
    msg(2, { role: "tool", toolCallId: "call_1", content: '{"status":"paid","request":"0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b","latency":"42 ms"}' }),
    msg(3, { role: "assistant", content: "The invoice is paid; the duplicate charge is tracked in JIRA-1234. The export used 3.5 GB." }),
    msg(4, { role: "user", sender: "alice", content: "We decided to refund through the billing API. Ask @bob to patch `parseConfig` in src/context/build.ts." }),
    msg(5, { role: "assistant", content: "Noted. Should I email ops@example.com about the rollout window?" }),
  ];
}

/** Everything the summarizer was given, to check that it wrote nothing else. */
function corpus(messages: readonly Message[], previous = ""): string {
  return [previous, ...messages.map((m) => m.content), ...messages.flatMap((m) => (m.toolCalls ?? []).map((c) => `${c.name} ${c.arguments}`))].join("\n");
}

describe("extractive summarizer", () => {
  it("keeps identifiers verbatim", () => {
    const text = extractiveSummary({ previous: null, messages: conversation(), maxTokens: 1200 });
    for (const id of IDS) assert.ok(text.includes(id), `missing ${id}\n${text}`);
  });

  it("finds the kinds of identifiers it promises", () => {
    const text =
      "Ticket JIRA-1234 (see https://x.example/a/b.) mailed to ops@example.com by @bob: 42 ms, 3.5 GB, $1,200, 85%, `parseConfig`, src/context/build.ts, 0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b, v1.2.3, 2026-01-10.";
    assert.deepEqual(extractIdentifiers(text), [
      "JIRA-1234",
      "https://x.example/a/b",
      "ops@example.com",
      "@bob",
      "42 ms",
      "3.5 GB",
      "$1,200",
      "85%",
      "`parseConfig`",
      "src/context/build.ts",
      "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
      "v1.2.3",
      "2026-01-10",
    ]);
  });

  it("is deterministic", async () => {
    const a = extractiveSummary({ previous: null, messages: conversation(), maxTokens: 300 });
    const b = extractiveSummary({ previous: null, messages: conversation(), maxTokens: 300 });
    const c = await createExtractiveSummarizer().summarize({ previous: null, messages: conversation(), maxTokens: 300 });
    assert.equal(a, b);
    assert.equal(a, c);
  });

  it("marks itself as a summary of N earlier messages with their time span", () => {
    const text = extractiveSummary({ previous: null, messages: conversation(), maxTokens: 1200 });
    assert.equal(text.split("\n")[0], "Summary of 6 earlier messages (2026-02-01T09:00Z to 2026-02-01T09:05Z):");
  });

  it("attributes lines to role and sender, and sorts decisions and open questions", () => {
    const text = extractiveSummary({ previous: null, messages: conversation(), maxTokens: 1200 });
    assert.match(text, /Decisions:\n(?:- .*\n)*- \[user alice\] We decided to refund through the billing API\./);
    assert.match(text, /Open questions and pending tasks:\n- \[assistant\] Should I email ops@example\.com about the rollout window\?/);
    assert.match(text, /- \[tool lookup_invoice\] .*0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b/);
  });

  it("does not list a question that a later message answered", () => {
    const messages = [msg(0, { role: "user", content: "Which region hosts the billing database?" }), msg(1, { role: "assistant", content: "The billing database runs in eu-west-1." })];
    const text = extractiveSummary({ previous: null, messages, maxTokens: 500 });
    assert.doesNotMatch(text, /Open questions:/);
  });

  it("never invents text: every line is a label plus words from the input", () => {
    const messages = conversation();
    const source = corpus(messages);
    const text = extractiveSummary({ previous: null, messages, maxTokens: 1200 });
    let section = "";
    const sections: string[] = [];
    for (const line of text.split("\n").slice(1)) {
      if (!line.startsWith("- ")) {
        section = line;
        continue;
      }
      sections.push(section);
      if (line.startsWith("- Participants: ")) continue;
      const payload = line
        .replace(/^- \[[^\]]*\] /, "")
        .replace(/^(?:tool call|Topic): /, "")
        .replace(/…$/, "");
      assert.ok(source.includes(payload), `invented: ${JSON.stringify(payload)}`);
    }
    assert.ok(sections.includes("Facts:"), text);
  });

  it("respects maxTokens, with the estimate and with an exact counter", async () => {
    const exact = await loadTokenCounter("gpt-4o", 1);
    const messages = Array.from({ length: 60 }, (_, i) =>
      msg(i, { role: i % 2 === 0 ? "user" : "assistant", content: `Step ${i}: ticket OPS-${1000 + i} moved ${i * 3} GB to https://example.com/run/${i}. We decided to keep batch ${i}.` }),
    );
    for (const maxTokens of [64, 120, 300, 800]) {
      const estimated = extractiveSummary({ previous: null, messages, maxTokens });
      assert.ok(estimateTokens(estimated) <= maxTokens, `estimate over ${maxTokens}`);
      const counted = extractiveSummary({ previous: null, messages, maxTokens, countTokens: (t) => exact.countText(t) });
      assert.ok(exact.countText(counted) <= maxTokens, `exact over ${maxTokens}`);
    }
  });

  it("when space runs out, drops notes before identifiers", () => {
    const messages = Array.from({ length: 30 }, (_, i) => msg(i, { role: i % 2 === 0 ? "user" : "assistant", content: `A fairly long remark number ${i} about nothing in particular, really. Ref KEY-${i}.` }));
    const text = extractiveSummary({ previous: null, messages, maxTokens: 220 });
    assert.doesNotMatch(text, /Notes:/);
    assert.ok(text.includes("KEY-29"), text);
  });

  it("rolls the previous summary in: its lines stay, counts and span accumulate", () => {
    const first = conversation();
    const prevText = extractiveSummary({ previous: null, messages: first, maxTokens: 1200 });
    const previous: Summary = {
      text: prevText,
      tokens: 100,
      messageCount: 6,
      throughMessageId: "m0005",
      updatedAt: T0.toISOString(),
      summarizer: "extractive",
    };
    const more = [msg(10, { role: "user", content: "Also close ORD-55812 please." }), msg(11, { role: "assistant", content: "Closed ORD-55812." })];
    const text = extractiveSummary({ previous, messages: more, maxTokens: 1200 });
    assert.equal(text.split("\n")[0], "Summary of 8 earlier messages (2026-02-01T09:00Z to 2026-02-01T09:11Z):");
    for (const id of [...IDS, "ORD-55812"]) assert.ok(text.includes(id), `missing ${id}`);
    assert.equal(text.split("INV-2024-0042").length, prevText.split("INV-2024-0042").length, "identifiers are not repeated");
  });

  it("keeps identifiers from a previous summary written by another summarizer", () => {
    const previous: Summary = {
      text: "The user reported a double charge on INV-2024-0042 and was told to wait for refund RF-88123.",
      tokens: 30,
      messageCount: 40,
      throughMessageId: "x",
      updatedAt: T0.toISOString(),
      summarizer: "openai-compatible",
    };
    const text = extractiveSummary({ previous, messages: [msg(50, { role: "user", content: "Any news?" })], maxTokens: 400 });
    assert.match(text, /^Summary of 41 earlier messages \(up to 2026-02-01T09:50Z\):/);
    assert.ok(text.includes("INV-2024-0042") && text.includes("RF-88123"));
  });
});
