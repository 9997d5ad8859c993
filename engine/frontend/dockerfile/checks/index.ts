// Build checks: static rules plus the converter's evaluation-time findings, filtered and
// escalated by the `# check=skip=A,B;error=true` directive, as BuildKit does.
import type { BuildWarning } from '../../../llb/definition.js';
import type { Converter } from '../convert/convert.js';
import { staticRules, ruleURL } from './rules.js';

export interface CheckDirective {
  skip: Set<string>;
  skipAll: boolean;
  error: boolean;
}

/** Parse the `# check=` directive from the top of a Dockerfile. */
export function parseCheckDirective(source: string): CheckDirective {
  const out: CheckDirective = { skip: new Set(), skipAll: false, error: false };
  for (const line of source.split(/\r?\n/)) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*)$/.exec(line.trim());
    if (!m) break;
    if (m[1]!.toLowerCase() !== 'check') continue;
    for (const part of m[2]!.split(';')) {
      const [k, v = ''] = part.split('=').map((x) => x.trim());
      if (k === 'skip') {
        for (const r of v.split(',').map((x) => x.trim()).filter(Boolean)) {
          if (r.toLowerCase() === 'all') out.skipAll = true;
          else out.skip.add(r);
        }
      } else if (k === 'error') out.error = v === 'true';
    }
  }
  return out;
}

export function runChecks(conv: Converter, source: string): BuildWarning[] {
  const found: BuildWarning[] = [...conv.warnings];
  staticRules(conv.parsed, (rule, message, ins) => found.push({ rule, message, location: { ...ins.location }, url: ruleURL(rule) }));
  const d = parseCheckDirective(source);
  const seen = new Set<string>();
  const out: BuildWarning[] = [];
  for (const w of found) {
    if (d.skipAll || d.skip.has(w.rule)) continue;
    const key = `${w.rule}\0${w.message}\0${w.location?.startLine ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d.error && w.rule !== 'UnusedBuildArg' && w.rule !== 'Parse' ? { ...w, error: true } : w);
  }
  return out.sort((a, b) => (a.location?.startLine ?? 0) - (b.location?.startLine ?? 0));
}
