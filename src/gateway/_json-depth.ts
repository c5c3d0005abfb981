/** Deepest nesting of objects and arrays a request body may have; real requests stay far below it. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text opens more than `max` objects or arrays inside one
 * another. One pass over the characters with a counter, no recursion, so a
 * body of a million `[` is refused cheaply instead of overflowing the stack
 * of whatever walks the parsed value later. Brackets inside strings do not count.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character, `\"` included
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}
