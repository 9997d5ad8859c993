// Which process owns a state root. One engine per root, as one dockerd per data root: two solvers
// on one root would each collect snapshots the other is using, and could not share a vertex. So
// `kiln serve` records its URL in <root>/serve.json, and a CLI started on that root without
// --addr becomes its client instead of starting a second engine (KILN_EMBEDDED=1 opts out).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readToken } from './token.js';

interface ServeRecord {
  url: string;
  pid: number;
}

export function serveRecordPath(root: string): string {
  return path.join(root, 'serve.json');
}

export function writeServeRecord(root: string, url: string): void {
  const p = serveRecordPath(root);
  const tmp = `${p}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ url, pid: process.pid } satisfies ServeRecord) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, p);
}

/** removes the record if it is still this process's (a later serve may have replaced it) */
export function removeServeRecord(root: string): void {
  const p = serveRecordPath(root);
  if (read(p)?.pid === process.pid) fs.rmSync(p, { force: true });
}

function read(p: string): ServeRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(p, 'utf8')) as Partial<ServeRecord>;
    return typeof r.url === 'string' && Number.isInteger(r.pid) ? (r as ServeRecord) : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** a TCP connect to the recorded address: a stale record (crashed serve, reused pid) fails it */
function listening(url: string, timeoutMs: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** the running `kiln serve` that owns `root`, with its token, if there is one */
export async function findServe(root: string): Promise<{ url: string; token: string } | undefined> {
  const r = read(serveRecordPath(root));
  if (!r || r.pid === process.pid || !alive(r.pid)) return undefined;
  const token = readToken(root);
  if (!token || !(await listening(r.url, 500))) return undefined;
  return { url: r.url, token };
}
