// Loaded with `node --import` before the CLI by the turn-lease scenario only:
// the gateway it starts runs every turn without taking the session's lease,
// the "before" of what the lease costs. Never used outside the benchmark.
import { SessionManager } from "../dist/manager/manager.js";

SessionManager.prototype.withTurn = function withoutLease(_id, fn) {
  return fn(new AbortController().signal);
};
