// Services only some paths need (the summarizer and zod among their imports), loaded on
// first use so `sessions list` never pays for them. Kept as promises: a repeated dynamic
// import still walks the resolver (and any loader hooks installed).
let buildLoaded: Promise<typeof import("../context/build.js")> | undefined;
let compactLoaded: Promise<typeof import("./compact.js")> | undefined;
let compactAllLoaded: Promise<typeof import("./compact-all.js")> | undefined;
let transferLoaded: Promise<typeof import("./transfer.js")> | undefined;
let statusLoaded: Promise<typeof import("./status.js")> | undefined;

/** The context builder. */
export const buildModule = () => (buildLoaded ??= import("../context/build.js"));
/** The compaction service (and with it the summarizer). */
export const compactModule = () => (compactLoaded ??= import("./compact.js"));
/** Store-wide compaction. */
export const compactAllModule = () => (compactAllLoaded ??= import("./compact-all.js"));
/** Export and import (and with them zod). */
export const transferModule = () => (transferLoaded ??= import("./transfer.js"));
/** The status report. */
export const statusModule = () => (statusLoaded ??= import("./status.js"));
