// How the session list names and nests its rows, as `sessions list` does.

/** A session's origin in one line, as `sessions list` shows it: who or what, then the channel (and account). */
export function originText(o) {
  const who = o.subject ?? o.displayName;
  const where = o.account ? `${o.channel}/${o.account}` : o.channel;
  return who ? `${who} · ${where}` : where;
}

/** The page with each thread right under its parent conversation's row when that is on the page too (as `sessions list` shows them). */
export function nestThreads(sessions) {
  const listed = new Set(sessions.map((s) => s.key));
  const under = new Map();
  for (const s of sessions) if (s.parentKey && listed.has(s.parentKey)) under.set(s.parentKey, [...(under.get(s.parentKey) ?? []), s]);
  const out = [];
  const placed = new Set();
  for (const s of sessions) {
    if (s.parentKey && listed.has(s.parentKey)) continue;
    out.push({ ...s, nested: false });
    if (placed.has(s.key)) continue;
    placed.add(s.key);
    for (const t of under.get(s.key) ?? []) out.push({ ...t, nested: true });
  }
  return out;
}
