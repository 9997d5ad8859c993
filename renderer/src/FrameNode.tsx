// A group frame: a Dockerfile stage or a bake target drawn around its nodes, titled with its name
// and a live tally of its members' run states. Only the title bar grabs the pointer (it is the
// drag handle), so the canvas inside a frame still pans and box-selects.
import { memo } from 'react';
import type { NodeProps, Node } from '@xyflow/react';
import { useShallow } from 'zustand/react/shallow';
import { useEditor, type RunState } from './store.js';

export type FrameData = { name: string; kind: 'target' | 'stage'; members: string[] };
export type FrameFlowNode = Node<FrameData, 'frame'>;

const ORDER: RunState[] = ['failed', 'running', 'queued', 'done', 'cached'];

export const FrameNode = memo(function FrameNode({ data }: NodeProps<FrameFlowNode>) {
  const states = useEditor(useShallow((s) => data.members.map((id) => s.status[id]?.state).filter((x): x is RunState => !!x)));
  const tally = ORDER.map((st) => [st, states.filter((x) => x === st).length] as const).filter(([, n]) => n > 0);
  return (
    <div className={`kframe kframe-${data.kind}`} data-testid="frame" data-group={data.name}>
      <div className="kframe-title frame-drag">
        <span className="kframe-kind">{data.kind}</span>
        <span className="kframe-name" data-testid="frame-title">{data.name}</span>
        <span className="kframe-tally">{tally.map(([st, n]) => <span key={st} className={`tally tally-${st}`}>{n} {st}</span>)}</span>
      </div>
    </div>
  );
});
