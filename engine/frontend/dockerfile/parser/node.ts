import type { Node } from './ast.js';

/** A bare node with the AST's required fields defaulted. */
export function mkNode(value: string, next?: Node): Node {
  const n: Node = { value, children: [], heredocs: [], attributes: {}, original: '', flags: [], prevComment: [], startLine: 0, endLine: 0 };
  if (next) n.next = next;
  return n;
}

/** The argument values of an instruction (its `next` chain), e.g. for exec-form arrays. */
export function argValues(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n; n = n.next) out.push(n.value);
  return out;
}
