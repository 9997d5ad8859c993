// The serve token: random, kept in <root>/serve.token with mode 0600 so only the user who runs
// `kiln serve` (and their CLI, which reads it for --addr) can talk to the API.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function tokenPath(root: string): string {
  return path.join(root, 'serve.token');
}

export function createToken(root: string): string {
  const token = randomBytes(24).toString('base64url');
  fs.mkdirSync(root, { recursive: true });
  const p = tokenPath(root);
  fs.writeFileSync(p, token + '\n', { mode: 0o600 });
  fs.chmodSync(p, 0o600);
  return token;
}

export function readToken(root: string): string | undefined {
  try {
    return fs.readFileSync(tokenPath(root), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function tokenMatches(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
