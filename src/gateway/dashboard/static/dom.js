// Building the page: elements from data, always as text and never as HTML,
// and the small formatting rules every view shares.
import { visibleText } from "/assets/text.js";

/** Creates an element; children are nodes or text (always text, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) throw new Error("no inline handlers");
    if (k === "class") el.className = v;
    // Through the CSSOM: the CSP refuses style attributes written as markup.
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : visibleText(String(c)));
  return el;
}

/** "3 min ago", "2 h ago"; "never" without a time. */
export function relTime(iso) {
  if (!iso) return "never";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hours = Math.round(m / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/** Thousands separators. */
export const fmt = (n) => Number(n ?? 0).toLocaleString("en-US");

/** A size in B, KiB or MiB. */
export const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** `n` as a share of `total`, as the CLI words it: "12.5 %", and "< 0.1 %" rather than a misleading "0.0 %" for a little use. */
export function share(n, total) {
  const pct = total > 0 ? (100 * n) / total : 0;
  return pct > 0 && pct < 0.1 ? "< 0.1 %" : `${pct.toFixed(1)} %`;
}

/**
 * A stacked bar; parts are [className, tokens, name]. Each part present
 * keeps a sliver of a few pixels however small its share (style.css), and
 * says its share in its title and in the bar's label.
 */
export function bar(parts, total, label) {
  const shown = parts.filter(([, n]) => n > 0);
  const said = shown.map(([cls, n, name]) => `${name ?? cls} ${fmt(n)} tokens (${share(n, total)})`);
  const b = h("div", { class: "bar", role: "img", "aria-label": `${label}${said.length > 0 ? `: ${said.join(", ")}` : ""}` });
  for (const [cls, n, name] of shown) {
    b.append(h("span", { class: cls, title: `${name ?? cls}: ${fmt(n)} tokens, ${share(n, total)} of the window`, style: `width:${Math.min(100, (100 * n) / Math.max(1, total)).toFixed(3)}%` }));
  }
  return b;
}
