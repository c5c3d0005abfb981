import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractiveSummary } from "../../src/context/extractive.js";
import type { Message, Summary } from "../../src/session/types.js";
import { msg, prng } from "../helpers/context-fixtures.js";

function asPrevious(text: string, messageCount: number): Summary {
  return { text, tokens: 0, messageCount, throughMessageId: "x", updatedAt: "2026-02-01T09:00:00.000Z", summarizer: "extractive" };
}

const FILLER = ["Haha, that's funny.", "Thanks, that helps a lot!", "Okay, sounds good to me.", "Let me think about it for a moment.", "The weather has been lovely this week.", "Sorry, I was away from my desk."];

describe("rolling extractive summary", () => {
  it('shows the newer value as current and the replaced one only as "(was …)" after an explicit update', () => {
    const first = extractiveSummary({
      previous: null,
      messages: [msg(0, { role: "user", sender: "alice", content: "Planning the offsite. The budget is $12,000 for everything." }), msg(1, { role: "assistant", content: "Noted." })],
      maxTokens: 600,
    });
    assert.ok(first.includes("$12,000"), first);
    const rolled = extractiveSummary({
      previous: asPrevious(first, 2),
      messages: [msg(5, { role: "user", sender: "alice", content: "Change of plan: the budget is now $15,000." }), msg(6, { role: "assistant", content: "Updated." })],
      maxTokens: 600,
    });
    assert.ok(rolled.includes("the budget is now $15,000. (was $12,000)"), rolled);
    assert.equal(rolled.split("$12,000").length - 1, 1, rolled);
    // Within one fold too.
    const once = extractiveSummary({
      previous: null,
      messages: [msg(0, { role: "user", content: "The delivery date is 3 March 2026." }), msg(1, { role: "user", content: "Sorry, the delivery date is now 10 March 2026." })],
      maxTokens: 600,
    });
    assert.ok(once.includes("the delivery date is now 10 March 2026. (was 3 March 2026)"), once);
    assert.ok(!once.includes("The delivery date is 3 March 2026."), once);
  });

  it("keeps its sections and each fact's sentence across many rolls", () => {
    let previous: Summary | null = null;
    let count = 0;
    const r = prng(7);
    for (let fold = 0; fold < 12; fold++) {
      const messages: Message[] = [];
      for (let i = 0; i < 20; i++) {
        const n = fold * 20 + i;
        const content = i === 3 ? `Please note that parcel ${fold} ships with tracking number 1Z999AA1012345678${fold % 10} from Leeds.` : r.pick(FILLER);
        messages.push(msg(n, { role: i % 2 === 0 ? "user" : "assistant", sender: i % 2 === 0 ? "alice" : null, content }));
      }
      count += messages.length;
      const text = extractiveSummary({ previous, messages, maxTokens: 700 });
      previous = asPrevious(text, count);
    }
    const text = previous?.text ?? "";
    assert.match(text, /^Summary of 240 earlier messages/);
    assert.match(text, /\nWho and what:\n- Participants: user alice, assistant\n/);
    assert.match(text, /\nFacts:\n/);
    for (let fold = 0; fold < 12; fold++) {
      assert.ok(text.includes(`parcel ${fold} ships with tracking number 1Z999AA1012345678${fold % 10} from Leeds.`), `fold ${fold}\n${text}`);
    }
  });

  it("when it must shrink, drops chit-chat and repeats before any identifier-bearing fact", () => {
    const messages: Message[] = [];
    for (let i = 0; i < 80; i++) {
      const content = i % 8 === 0 ? `The reference for shipment ${i} is OPS-${4400 + i}, handled in Rotterdam.` : `${FILLER[i % FILLER.length]} Anyway, more small talk about lunch and the long weekend ahead of us all.`;
      messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant", content }));
    }
    messages.push(msg(80, { role: "assistant", content: "As said, the reference for shipment 0 is OPS-4400." }));
    const text = extractiveSummary({ previous: null, messages, maxTokens: 360 });
    for (let i = 0; i < 80; i += 8) assert.ok(text.includes(`OPS-${4400 + i}`), `OPS-${4400 + i} lost\n${text}`);
    assert.doesNotMatch(text, /small talk/);
    assert.equal(text.split("OPS-4400").length - 1, 1, "a repeated fact is written once");
  });

  it("writes facts as the sentence that gives them meaning, not bare tokens", () => {
    const text = extractiveSummary({
      previous: null,
      messages: [msg(0, { role: "user", sender: "bob", content: "Hello! You can reach me on +1-415-555-0123 any time. The IBAN for the refund is GB82 WEST 1234 5698 7654 32." })],
      maxTokens: 400,
    });
    assert.ok(text.includes("- [user bob] You can reach me on +1-415-555-0123 any time."), text);
    assert.ok(text.includes("- [user bob] The IBAN for the refund is GB82 WEST 1234 5698 7654 32."), text);
  });

  it("rolls a model-written summary that kept the sections, section by section", () => {
    const previous: Summary = {
      text: "Who and what:\n- Alice is moving to Porto.\nDecisions:\n- Movers booked with Stark Logistics.\nFacts:\n- The deposit is €640.26.\n- Parcel JJD000390007827434 is on its way.",
      tokens: 40,
      messageCount: 30,
      throughMessageId: "x",
      updatedAt: "2026-02-01T08:00:00.000Z",
      summarizer: "openai-compatible",
    };
    const text = extractiveSummary({ previous, messages: [msg(40, { role: "user", sender: "alice", content: "Change of plan: the deposit is now €700.00." })], maxTokens: 600 });
    assert.match(text, /^Summary of 31 earlier messages/);
    assert.match(text, /\nWho and what:\n(?:- .*\n)*- Alice is moving to Porto\.\n/);
    assert.match(text, /\nDecisions:\n- Movers booked with Stark Logistics\.\n/);
    assert.match(text, /\nFacts:\n- Parcel JJD000390007827434 is on its way\.\n- \[user alice\] Change of plan: the deposit is now €700\.00\. \(was €640\.26\)/);
    assert.ok(!text.includes("The deposit is €640.26."), text);
  });
});
