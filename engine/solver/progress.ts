// Progress fan-out for one vertex execution. An execution may be shared by several jobs (dedup by
// cache key): every job sees every event once, and a job that joins late gets the events so far
// replayed. One job can subscribe several times — once per dependent that needs the vertex, each
// through its own view of the job — so subscribers are grouped by job id and each event goes to
// one subscriber of each group. Logs are capped per vertex so a chatty step cannot exhaust memory.
import type { ProgressEvent, VertexProgress } from './types.js';

type Untagged = ProgressEvent extends infer E ? (E extends { jobId: string } ? Omit<E, 'jobId'> : never) : never;

export interface Subscriber {
  jobId: string;
  emit(e: ProgressEvent): void;
}

export const DEFAULT_LOG_LIMIT = 2 * 1024 * 1024;

export class ProgressFanout {
  private readonly history: Untagged[] = [];
  /** job id → that job's subscribers (events go to the first; the others stand by) */
  private readonly subs = new Map<string, Set<Subscriber>>();
  private logBytes = 0;
  private truncated = false;

  constructor(
    private readonly vertex: string,
    private readonly logLimit = DEFAULT_LOG_LIMIT,
  ) {}

  subscribe(s: Subscriber): void {
    const group = this.subs.get(s.jobId);
    if (group) {
      // the job already sees this vertex: no second replay, no second copy of what follows
      group.add(s);
      return;
    }
    this.subs.set(s.jobId, new Set([s]));
    for (const e of this.history) send(s, e);
  }

  unsubscribe(s: Subscriber): void {
    const group = this.subs.get(s.jobId);
    if (!group?.delete(s)) return;
    // the job's other subscribers, if any, keep receiving (they have seen everything so far)
    if (group.size === 0) this.subs.delete(s.jobId);
  }

  /** how many jobs receive this execution's events */
  get size(): number {
    return this.subs.size;
  }

  publish(e: Untagged): void {
    this.history.push(e);
    for (const group of this.subs.values()) {
      const [first] = group;
      if (first) send(first, e);
    }
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
