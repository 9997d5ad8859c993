// Just enough .dockerignore matching for the frontend's own "why is my COPY source missing"
// diagnosis; the context transfer itself uses engine/source/local's matcher via the local
// source's exclude patterns.
import path from 'node:path';

export function parseIgnoreText(text: string): string[] {
  const out: string[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (!line) continue;
    const neg = line.startsWith('!');
    let p = neg ? line.slice(1).trim() : line;
    p = path.posix.normalize(p).replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '' || p === '.') continue;
    out.push(neg ? '!' + p : p);
  }
  return out;
}

function toRegex(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
      if (p[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '(/.*)?$');
}

/** The last rule that decides `rel` is excluded, or undefined when it is included. */
export function excludingRule(patterns: string[], rel: string): string | undefined {
  let rule: string | undefined;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const body = neg ? p.slice(1) : p;
    if (toRegex(body).test(rel)) rule = neg ? undefined : p;
  }
  return rule;
}
