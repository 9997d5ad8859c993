// Where a node's ports sit, computed rather than measured. React Flow draws an edge only once it
// knows both ends' handle boxes; left to itself it renders every node hidden, measures each one in
// the DOM and renders again — on a 49-stage Dockerfile that second pass (and the one after every
// re-created node object) cost as much as the first. Handing it each node's size and handle boxes
// lets the first render draw the edges. The numbers mirror styles.css (.knode, .port) and React
// Flow's handle CSS (centred on the padding box's edge); the e2e suite checks that every edge ends
// on its handle as drawn.
import { Position, type NodeHandle } from '@xyflow/react';
import type { GraphNode } from '../../engine/frontend/graph/document.js';
import { inputPorts, outputPorts } from '../../engine/frontend/graph/ports.js';
import { NODE_W, NODE_H } from './layout.js';

/** .knode borders: a 6 px family stripe on the left, 1 px elsewhere */
const BORDER = { left: 6, right: 1, top: 1, bottom: 1 };
/** .port: 10 × 10, border-box */
const PORT = 10;

export interface NodeSize { width: number; height: number }

/** a port's offset along its side, as a fraction: ports spread evenly */
export const along = (i: number, n: number): number => (i + 1) / (n + 1);

/** inputs on top and outputs below inside a stage (read top to bottom), else left and right */
export function portSides(vertical: boolean | undefined): [Position, Position] {
  return vertical ? [Position.Top, Position.Bottom] : [Position.Left, Position.Right];
}

/** the handle boxes React Flow would measure for this node at this size, relative to its top-left */
export function nodeHandles(node: Pick<GraphNode, 'kind' | 'params'>, vertical: boolean | undefined, size: NodeSize = { width: NODE_W, height: NODE_H }): NodeHandle[] {
  const innerW = size.width - BORDER.left - BORDER.right;
  const innerH = size.height - BORDER.top - BORDER.bottom;
  const box = (type: 'source' | 'target', id: string, cx: number, cy: number, position: Position): NodeHandle => ({ id, type, position, x: cx - PORT / 2, y: cy - PORT / 2, width: PORT, height: PORT });
  const [inPos, outPos] = portSides(vertical);
  const side = (type: 'source' | 'target', names: string[], pos: Position) =>
    names.map((id, i) => {
      const f = along(i, names.length);
      if (pos === Position.Top) return box(type, id, BORDER.left + innerW * f, BORDER.top, pos);
      if (pos === Position.Bottom) return box(type, id, BORDER.left + innerW * f, size.height - BORDER.bottom, pos);
      if (pos === Position.Left) return box(type, id, BORDER.left, BORDER.top + innerH * f, pos);
      return box(type, id, size.width - BORDER.right, BORDER.top + innerH * f, pos);
    });
  return [...side('target', inputPorts(node).map((p) => p.name), inPos), ...side('source', outputPorts(node).map((p) => p.name), outPos)];
}
