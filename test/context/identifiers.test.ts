import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractIdentifiers, findIdentifiers } from "../../src/context/_identifiers.js";
import { splitSentences } from "../../src/context/_sentences.js";

/** Asserts that `text` yields `expected` whole, as one identifier of `kind`. */
function finds(text: string, expected: string, kind?: string): void {
  const found = findIdentifiers(text);
  const hit = found.find((f) => f.value === expected);
  assert.ok(hit !== undefined, `${JSON.stringify(expected)} not found whole in ${JSON.stringify(text)}: ${JSON.stringify(found)}`);
  if (kind !== undefined) assert.equal(hit.kind, kind, expected);
}

describe("identifier extraction", () => {
  it("keeps hyphenated and mixed codes whole", () => {
    finds("Your reservation is RSV-8812-ZT.", "RSV-8812-ZT", "reference");
    finds("Purchase order PO-2025-000731 was approved.", "PO-2025-000731", "reference");
    finds("The incident is OPS-4471, see the board.", "OPS-4471", "reference");
    finds("Order ORD_99812 shipped.", "ORD_99812");
    finds("Invoice INV-2024-0042 is open.", "INV-2024-0042");
  });

  it("keeps international phone numbers whole", () => {
    finds("Call me on +1-415-555-0123 after lunch.", "+1-415-555-0123", "phone");
    finds("The London office is +44 20 7946 0958.", "+44 20 7946 0958", "phone");
    finds("Berlin: +49 30 901820, ask for Jan.", "+49 30 901820", "phone");
    finds("Paris desk +33 1 42 68 53 00 today.", "+33 1 42 68 53 00", "phone");
    finds("Or (415) 555-0123 from the US.", "(415) 555-0123", "phone");
    finds("Or 415-555-0123 from the US.", "415-555-0123", "phone");
    assert.ok(!extractIdentifiers("Call me on +1-415-555-0123.").includes("0123"));
  });

  it("keeps IBANs and card-like groups whole", () => {
    finds("Pay to GB82 WEST 1234 5698 7654 32 by Friday.", "GB82 WEST 1234 5698 7654 32", "iban");
    finds("IBAN DE89370400440532013000.", "DE89370400440532013000", "iban");
    finds("Card 4111 1111 1111 1111 was declined.", "4111 1111 1111 1111", "card");
    finds("Card 4111-1111-1111-1111 was declined.", "4111-1111-1111-1111", "card");
    finds("The card ending **** **** **** 4242 expired.", "**** **** **** 4242", "card");
  });

  it("finds flight numbers and booking or PNR codes", () => {
    finds("I'm on BA249 to Singapore.", "BA249", "flight");
    finds("The return is LH4012 on Sunday.", "LH4012");
    finds("The PNR is X7K2QD, keep it.", "X7K2QD", "reference");
  });

  it("finds parcel tracking numbers", () => {
    finds("UPS tracking 1Z999AA10123456784 shows it in Leeds.", "1Z999AA10123456784");
    finds("DHL JJD000390007827434 arrived.", "JJD000390007827434");
    finds("Royal Mail AB123456789GB is late.", "AB123456789GB");
    finds("USPS 9400 1000 0000 0000 0000 00 was scanned.", "9400 1000 0000 0000 0000 00");
    finds("FedEx 781234567890 is out for delivery.", "781234567890");
  });

  it("finds URLs with and without scheme, e-mails and host names", () => {
    finds("The repo is github.com/acme/widgets now.", "github.com/acme/widgets", "host");
    finds("See https://x.example/a/b. Then stop.", "https://x.example/a/b", "url");
    finds("Docs at www.acme.io/docs/setup, please.", "www.acme.io/docs/setup");
    finds("Write to ops@example.com today.", "ops@example.com", "email");
    finds("The database is db-01.prod.internal:5432.", "db-01.prod.internal:5432", "host");
    finds("Point it at api.acme.io instead.", "api.acme.io", "host");
    assert.deepEqual(extractIdentifiers("The file report.pdf, e.g. the menu."), []);
  });

  it("finds file paths", () => {
    finds("Edit /etc/nginx/nginx.conf first.", "/etc/nginx/nginx.conf", "path");
    finds("Notes in ~/notes/todo.md.", "~/notes/todo.md", "path");
    finds("Open C:\\Users\\bob\\a.txt now.", "C:\\Users\\bob\\a.txt", "path");
    finds("Patch src/context/build.ts today.", "src/context/build.ts", "path");
  });

  it("finds amounts with currency and units", () => {
    finds("The budget is now $15,000.", "$15,000", "money");
    finds("It costs €1.200,50 in total.", "€1.200,50", "money");
    finds("Refund 300 EUR please.", "300 EUR", "money");
    finds("Send USD 42 to them.", "USD 42", "money");
    finds("Only £9.99 a month.", "£9.99", "money");
    finds("The parcel weighs 12 kg.", "12 kg", "quantity");
    finds("Latency went to 42 ms.", "42 ms");
    finds("Disk use is 85%.", "85%");
  });

  it("finds dates and times", () => {
    finds("We leave on 12 May 2025 early.", "12 May 2025", "date");
    finds("Due March 3rd, 2026 at the latest.", "March 3rd, 2026", "date");
    finds("Signed 2025-07-01T10:00Z.", "2025-07-01T10:00Z", "date");
    finds("Paid on 3/4/2025.", "3/4/2025", "date");
    finds("The call is at 14:30 CET.", "14:30 CET", "time");
    finds("Meet at 9 am sharp.", "9 am", "time");
    finds("Pickup 4:15 PM tomorrow.", "4:15 PM", "time");
  });

  it("finds version strings, IPs and hashes", () => {
    finds("Upgrade to v2.3.1 tonight.", "v2.3.1", "version");
    finds("Pin 1.14.0-rc.1 for now.", "1.14.0-rc.1", "version");
    finds("Server 10.0.0.12:8080 is down.", "10.0.0.12:8080", "ip");
    finds("Revert 9fceb02 please.", "9fceb02", "hash");
  });

  it("returns each identifier once, in order of appearance", () => {
    assert.deepEqual(extractIdentifiers("OPS-4471 then BA249 then OPS-4471 again"), ["OPS-4471", "BA249"]);
  });
});

describe("sentence splitting", () => {
  it("does not split at abbreviations, initials, decimals or URLs", () => {
    assert.deepEqual(splitSentences("Dr. Smith met Mr. J. Doe at Acme Inc. on Friday. It cost 3.5 GB, e.g. a lot. See github.com/acme/widgets. Then U.S. Steel called! Was it ok? Yes."), [
      "Dr. Smith met Mr. J. Doe at Acme Inc. on Friday.",
      "It cost 3.5 GB, e.g. a lot.",
      "See github.com/acme/widgets.",
      "Then U.S. Steel called!",
      "Was it ok?",
      "Yes.",
    ]);
  });

  it("keeps i.e., vs. and version numbers inside the sentence", () => {
    assert.deepEqual(splitSentences("Use the blue one, i.e. Model 3. Compare it vs. the old plan. Version 2.4 is out."), ["Use the blue one, i.e. Model 3.", "Compare it vs. the old plan.", "Version 2.4 is out."]);
  });

  it("ends a sentence at a newline", () => {
    assert.deepEqual(splitSentences("first line\nsecond line"), ["first line", "second line"]);
  });
});

describe("identifier search shortcuts", () => {
  // Fragments for every pattern, many of them without a digit (a UUID of
  // letters only, hosts, paths, mentions, code), and digits \d does not match.
  const FRAGMENTS = [
    "see deadbeef-dead-beef-dead-beefdeadbeef",
    "id 3f2c1a9e-4b7d-4c8e-9f00-1a2b3c4d5e6f",
    "mail ana.lopez@example.com",
    "ping @ops_team",
    "run `npm test` first",
    "docs at docs.example.io/guide",
    "api.internal.acme.corp is down",
    "open ~/notes/todo.txt",
    "C:\\Users\\ana\\report.docx",
    "src/store/file/_log.ts",
    "https://github.com/acme/widgets/pull/12",
    "IBAN DE89 3704 0044 0532 0130 00",
    "card 4111 1111 1111 1111",
    "+44 20 7946 0958",
    "(415) 555-0123",
    "RSV-8812-ZT",
    "flight BA249",
    "PNR X7K2QD",
    "#4471",
    "$1,250.00",
    "300 EUR",
    "2026-11-29T10:00Z",
    "12/05/2025",
    "3rd of March, 2026",
    "May 12th",
    "10:30 am UTC",
    "7pm",
    "10.0.0.12:8080",
    "v2.4.1",
    "1.2.3-beta",
    "commit 9fceb02",
    "45%",
    "250 ms",
    "12 kg",
    "order 123456",
    "digits ٣٤٥ and ４５６",
    "plain words only",
    "a-b-c",
    "dots... and more.",
    "slash / here",
    "at @ sign",
    "back`tick",
    "colon://",
    "the end.",
  ];
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };

  it("searching a text only with the patterns it can match finds what every pattern finds", async () => {
    const { scan } = await import("../../src/context/_identifiers.js");
    for (let i = 0; i < 2_000; i++) {
      const parts = Array.from({ length: 1 + next(4) }, () => FRAGMENTS[next(FRAGMENTS.length)] ?? "");
      const text = parts.join(next(2) === 0 ? " " : ", ");
      assert.deepEqual(scan(text), scan(text, false), text);
    }
  });
});
