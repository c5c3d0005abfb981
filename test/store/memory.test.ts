import { MemoryStore } from "../../src/store/memory/memory-store.js";
import { storeConformance } from "../conformance/store.js";

storeConformance("memory", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
