// Build history: pick a past build to see its per-node timings and cached marks on the graph, or
// tick two to compare them node by node.
import { useEffect, useState } from 'react';
import type { HistoryEntry } from '../../engine/control/api.js';
import { getApi } from './api/index.js';
import { useEditor } from './store.js';
import { compareRuns, fmtMs, statusFromHistory, type NodeTiming } from './history.js';
import { nodeTitle } from './titles.js';

const when = (t: number) => new Date(t).toLocaleTimeString();
const cell = (t?: NodeTiming) => (t ? (t.state === 'cached' ? 'cached' : `${t.state}${t.ms !== undefined ? ` ${fmtMs(t.ms)}` : ''}`) : '—');

export function HistoryPanel({ onClose }: { onClose: () => void }) {
  const [list, setList] = useState<HistoryEntry[] | undefined>();
  const [picked, setPicked] = useState<string[]>([]);
  const [rows, setRows] = useState<{ a: HistoryEntry; b: HistoryEntry } | undefined>();
  const replay = useEditor((s) => s.replay);
  const nodes = useEditor((s) => s.doc.nodes);
  useEffect(() => {
    getApi().historyList().then(setList, (e: Error) => useEditor.getState().setNotice(e.message));
  }, []);
  const show = async (id: string) => {
    const e = await getApi().historyGet(id);
    if (e) useEditor.getState().showBuild({ id: e.id, name: e.name, createdAt: e.createdAt }, statusFromHistory(e));
  };
  const compare = async () => {
    const [x, y] = await Promise.all(picked.map((id) => getApi().historyGet(id)));
    // older run on the left
    if (x && y) setRows(x.createdAt <= y.createdAt ? { a: x, b: y } : { a: y, b: x });
  };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return (
    <aside className="history" role="dialog" aria-label="Build history">
      <div className="history-head">
        <h3>Build history</h3>
        <button onClick={() => (useEditor.getState().clearReplay(), onClose())}>Close</button>
      </div>
      {!list && <p className="muted">Loading…</p>}
      {list?.length === 0 && <p className="muted">No builds yet. Run the graph and it appears here.</p>}
      <ul className="history-list">
        {list?.map((h) => (
          <li key={h.id} data-testid="history-item" data-id={h.id} className={`${replay?.id === h.id ? 'on' : ''} hs-${h.status}`}>
            <input type="checkbox" aria-label={`compare ${h.id}`} checked={picked.includes(h.id)} onChange={(e) => setPicked((p) => (e.target.checked ? [...p, h.id].slice(-2) : p.filter((x) => x !== h.id)))} />
            <button className="history-row" onClick={() => void show(h.id)} title={h.id}>
              <span className={`hstatus hstatus-${h.status}`}>{h.status}</span>
              <span className="mono">{h.name}</span>
              <span className="muted">{when(h.createdAt)}{h.completedAt ? ` · ${fmtMs(h.completedAt - h.createdAt)}` : ''}</span>
            </button>
          </li>
        ))}
      </ul>
      <button disabled={picked.length !== 2} onClick={() => void compare()}>Compare the two ticked runs</button>
      {rows && (
        <table className="compare" data-testid="compare">
          <thead><tr><th>node</th><th>{when(rows.a.createdAt)}</th><th>{when(rows.b.createdAt)}</th><th>Δ</th></tr></thead>
          <tbody>
            {compareRuns(rows.a, rows.b, nodes.map((n) => n.id)).map((r) => (
              <tr key={r.nodeId} data-nodeid={r.nodeId} className={r.a?.state !== r.b?.state ? 'differs' : ''}>
                <td className="mono" title={r.nodeId}>{byId.get(r.nodeId) ? nodeTitle(byId.get(r.nodeId)!) : r.nodeId}</td>
                <td data-testid="run-a">{cell(r.a)}</td>
                <td data-testid="run-b">{cell(r.b)}</td>
                <td className={r.deltaMs !== undefined && r.deltaMs < 0 ? 'faster' : ''}>{r.deltaMs !== undefined ? `${r.deltaMs > 0 ? '+' : ''}${fmtMs(r.deltaMs)}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}
