// COPY --chmod: numeric (0755) or symbolic (u+x,go-w, a=rX) modes, applied per entry.

export function applyChmod(spec: number | string, current: number, isDir: boolean): number {
  if (typeof spec === 'number') return spec & 0o7777;
  if (/^[0-7]+$/.test(spec)) return parseInt(spec, 8) & 0o7777;
  let mode = current & 0o7777;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause.trim());
    if (!m) throw new Error(`invalid chmod ${JSON.stringify(spec)}`);
    const who = m[1] || 'a';
    let bits = 0;
    for (const p of m[3]!) {
      if (p === 'r') bits |= 0o444;
      else if (p === 'w') bits |= 0o222;
      else if (p === 'x') bits |= 0o111;
      else if (p === 'X') bits |= isDir || current & 0o111 ? 0o111 : 0;
      else if (p === 's') bits |= 0o6000;
      else if (p === 't') bits |= 0o1000;
    }
    let mask = 0;
    if (who.includes('u') || who.includes('a')) mask |= 0o4700;
    if (who.includes('g') || who.includes('a')) mask |= 0o2070;
    if (who.includes('o') || who.includes('a')) mask |= 0o1007;
    bits &= mask;
    if (m[2] === '+') mode |= bits;
    else if (m[2] === '-') mode &= ~bits;
    else mode = (mode & ~mask) | bits;
  }
  return mode;
}
