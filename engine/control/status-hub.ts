// Per-build progress buffers. Every event of a build is kept until the build is forgotten, so a
// client that subscribes late (or before the build starts: ids are caller-chosen) still receives
// the full history, then live events, then the end marker — as BuildKit's Status stream replays
// a job's vertex states to a new listener.
import type { ProgressEvent } from '../solver/types.js';

type Listener = { onEvent: (e: ProgressEvent) => void; onEnd?: () => void };

interface Stream {
  events: ProgressEvent[];
  ended: boolean;
  listeners: Set<Listener>;
  bytes: number;
}

/** Logs beyond this many bytes per build are dropped from the replay buffer (vertex events stay). */
const MAX_BUFFERED_LOG_BYTES = 8 * 1024 * 1024;

export class StatusHub {
  private streams = new Map<string, Stream>();

  private stream(id: string): Stream {
    let s = this.streams.get(id);
    if (!s) {
      s = { events: [], ended: false, listeners: new Set(), bytes: 0 };
      this.streams.set(id, s);
    }
    return s;
  }

  /** Start (or restart) a build's stream. */
  open(id: string): void {
    const s = this.stream(id);
    s.ended = false;
  }

  publish(id: string, e: ProgressEvent): void {
    const s = this.stream(id);
    if (e.type === 'log') {
      s.bytes += e.data.length;
      if (s.bytes <= MAX_BUFFERED_LOG_BYTES) s.events.push(e);
    } else s.events.push(e);
    for (const l of s.listeners) l.onEvent(e);
  }

  end(id: string): void {
    const s = this.stream(id);
    s.ended = true;
    for (const l of [...s.listeners]) l.onEnd?.();
    s.listeners.clear();
  }

  isEnded(id: string): boolean {
    return this.streams.get(id)?.ended ?? false;
  }

  known(id: string): boolean {
    return this.streams.has(id);
  }

  /** Replays the buffer, then follows. Returns an unsubscribe function. */
  subscribe(id: string, onEvent: (e: ProgressEvent) => void, onEnd?: () => void): () => void {
    const s = this.stream(id);
    for (const e of s.events) onEvent(e);
    if (s.ended) {
      onEnd?.();
      return () => {};
    }
    const l: Listener = { onEvent, onEnd };
    s.listeners.add(l);
    return () => s.listeners.delete(l);
  }

  /** Drop buffers of ended builds beyond the most recent `keep`. */
  gc(keep = 50): void {
    const ended = [...this.streams.entries()].filter(([, s]) => s.ended);
    for (const [id] of ended.slice(0, Math.max(0, ended.length - keep))) this.streams.delete(id);
  }
}
