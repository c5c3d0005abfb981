// Stored text may hold characters that hide or reorder what is shown: U+202E
// makes "gnp.exe" read "exe.png", zero-width characters hide inside names.
// They are shown as marked placeholders; the stored text is never changed.

const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/** A node for `text`: plain text, or a fragment where each invisible or reordering character is a marked `U+XXXX` placeholder. */
export function visibleText(text) {
  // search(), unlike test(), leaves lastIndex alone (matchAll below starts from it).
  if (text.search(INVISIBLE) < 0) return document.createTextNode(text);
  const out = document.createDocumentFragment();
  let from = 0;
  for (const m of text.matchAll(INVISIBLE)) {
    const at = m.index;
    // A joiner between two pictographs builds one emoji: it stays as it is.
    if (m[0] === "\u200d" && PICTOGRAPH.test(text.slice(Math.max(0, at - 2), at)) && PICTOGRAPH.test(text.slice(at + 1, at + 3))) continue;
    out.append(text.slice(from, at));
    const code = `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    const mark = document.createElement("span");
    mark.className = "invisible-char";
    mark.title = `hidden character ${code}`;
    mark.textContent = code;
    out.append(mark);
    from = at + 1;
  }
  out.append(text.slice(from));
  return out;
}
