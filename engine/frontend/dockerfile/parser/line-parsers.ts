// Per-instruction argument parsers (BuildKit's line_parsers.go): each turns the text after the
// keyword and flags into the `next` chain the dump and the instruction layer expect.

import type { Node } from './ast.js';
import { LineParseError } from './errors.js';
import { mkNode } from './node.js';
import { parseWords } from './split.js';

export type LineParser = (rest: string, escapeToken: string, sub: SubParser) => { next?: Node; json?: boolean };
/** parses a nested instruction (ONBUILD's) */
export type SubParser = (line: string) => Node;

const WS = /[\t\v\f\r ]+/;
export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

function chain(values: string[]): Node | undefined {
  let head: Node | undefined;
  let prev: Node | undefined;
  for (const v of values) {
    const n = mkNode(v);
    if (!prev) head = n;
    else prev.next = n;
    prev = n;
  }
  return head;
}

const parseIgnore: LineParser = () => ({ next: mkNode('') });

const parseSubCommand: LineParser = (rest, _e, sub) => {
  if (rest === '') return {};
  const wrapper = mkNode('');
  wrapper.children.push(sub(rest));
  return { next: wrapper };
};

/** ENV/LABEL: `KEY value` (legacy, space first) or `k=v k2=v2` (an = comes first). */
function parseNameVal(rest: string, key: string, escapeToken: string): Node | undefined {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return undefined;
  if (!words[0]!.includes('=')) {
    const m = WS.exec(rest);
    if (!m) throw new LineParseError(`${key} must have two arguments`);
    return chain([rest.slice(0, m.index), rest.slice(m.index + m[0].length), '']);
  }
  const vals: string[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw new LineParseError(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    vals.push(w.slice(0, i), w.slice(i + 1), '=');
  }
  return chain(vals);
}

const parseEnv: LineParser = (rest, e) => ({ next: parseNameVal(rest, 'ENV', e) });
const parseLabel: LineParser = (rest, e) => ({ next: parseNameVal(rest, 'LABEL', e) });

/** ARG: `name`, `name=`, `name=value`, several per line. */
const parseNameOrNameVal: LineParser = (rest, e) => ({ next: chain(parseWords(rest, e)) });

function splitWhitespace(rest: string): string[] {
  // Go's regexp.Split on the untrimmed rest: a trailing separator yields a final "" that BuildKit
  // drops, a leading one yields a leading "" that it keeps.
  const parts = rest.split(WS);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const parseStringsWhitespaceDelimited: LineParser = (rest) => (rest === '' ? {} : { next: chain(splitWhitespace(rest)) });

const parseString: LineParser = (rest) => (rest === '' ? {} : { next: mkNode(rest) });

class NotJSON extends Error {}

function parseJSON(rest: string): { next?: Node; json: true } {
  rest = rest.replace(/^\s+/u, '');
  if (!rest.startsWith('[')) throw new NotJSON();
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest);
  } catch {
    throw new NotJSON();
  }
  if (!Array.isArray(parsed)) throw new NotJSON();
  if (!parsed.every((x) => typeof x === 'string')) throw new LineParseError(NOT_STRING_ARRAY);
  return { next: chain(parsed as string[]), json: true };
}

/** RUN/CMD/ENTRYPOINT/SHELL: a JSON string array, else the whole text as one shell-form string. */
const parseMaybeJSON: LineParser = (rest) => {
  if (rest === '') return {};
  try {
    return parseJSON(rest);
  } catch (e) {
    if (!(e instanceof NotJSON)) throw e;
    return { next: mkNode(rest) };
  }
};

/** ADD/COPY/VOLUME: a JSON string array, else whitespace-separated words. */
const parseMaybeJSONToList: LineParser = (rest, e, s) => {
  try {
    return parseJSON(rest);
  } catch (err) {
    if (!(err instanceof NotJSON)) throw err;
    return parseStringsWhitespaceDelimited(rest, e, s);
  }
};

/** HEALTHCHECK: a type word (CMD or NONE) followed by a maybe-JSON command. */
const parseHealthConfig: LineParser = (rest, e, s) => {
  let sep = 0;
  while (sep < rest.length && !/\s/u.test(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && /\s/u.test(rest[next]!)) next++;
  if (sep === 0) return {};
  const typ = mkNode(rest.slice(0, sep));
  const cmd = parseMaybeJSON(rest.slice(next), e, s);
  if (cmd.next) typ.next = cmd.next;
  return { next: typ, ...(cmd.json ? { json: true } : {}) };
};

export const DISPATCH: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: parseEnv,
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: parseLabel,
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

export const INSTRUCTIONS = Object.keys(DISPATCH);

export function lineParserFor(cmd: string): LineParser {
  return DISPATCH[cmd.toLowerCase()] ?? parseIgnore;
}
