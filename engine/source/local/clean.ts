// Go's path.Clean for slash-separated paths: Docker cleans .dockerignore patterns with it, so
// `./a//b/`, `a/../b` and `/x` must normalise the same way here.
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = out.join('/');
  if (rooted) return '/' + s;
  return s === '' ? '.' : s;
}
