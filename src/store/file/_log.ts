import { randomBytes } from "node:crypto";
import { constants, fchmodSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { storageError } from "../../errors.js";
import { closeQuietly, FILE_MODE, fsyncDir, writeAll } from "./_fs.js";
import { encodeRecord, type LogRecord } from "./_log-format.js";
import { PLAIN_CODEC, type ContentCodec } from "../_crypto.js";

const fdatasyncAsync = promisify(fdatasync);

/** A segment is sealed and a new one started once it outgrows this, even if records in it are not yet checkpointed. */
export const SEGMENT_MAX_BYTES = 8 * 2 ** 20;
/**
 * Zeros written ahead of the records. A flush of records written over
 * blocks already on disk leaves the file's size and block map alone, so
 * the file system commits no metadata for it: on ext4 that flush is about
 * 1.5 times as fast as one that grows the file. Readers take a zero frame
 * header for the end of the records; a sealed segment is cut to its records.
 */
export const ZERO_AHEAD_BYTES = 256 * 2 ** 10;
const ZEROS = Buffer.alloc(ZERO_AHEAD_BYTES);
/**
 * A flush the disk finished faster than this is waited for on the main
 * thread: handing it to the thread pool and back costs more than the flush
 * itself on such a disk (about 0.1 ms each way on a two-core machine). A
 * slower flush goes to the thread pool so the event loop keeps serving.
 */
export const SYNC_FLUSH_BELOW_MS = 1;
const SEGMENT_RE = /^(\d+)-([0-9a-f]{8})-(\d{6})\.log$/;

/** The parts of a segment's file name: `<pid>-<random>-<sequence>.log`. */
export interface SegmentName {
  pid: number;
  /** `<pid>-<random>`: one store instance, the only writer of its segments. */
  writer: string;
  seq: number;
}

/** Parses a segment file name; undefined for anything else in the log directory. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const m = SEGMENT_RE.exec(name);
  if (m === null) return undefined;
  return { pid: Number(m[1]), writer: `${m[1]}-${m[2]}`, seq: Number(m[3]) };
}

/** Where a durable record landed. */
export interface Written {
  segment: string;
  offset: number;
  bytes: number;
}

interface Waiter {
  frame: Buffer;
  resolve: (w: Written) => void;
  reject: (err: unknown) => void;
}

/**
 * This store instance's own log segments: appends queue here, and every
 * append waiting when a flush starts goes out in that flush's single write
 * and single fdatasync (group commit). A caller's promise settles only after
 * the flush that carried its record, so an acknowledged record is on disk.
 */
export class LogWriter {
  /** `<pid>-<random>`, the prefix of every segment this instance writes. */
  readonly writer = `${process.pid}-${randomBytes(4).toString("hex")}`;
  private queue: Waiter[] = [];
  private flushing = false;
  private scheduled = false;
  /** How long the last flush took; unknown (so the first goes to the thread pool) until one is measured. */
  private lastFlushMs = Number.POSITIVE_INFINITY;
  private fd: number | undefined;
  private segment: string | undefined;
  private size = 0;
  /** End of the zeros written ahead of the records (the file's size). */
  private zeroedTo = 0;
  private seq = 0;

  constructor(
    private readonly dir: string,
    private readonly codec: ContentCodec = PLAIN_CODEC,
  ) {}

  /** The segment being written, if one is open. */
  get active(): string | undefined {
    return this.segment;
  }

  /** Bytes in the active segment. */
  get activeBytes(): number {
    return this.size;
  }

  /**
   * Queues a record; resolves once it is durable. The flush starts after
   * the callbacks already due have run, so every append they make in the
   * meantime shares its write and fdatasync.
   */
  append(record: LogRecord): Promise<Written> {
    const frame = encodeRecord(record, this.codec);
    return new Promise<Written>((resolve, reject) => {
      this.queue.push({ frame, resolve, reject });
      if (this.flushing || this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    });
  }

  /** Closes the active segment so the next append starts a new one; returns the closed segment's name. */
  seal(): string | undefined {
    const sealed = this.segment;
    if (this.fd !== undefined) {
      // Cut the zeros: a sealed segment is its records, as earlier versions wrote it.
      if (this.zeroedTo > this.size) {
        try {
          ftruncateSync(this.fd, this.size);
        } catch {
          // Readers stop at the zeros all the same.
        }
      }
      closeQuietly(this.fd);
    }
    this.fd = undefined;
    this.segment = undefined;
    this.size = 0;
    this.zeroedTo = 0;
    return sealed;
  }

  /** True while a flush is writing or waiting for the disk. */
  get busy(): boolean {
    return this.flushing || this.scheduled || this.queue.length > 0;
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.write(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async write(batch: Waiter[]): Promise<void> {
    let start = 0;
    try {
      if (this.fd === undefined || this.size >= SEGMENT_MAX_BYTES) await this.open();
      const fd = this.fd as number;
      start = this.size;
      const data = batch.length === 1 ? (batch[0] as Waiter).frame : Buffer.concat(batch.map((w) => w.frame));
      // The same flush makes the new zeros durable with the records.
      while (this.zeroedTo < start + data.length) {
        writeAll(fd, ZEROS, this.zeroedTo);
        this.zeroedTo += ZEROS.length;
      }
      writeAll(fd, data, start);
      this.size += data.length;
      const started = performance.now();
      if (this.lastFlushMs < SYNC_FLUSH_BELOW_MS) fdatasyncSync(fd);
      else await fdatasyncAsync(fd);
      this.lastFlushMs = performance.now() - started;
    } catch (err) {
      // Whatever reached the file unflushed must not surface later as an
      // acknowledged-looking record, so it is cut off, and the segment is
      // abandoned: its end is not known to be sound.
      if (this.fd !== undefined) {
        try {
          ftruncateSync(this.fd, start);
        } catch {
          // Readers stop at the damaged tail and report it.
        }
        this.size = start;
        this.zeroedTo = start;
      }
      const failed = join(this.dir, this.segment ?? "log");
      const empty = this.segment !== undefined && start === 0;
      this.seal();
      // A segment that never held a record is not left behind.
      if (empty) {
        try {
          rmSync(failed, { force: true });
        } catch {
          // A read-only directory could not have created it either.
        }
      }
      const error = storageError("append to", failed, err);
      for (const w of batch) w.reject(error);
      return;
    }
    const segment = this.segment as string;
    let offset = start;
    for (const w of batch) {
      w.resolve({ segment, offset, bytes: w.frame.length });
      offset += w.frame.length;
    }
  }

  private async open(): Promise<void> {
    this.seal();
    const name = `${this.writer}-${String(++this.seq).padStart(6, "0")}.log`;
    const path = join(this.dir, name);
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), FILE_MODE);
    fchmodSync(fd, FILE_MODE);
    // The new name must be durable before any record in it is acknowledged.
    await fsyncDir(this.dir);
    this.fd = fd;
    this.segment = name;
    this.size = 0;
    this.zeroedTo = 0;
  }
}
