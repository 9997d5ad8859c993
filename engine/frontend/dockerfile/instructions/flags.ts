// Instruction flags (`--name=value`), as BuildKit's BFlags: each instruction declares the flags
// it knows; anything else is an error that suggests the closest known flag.
import { DockerfileError, suggestSuffix } from '../errors.js';
import type { InstructionLocation } from './types.js';

export interface FlagSpec {
  /** string flags that may repeat (e.g. --mount, --exclude) */
  arrays?: string[];
  strings?: string[];
  bools?: string[];
}

export interface ParsedFlags {
  strings: Map<string, string>;
  arrays: Map<string, string[]>;
  bools: Map<string, boolean>;
}

export function parseFlags(instr: string, raw: string[], spec: FlagSpec, loc: InstructionLocation, source?: string): ParsedFlags {
  const out: ParsedFlags = { strings: new Map(), arrays: new Map(), bools: new Map() };
  const known = [...(spec.arrays ?? []), ...(spec.strings ?? []), ...(spec.bools ?? [])];
  for (const f of raw) {
    if (!f.startsWith('--')) throw new DockerfileError(`${instr}: invalid flag ${JSON.stringify(f)}`, loc, source);
    const body = f.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    if (spec.bools?.includes(name)) {
      if (value === undefined || value === '' || value.toLowerCase() === 'true') out.bools.set(name, true);
      else if (value.toLowerCase() === 'false') out.bools.set(name, false);
      else throw new DockerfileError(`${instr}: expecting boolean value for flag ${name}, not: ${value}`, loc, source);
    } else if (spec.strings?.includes(name)) {
      if (value === undefined) throw new DockerfileError(`${instr}: missing a value on flag: ${name}`, loc, source);
      if (out.strings.has(name)) throw new DockerfileError(`${instr}: duplicate flag specified: ${name}`, loc, source);
      out.strings.set(name, value);
    } else if (spec.arrays?.includes(name)) {
      if (value === undefined) throw new DockerfileError(`${instr}: missing a value on flag: ${name}`, loc, source);
      out.arrays.set(name, [...(out.arrays.get(name) ?? []), value]);
    } else {
      throw new DockerfileError(`${instr}: unknown flag: --${name}${suggestSuffix(name, known.map((k) => k))}`, loc, source);
    }
  }
  return out;
}

/** Go's time.ParseDuration, to nanoseconds (HEALTHCHECK durations). */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let pos = 0;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += parseFloat(m[1]!) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  return Math.round(total);
}

/** Go's Duration.String(), for history text. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = trimFrac(n / (div as number)) + unit;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const sec = trimFrac(n / 1e9) + 's';
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? '-' + out : out;
}

function trimFrac(x: number): string {
  return String(Number(x.toFixed(9)));
}
