// BuildKit's shell-word lexer (frontend/dockerfile/shell): the subset of POSIX sh word expansion
// that Dockerfile instructions get. It is not a shell: no command substitution, no globbing,
// only parameter expansion, quoting and escapes — with BuildKit's exact edge-case behaviour,
// because the conformance corpus (envVarTest, wordsTest) pins it down.

import { ShellLexError } from './errors.js';
import { trimPrefix, trimSuffix, shellPatternToRegex } from './pattern.js';

export type EnvInput = Map<string, string> | Record<string, string | undefined> | string[];

export interface ProcessWordResult {
  result: string;
  words: string[];
  /** variables that were referenced and set */
  matched: Set<string>;
  /** variables that were referenced but unset (what the UndefinedVar check reports) */
  unmatched: Set<string>;
}

export { ShellLexError };

const EOF = -1;

/** Turn the accepted env shapes into a lookup; `KEY=value` arrays as BuildKit's EnvsFromSlice. */
function toLookup(env: EnvInput | undefined, caseInsensitive: boolean): (name: string) => string | undefined {
  let m: Map<string, string>;
  if (!env) m = new Map();
  else if (env instanceof Map) m = env;
  else if (Array.isArray(env)) {
    m = new Map();
    for (const kv of env) {
      const i = kv.indexOf('=');
      if (i < 0) m.set(kv, '');
      else m.set(kv.slice(0, i), kv.slice(i + 1));
    }
  } else {
    m = new Map();
    for (const [k, v] of Object.entries(env)) if (v !== undefined) m.set(k, v);
  }
  if (!caseInsensitive) return (n) => m.get(n);
  return (n) => {
    // Windows env names are case-insensitive; the last definition wins, as in BuildKit.
    let found: string | undefined;
    for (const [k, v] of m) if (k.toUpperCase() === n.toUpperCase()) found = v;
    return found;
  };
}

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}
function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}
function isAlphaNumeric(ch: string): boolean {
  return ch === '_' || /^[\p{L}\p{Nd}]$/u.test(ch);
}
function isSpecialParam(ch: string): boolean {
  return '@*#?-$!0'.includes(ch) && ch.length === 1;
}

/** Accumulates the word-split view of an expansion alongside the plain string. */
class Words {
  word = '';
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
    }
    return this.words;
  }
}

/** A rune scanner over a string (code points, like Go's text/scanner). */
class Scanner {
  private chars: string[];
  private pos = 0;
  constructor(s: string) {
    this.chars = Array.from(s);
  }
  peek(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos]! : EOF;
  }
  next(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos++]! : EOF;
  }
}

export interface ShellLexOptions {
  /** keep quote characters in the output (used for heredoc delimiter detection) */
  rawQuotes?: boolean;
  /** keep escape characters in the output */
  rawEscapes?: boolean;
  /** leave references to unset variables as written instead of expanding them to "" */
  skipUnsetEnv?: boolean;
  /** env names case-insensitive (Windows targets) */
  caseInsensitive?: boolean;
  /** quotes are ordinary characters (only $ and the escape token are special) */
  skipProcessQuotes?: boolean;
}

export class ShellLex {
  escapeToken: string;
  rawQuotes: boolean;
  rawEscapes: boolean;
  skipUnsetEnv: boolean;
  caseInsensitive: boolean;
  skipProcessQuotes: boolean;

  constructor(escapeToken: string = '\\', opts: ShellLexOptions = {}) {
    this.escapeToken = escapeToken;
    this.rawQuotes = opts.rawQuotes ?? false;
    this.rawEscapes = opts.rawEscapes ?? false;
    this.skipUnsetEnv = opts.skipUnsetEnv ?? false;
    this.caseInsensitive = opts.caseInsensitive ?? false;
    this.skipProcessQuotes = opts.skipProcessQuotes ?? false;
  }

  /** Expand `word` to one string (no word splitting), as ENV/ARG/WORKDIR etc. use it. */
  processWord(word: string, env?: EnvInput): string {
    return this.run(word, env).result;
  }

  /** Expand and split into words the way unquoted expansions split, as FROM/COPY/EXPOSE use it. */
  processWords(word: string, env?: EnvInput): string[] {
    return this.run(word, env).words;
  }

  /** processWord plus which variables were referenced and which of those were unset. */
  processWordWithMatches(word: string, env?: EnvInput): ProcessWordResult {
    return this.run(word, env);
  }

  private run(source: string, env: EnvInput | undefined): ProcessWordResult {
    const w = new ShellWord(this, new Scanner(source), toLookup(env, this.caseInsensitive));
    try {
      const [result, words] = w.processStopOn(EOF, this.rawEscapes);
      return { result, words, matched: w.matched, unmatched: w.unmatched };
    } catch (e) {
      if (e instanceof ShellLexError) throw new ShellLexError(`failed to process ${JSON.stringify(source)}: ${e.message}`);
      throw e;
    }
  }
}

class ShellWord {
  matched = new Set<string>();
  unmatched = new Set<string>();
  /** current escape mode: pattern words (${v#p}, ${v/p/r}) switch it on while they are read */
  private rawEscapes: boolean;
  constructor(
    private lex: ShellLex,
    private s: Scanner,
    private lookup: (name: string) => string | undefined,
  ) {
    this.rawEscapes = lex.rawEscapes;
  }

  private getEnv(name: string): [string, boolean] {
    const v = this.lookup(name);
    if (v === undefined) {
      this.unmatched.add(name);
      return ['', false];
    }
    this.matched.add(name);
    return [v, true];
  }

  processStopOn(stop: string | typeof EOF, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.stopOn(stop, rawEscapes);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private stopOn(stop: string | typeof EOF, rawEscapes: boolean): [string, string[]] {
    let result = '';
    const quotes = !this.lex.skipProcessQuotes;
    const words = new Words();
    for (;;) {
      const ch = this.s.peek();
      if (ch === EOF) break;
      if (stop !== EOF && ch === stop) {
        this.s.next();
        return [result, words.get()];
      }
      if (ch === '$' || (quotes && (ch === "'" || ch === '"'))) {
        const tmp = ch === "'" ? this.processSingleQuote() : ch === '"' ? this.processDoubleQuote() : this.processDollar();
        // An expansion's value is split on whitespace; quoted text never is.
        if (ch === '$') words.addString(tmp);
        else words.addRawString(tmp);
        result += tmp;
        continue;
      }
      let c = this.s.next() as string;
      if (c === this.lex.escapeToken) {
        if (rawEscapes) {
          words.addRawChar(c);
          result += c;
        }
        const n = this.s.next();
        if (n === EOF) break; // a lone escape at the end is dropped
        c = n;
        words.addRawChar(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== EOF) throw new ShellLexError(`unexpected end of statement while looking for matching ${stop}`);
    return [result, words.get()];
  }

  private processSingleQuote(): string {
    // Everything between single quotes is literal; a single quote cannot be escaped inside.
    let result = '';
    const open = this.s.next() as string;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const ch = this.s.next();
      if (ch === EOF) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.s.next() as string;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const p = this.s.peek();
      if (p === EOF) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.s.next();
        if (this.lex.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.s.next() as string;
      if (ch === this.lex.escapeToken) {
        // (In raw mode BuildKit writes the escape, then the escaped char or — for a char that
        // cannot be escaped here — the escape once more; kept as is for identical results.)
        if (this.rawEscapes) result += ch;
        const n = this.s.peek();
        if (n === EOF) continue; // ignore an escape at the end of the word
        // Only ", $ and the escape token itself can be escaped inside double quotes; any other
        // escape is kept literally.
        if (n === '"' || n === '$' || n === this.lex.escapeToken) ch = this.s.next() as string;
      }
      result += ch;
    }
  }

  private processName(): string {
    // A name is alphanumerics/_; a leading digit reads all digits (positional parameter);
    // a special parameter is a single char.
    let name = '';
    for (;;) {
      const ch = this.s.peek();
      if (ch === EOF) break;
      if (name.length === 0 && isDigit(ch)) {
        for (;;) {
          const d = this.s.peek();
          if (d === EOF || !isDigit(d)) break;
          name += this.s.next();
        }
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) {
        this.s.next();
        return ch;
      }
      if (!isAlphaNumeric(ch)) break;
      name += this.s.next();
    }
    return name;
  }

  private processDollar(): string {
    this.s.next(); // $
    if (this.s.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const [value, found] = this.getEnv(name);
      if (!found && this.lex.skipUnsetEnv) return '$' + name;
      return value;
    }
    this.s.next(); // {
    const first = this.s.peek();
    if (first === EOF) throw new ShellLexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellLexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.s.next();
    let chs = ch === EOF ? '' : ch;
    if (ch === '}') {
      const [value, set] = this.getEnv(name);
      if (!set && this.lex.skipUnsetEnv) return `\${${name}}`;
      return value;
    }
    if (ch === '/') {
      const replaceAll = this.s.peek() === '/';
      if (replaceAll) this.s.next();
      const pattern = this.stopOrMissing('/', true, "syntax error: missing '/' in ${}");
      const replacement = this.stopOrMissing('}', true);
      const [value, set] = this.getEnv(name);
      if (this.lex.skipUnsetEnv && !set) return `\${${name}/${pattern}/${replacement}}`;
      const re = shellPatternToRegex(pattern, true, false, replaceAll);
      if (replaceAll) return value.replace(re, () => replacement);
      const m = re.exec(value);
      if (!m) return value;
      return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
    }
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.s.next();
      chs += ch === EOF ? '' : ch;
    } else if (!(ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%')) {
      throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
    const rawEscapes = ch === '#' || ch === '%';
    if (nullIsUnset && rawEscapes) throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    let word = this.stopOrMissing('}', rawEscapes);
    const [value, set] = this.getEnv(name);
    if (this.lex.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
    switch (ch) {
      case '-':
        return !set || (nullIsUnset && value === '') ? word : value;
      case '+':
        return !set || (nullIsUnset && value === '') ? '' : word;
      case '?':
        if (!set) throw new ShellLexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new ShellLexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        // # and % take the shortest match, ## and %% the longest.
        let greedy = false;
        if (word.startsWith(ch)) {
          greedy = true;
          word = word.slice(1);
        }
        return ch === '%' ? trimSuffix(word, value, greedy) : trimPrefix(word, value, greedy);
      }
      default:
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private stopOrMissing(stop: string, rawEscapes: boolean, missing = "syntax error: missing '}'"): string {
    try {
      return this.processStopOn(stop, rawEscapes)[0];
    } catch (e) {
      if (e instanceof ShellLexError && this.s.peek() === EOF) throw new ShellLexError(missing);
      throw e;
    }
  }
}
