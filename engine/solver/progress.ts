// Progress fan-out for one vertex execution. An execution may be shared by several jobs (dedup by
// cache key): every subscriber sees every event, and a job that joins late gets the events so far
// replayed. Logs are capped per vertex so a chatty step cannot exhaust memory.
import type { ProgressEvent, VertexProgress } from './types.js';

type Untagged = ProgressEvent extends infer E ? (E extends { jobId: string } ? Omit<E, 'jobId'> : never) : never;

export interface Subscriber {
  jobId: string;
  emit(e: ProgressEvent): void;
}

export const DEFAULT_LOG_LIMIT = 2 * 1024 * 1024;

export class ProgressFanout {
  private readonly history: Untagged[] = [];
  private readonly subs = new Set<Subscriber>();
  private logBytes = 0;
  private truncated = false;

  constructor(
    private readonly vertex: string,
    private readonly logLimit = DEFAULT_LOG_LIMIT,
  ) {}

  subscribe(s: Subscriber): void {
    if (this.subs.has(s)) return;
    this.subs.add(s);
    for (const e of this.history) send(s, e);
  }

  unsubscribe(s: Subscriber): void {
    this.subs.delete(s);
  }

  get size(): number {
    return this.subs.size;
  }

  publish(e: Untagged): void {
    this.history.push(e);
    for (const s of this.subs) send(s, e);
  }

  sink(): VertexProgress {
    return {
      log: (stream, data) => {
        if (this.truncated) return;
        let text = typeof data === 'string' ? data : data.toString('utf8');
        const room = this.logLimit - this.logBytes;
        if (Buffer.byteLength(text) > room) {
          text = Buffer.from(text).subarray(0, Math.max(0, room)).toString('utf8');
          this.truncated = true;
        }
        this.logBytes += Buffer.byteLength(text);
        if (text) this.publish({ type: 'log', vertex: this.vertex, stream, data: text, timestamp: Date.now() });
        if (this.truncated) {
          this.publish({ type: 'log', vertex: this.vertex, stream: 2, data: `\n[output clipped, log limit ${Math.round(this.logLimit / 1024)}KiB reached]\n`, timestamp: Date.now() });
        }
      },
      status: (id, current, total) => {
        this.publish({ type: 'status', vertex: this.vertex, id, current, total, timestamp: Date.now() });
      },
    };
  }
}

/** tag an execution's event with the subscribing job's id */
function send(s: Subscriber, e: Untagged): void {
  deliver(s, { ...e, jobId: s.jobId } as ProgressEvent);
}

/** deliver one event; a broken progress consumer must not fail the build */
export function deliver(s: Subscriber, e: ProgressEvent): void {
  try {
    s.emit(e);
  } catch {
    /* ignored on purpose */
  }
}
