// HCL template expressions in bake files. The HCL parser (hcl2json) hands every expression back
// as a `${…}` string, so bake evaluates them here: variable references, string/number/bool
// literals, lists, function calls from buildx's stdlib subset below, `== != && || !`, `+ -` on
// numbers, `c ? a : b`, user functions (`function` blocks), and `x.key` / `x[i]` on objects and
// lists (a matrix value may be an object). `$${` is a literal `${`. Anything else fails naming the
// expression.

export type Value = string | number | boolean | Value[] | { [key: string]: Value };
export type Lookup = (name: string) => Value;
/** user-defined functions (bake's `function` blocks), by name */
export type Funcs = Record<string, (args: Value[]) => Value>;

export class ExprError extends Error {}

const isObject = (v: Value): v is { [key: string]: Value } => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Value): string => (Array.isArray(v) ? v.map(str).join(',') : isObject(v) ? JSON.stringify(v) : String(v));
const num = (v: Value, e: string): number => {
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isNaN(n)) throw new ExprError(`${e}: ${str(v)} is not a number`);
  return n;
};
const bool = (v: Value): boolean => v === true || v === 'true' || (typeof v === 'number' && v !== 0);

const FUNCS: Record<string, (a: Value[]) => Value> = {
  upper: (a) => str(a[0]!).toUpperCase(),
  lower: (a) => str(a[0]!).toLowerCase(),
  title: (a) => str(a[0]!).replace(/\b\w/g, (c) => c.toUpperCase()),
  trimspace: (a) => str(a[0]!).trim(),
  trimprefix: (a) => (str(a[0]!).startsWith(str(a[1]!)) ? str(a[0]!).slice(str(a[1]!).length) : str(a[0]!)),
  trimsuffix: (a) => (str(a[0]!).endsWith(str(a[1]!)) && str(a[1]!) ? str(a[0]!).slice(0, -str(a[1]!).length) : str(a[0]!)),
  replace: (a) => str(a[0]!).split(str(a[1]!)).join(str(a[2]!)),
  substr: (a) => {
    const s = str(a[0]!);
    const off = Number(a[1]);
    const len = Number(a[2]);
    const start = off < 0 ? s.length + off : off;
    return len < 0 ? s.slice(start) : s.slice(start, start + len);
  },
  join: (a) => (Array.isArray(a[1]) ? a[1] : []).map(str).join(str(a[0]!)),
  split: (a) => str(a[1]!).split(str(a[0]!)),
  concat: (a) => a.flatMap((x) => (Array.isArray(x) ? x : [x])),
  coalesce: (a) => a.find((x) => x !== '' && x !== null) ?? '',
  equal: (a) => str(a[0]!) === str(a[1]!),
  notequal: (a) => str(a[0]!) !== str(a[1]!),
  and: (a) => a.every(bool),
  or: (a) => a.some(bool),
  not: (a) => !bool(a[0]!),
  add: (a) => num(a[0]!, 'add') + num(a[1]!, 'add'),
  subtract: (a) => num(a[0]!, 'subtract') - num(a[1]!, 'subtract'),
  multiply: (a) => num(a[0]!, 'multiply') * num(a[1]!, 'multiply'),
  max: (a) => Math.max(...a.map((x) => num(x, 'max'))),
  min: (a) => Math.min(...a.map((x) => num(x, 'min'))),
  length: (a) => (Array.isArray(a[0]) ? a[0].length : str(a[0]!).length),
  format: (a) => {
    let i = 1;
    return str(a[0]!).replace(/%[sdv%]/g, (m) => (m === '%%' ? '%' : str(a[i++] ?? '')));
  },
};

/** Expands a template string: text with `${expr}` parts. A lone `${expr}` keeps its value's type. */
export function evalTemplate(s: string, lookup: Lookup, funcs: Funcs = {}): Value {
  const whole = /^\$\{([\s\S]*)\}$/.exec(s);
  if (whole && matchingBrace(s, 1) === s.length - 1) return evalExpr(whole[1]!, lookup, funcs);
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      out += '${';
      i += 3;
    } else if (s.startsWith('${', i)) {
      const end = matchingBrace(s, i + 1);
      if (end < 0) throw new ExprError(`unterminated \${ in "${s}"`);
      out += str(evalExpr(s.slice(i + 2, end), lookup, funcs));
      i = end + 1;
    } else out += s[i++];
  }
  return out;
}

/** index of the `}` closing the `{` at `open`, skipping quoted strings */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

type Tok = { k: 'num' | 'str' | 'id' | 'op'; v: string };

function lex(e: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < e.length) {
    const c = e[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"') {
      let j = i + 1;
      let v = '';
      while (j < e.length && e[j] !== '"') {
        if (e[j] === '\\') v += { n: '\n', t: '\t', '"': '"', '\\': '\\' }[e[++j]!] ?? e[j];
        else if (e.startsWith('${', j)) {
          const end = matchingBrace(e, j + 1);
          if (end < 0) throw new ExprError(`unterminated \${ in ${e}`);
          v += e.slice(j, end + 1);
          j = end;
        } else v += e[j];
        j++;
      }
      if (j >= e.length) throw new ExprError(`unterminated string in ${e}`);
      toks.push({ k: 'str', v });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(e.slice(i))!;
      toks.push({ k: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(e.slice(i))!;
      toks.push({ k: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const two = e.slice(i, i + 2);
      if (['==', '!=', '&&', '||', '<=', '>='].includes(two)) {
        toks.push({ k: 'op', v: two });
        i += 2;
      } else if ('()[],?:!+-<>.'.includes(c)) {
        toks.push({ k: 'op', v: c });
        i++;
      } else throw new ExprError(`unexpected "${c}" in \${${e}}`);
    }
  }
  return toks;
}

export function evalExpr(e: string, lookup: Lookup, funcs: Funcs = {}): Value {
  const toks = lex(e);
  let p = 0;
  const where = `\${${e}}`;
  const peek = (v: string) => toks[p]?.k === 'op' && toks[p]!.v === v;
  const expect = (v: string) => {
    if (!peek(v)) throw new ExprError(`${where}: expected "${v}"${toks[p] ? ` at "${toks[p]!.v}"` : ' at the end'}`);
    p++;
  };
  const ternary = (): Value => {
    const c = or();
    if (!peek('?')) return c;
    p++;
    const a = ternary();
    expect(':');
    const b = ternary();
    return bool(c) ? a : b;
  };
  const or = (): Value => {
    let l = and();
    while (peek('||')) {
      p++;
      const r = and();
      l = bool(l) || bool(r);
    }
    return l;
  };
  const and = (): Value => {
    let l = cmp();
    while (peek('&&')) {
      p++;
      const r = cmp();
      l = bool(l) && bool(r);
    }
    return l;
  };
  const cmp = (): Value => {
    let l = sum();
    while (['==', '!=', '<', '>', '<=', '>='].some(peek)) {
      const op = toks[p++]!.v;
      const r = sum();
      if (op === '==') l = str(l) === str(r);
      else if (op === '!=') l = str(l) !== str(r);
      else {
        const [x, y] = [num(l, where), num(r, where)];
        l = op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
      }
    }
    return l;
  };
  const sum = (): Value => {
    let l = unary();
    while (peek('+') || peek('-')) {
      const op = toks[p++]!.v;
      const r = unary();
      l = op === '+' ? num(l, where) + num(r, where) : num(l, where) - num(r, where);
    }
    return l;
  };
  const unary = (): Value => {
    if (peek('!')) {
      p++;
      return !bool(unary());
    }
    if (peek('-')) {
      p++;
      return -num(unary(), where);
    }
    return primary();
  };
  const primary = (): Value => {
    const t = toks[p++];
    if (!t) throw new ExprError(`${where}: unexpected end`);
    if (t.k === 'num') return Number(t.v);
    if (t.k === 'str') return evalTemplate(t.v, lookup, funcs);
    if (t.k === 'op' && t.v === '(') {
      const v = ternary();
      expect(')');
      return v;
    }
    if (t.k === 'op' && t.v === '[') {
      const items: Value[] = [];
      while (!peek(']')) {
        items.push(ternary());
        if (!peek(']')) expect(',');
      }
      p++;
      return items;
    }
    if (t.k === 'id') {
      if (t.v === 'true' || t.v === 'false') return t.v === 'true';
      if (peek('(')) {
        p++;
        const args: Value[] = [];
        while (!peek(')')) {
          args.push(ternary());
          if (!peek(')')) expect(',');
        }
        p++;
        const f = Object.hasOwn(funcs, t.v) ? funcs[t.v] : FUNCS[t.v];
        if (!f) throw new ExprError(`${where}: unknown function ${t.v} (known: ${[...Object.keys(funcs), ...Object.keys(FUNCS)].join(', ')})`);
        return f(args);
      }
      return access(lookup(t.v), t.v);
    }
    throw new ExprError(`${where}: unexpected "${t.v}"`);
  };
  // `x.key` on an object, `x[i]` on a list (or `x["key"]` on an object)
  const access = (v: Value, path: string): Value => {
    for (;;) {
      if (peek('.')) {
        p++;
        const k = toks[p++];
        if (k?.k !== 'id') throw new ExprError(`${where}: expected an attribute name after "${path}."`);
        if (!isObject(v) || !Object.hasOwn(v, k.v)) throw new ExprError(`${where}: ${path} has no attribute "${k.v}"${isObject(v) ? ` (it has ${Object.keys(v).join(', ') || 'none'})` : ''}`);
        v = v[k.v]!;
        path += `.${k.v}`;
      } else if (peek('[')) {
        p++;
        const i = ternary();
        expect(']');
        if (Array.isArray(v)) {
          const n = num(i, where);
          if (!Number.isInteger(n) || n < 0 || n >= v.length) throw new ExprError(`${where}: index ${n} is out of range for ${path} (length ${v.length})`);
          v = v[n]!;
        } else if (isObject(v) && Object.hasOwn(v, str(i))) v = v[str(i)]!;
        else throw new ExprError(`${where}: ${path} has no element ${str(i)}`);
        path += `[${str(i)}]`;
      } else return v;
    }
  };
  const v = ternary();
  if (p < toks.length) throw new ExprError(`${where}: unexpected "${toks[p]!.v}"`);
  return v;
}
