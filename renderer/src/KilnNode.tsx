// One custom node: coloured by kind family, titled verb+object, with a status badge.
import { memo, useEffect, useState } from 'react';
import { Handle, useStore, type NodeProps, type Node } from '@xyflow/react';
import type { GraphNode } from '../../engine/frontend/graph/document.js';
import { inputPorts, outputPorts } from '../../engine/frontend/graph/ports.js';
import { useEditor } from './store.js';
import { nodeTitle, kindFamily } from './titles.js';
import { TransferLine } from './Transfer.js';
import { along as alongFrac, portSides } from './nodeGeometry.js';

/** vertical: inside a stage, whose instructions read top to bottom — inputs on top, outputs below */
export type KilnNodeData = { node: GraphNode; issues: string[]; affected: boolean; vertical?: boolean };
export type KilnFlowNode = Node<KilnNodeData, 'kiln'>;

function elapsed(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function Badge({ id }: { id: string }) {
  const st = useEditor((s) => s.status[id]);
  const [, tick] = useState(0);
  useEffect(() => {
    if (st?.state !== 'running') return;
    const t = setInterval(() => tick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, [st?.state]);
  if (!st) return null;
  const text =
    st.state === 'running' ? `running ${st.started ? elapsed(Date.now() - st.started) : ''}${st.total ? ` ${Math.round(((st.current ?? 0) / st.total) * 100)}%` : ''}`
    : st.state === 'done' ? `done ${st.started && st.completed ? elapsed(st.completed - st.started) : ''}`
    : st.state === 'cached' ? '✓ cached'
    : st.state === 'failed' ? `failed${st.exitCode !== undefined ? ` (exit ${st.exitCode})` : ''}`
    : st.state === 'canceled' ? 'canceled'
    : 'queued';
  return <span className={`badge badge-${st.state}`} data-testid="status">{text}</span>;
}

/**
 * Below this zoom a node is drawn as a box in its family's colour with its status, and nothing
 * else: its text could not be read (the canvas shows a 49-stage Dockerfile whole at about 0.07),
 * and the text, ports and their subscriptions were most of what an open of such a file rendered.
 */
export const TINY_ZOOM = 0.25;

export const KilnNode = memo(function KilnNode(props: NodeProps<KilnFlowNode>) {
  const tiny = useStore((s) => s.transform[2] < TINY_ZOOM);
  return tiny ? <TinyNode {...props} /> : <FullNode {...props} />;
});

/**
 * The far view. Its ports are plain elements with the classes and data React Flow reads when it
 * measures a node, so edges stay attached if the node is measured at this zoom (a connection
 * cannot be started from a 2-pixel port anyway). They are written as markup rather than as React
 * elements: a BuildKit-sized file has a thousand of them, and as elements they were a third of
 * what its first render reconciled.
 */
function TinyNode({ data, selected }: NodeProps<KilnFlowNode>) {
  const { node, issues, affected, vertical } = data;
  const state = useEditor((s) => s.status[node.id]?.state);
  return (
    <div
      className={`knode tiny fam-${kindFamily(node.kind)} ${selected ? 'sel' : ''} ${state ? `st-${state}` : ''} ${issues.length ? 'invalid' : ''} ${affected ? 'affected' : ''}`}
      data-kind={node.kind}
      data-nodeid={node.id}
      title={nodeTitle(node)}
    >
      <div className="kports" dangerouslySetInnerHTML={{ __html: portMarkup(node, vertical) }} />
      {state && <Badge id={node.id} />}
    </div>
  );
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function portMarkup(node: GraphNode, vertical: boolean | undefined): string {
  const [inPos, outPos] = portSides(vertical);
  const side = (type: 'source' | 'target', pos: string, ports: { name: string; type: string }[]) =>
    ports.map((p, i) => `<div class="react-flow__handle react-flow__handle-${pos} ${type} port port-${esc(p.type)}" data-handleid="${esc(p.name)}" data-handlepos="${pos}" data-nodeid="${esc(node.id)}" style="${vertical ? 'left' : 'top'}:${alongFrac(i, ports.length) * 100}%"></div>`).join('');
  return side('target', inPos, inputPorts(node)) + side('source', outPos, outputPorts(node));
}

function FullNode({ data, selected }: NodeProps<KilnFlowNode>) {
  const { node, issues, affected, vertical } = data;
  const [inPos, outPos] = portSides(vertical);
  const along = (i: number, n: number) => (vertical ? { left: `${alongFrac(i, n) * 100}%` } : { top: `${alongFrac(i, n) * 100}%` });
  const state = useEditor((s) => s.status[node.id]?.state);
  const error = useEditor((s) => s.status[node.id]?.error);
  const warnings = useEditor((s) => s.warnings[node.id]);
  // a failed step shows the end of its output: what it printed last is usually why it failed
  const tail = useEditor((s) => (s.status[node.id]?.state === 'failed' ? s.logs[node.id]?.slice(-3).join('\n') : undefined));
  const ins = inputPorts(node);
  const outs = outputPorts(node);
  const family = kindFamily(node.kind);
  return (
    <div
      className={`knode fam-${family} ${selected ? 'sel' : ''} ${state ? `st-${state}` : ''} ${issues.length ? 'invalid' : ''} ${affected ? 'affected' : ''}`}
      data-kind={node.kind}
      data-nodeid={node.id}
      title={issues.join('\n') || error || ''}
    >
      {ins.map((p, i) => (
        <Handle key={p.name} id={p.name} type="target" position={inPos} className={`port port-${p.type}`} style={along(i, ins.length)} title={`${p.name} (${p.type})`} />
      ))}
      <div className="kkind">{node.kind}{node.location ? <span> · L{node.location.startLine}</span> : null}</div>
      <div className="ktitle mono">{nodeTitle(node)}</div>
      <Badge id={node.id} />
      <TransferLine id={node.id} />
      {issues.length > 0 && <div className="kissue">⚠ {issues[0]}</div>}
      {warnings && <div className="kwarn" data-testid="warning" title={warnings.join('\n')}>⚠ {warnings[0]}</div>}
      {state === 'failed' && error && <div className="kissue kerror">{error.split('\n')[0]}</div>}
      {tail && <pre className="ktail mono" data-testid="log-tail">{tail}</pre>}
      {outs.map((p, i) => (
        <Handle key={p.name} id={p.name} type="source" position={outPos} className={`port port-${p.type}`} style={along(i, outs.length)} title={`${p.name} (${p.type})`} />
      ))}
    </div>
  );
}
