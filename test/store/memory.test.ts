import { MemoryData, MemoryStore } from "../../src/store/memory/memory-store.js";
import { storeConformance } from "../conformance/store.js";
import { openBare } from "../helpers/bare-store.js";

storeConformance("memory", async () => {
  const data = new MemoryData();
  return { store: new MemoryStore(data), cleanup: async () => {}, reopen: async () => new MemoryStore(data) };
});

// A backend with no optional capability: the core rules hold without any of them.
storeConformance("bare", async () => ({ ...openBare(), cleanup: async () => {} }));
