import { parentKey } from "./keys.js";

/** A listed session placed in its thread tree: `parentKey` for a thread, `nested` when its parent is listed just above it. */
export type Nested<T> = T & { parentKey: string | null; nested: boolean };

/**
 * Orders a page of sessions so that each thread comes right after the
 * newest listed session of its parent key (threads among themselves in
 * page order); a thread whose parent is not on the page stays where it
 * was. Pure: keys that do not parse are left as they are.
 */
export function nestThreads<T extends { key: string }>(items: readonly T[]): Array<Nested<T>> {
  const parentOf = (key: string): string | null => {
    try {
      return parentKey(key);
    } catch {
      return null;
    }
  };
  const listed = new Set(items.map((s) => s.key));
  const children = new Map<string, T[]>();
  for (const s of items) {
    const parent = parentOf(s.key);
    if (parent !== null && listed.has(parent)) children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: Array<Nested<T>> = [];
  const placed = new Set<string>();
  for (const s of items) {
    const parent = parentOf(s.key);
    if (parent !== null && listed.has(parent)) continue;
    out.push({ ...s, parentKey: parent, nested: false });
    // Only under the parent key's first (newest) row, so a thread is listed once.
    if (placed.has(s.key)) continue;
    placed.add(s.key);
    for (const child of children.get(s.key) ?? []) out.push({ ...child, parentKey: s.key, nested: true });
  }
  return out;
}
