// The Cache panel (toolbar "Cache", Build ▸ Disk usage / Prune in Electron): the build cache's
// size attributed to the open graph's nodes, and a prune that says what it reclaimed.
import { useCallback, useEffect, useState } from 'react';
import type { DuResponse } from '../../engine/control/api.js';
import { getApi } from './api/index.js';
import { useEditor } from './store.js';
import { humanSize, usageByNode } from './cacheUsage.js';
import { nodeTitle } from './titles.js';

export function CachePanel({ onClose, pruneNow }: { onClose: () => void; /** the menu's Prune: ask right away */ pruneNow?: number }) {
  const [du, setDu] = useState<DuResponse | { error: string } | undefined>();
  const [pruned, setPruned] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const nodes = useEditor((s) => s.doc.nodes);
  const refresh = useCallback(() => getApi().du().then(setDu, (e: Error) => setDu({ error: e.message })), []);
  useEffect(() => void refresh(), [refresh]);
  const prune = useCallback(async () => {
    if (!window.confirm('Remove every build cache record? The next build runs every step again.')) return;
    setBusy(true);
    try {
      const r = await getApi().prune({});
      setPruned(`Reclaimed ${humanSize(r.reclaimed)} (${r.removed.length} record${r.removed.length === 1 ? '' : 's'})`);
    } catch (e) {
      setPruned(`Prune failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
      void refresh();
    }
  }, [refresh]);
  useEffect(() => {
    if (pruneNow) void prune();
  }, [pruneNow, prune]);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rows = du && 'records' in du ? usageByNode(du.records, byId.keys()) : [];
  return (
    <aside className="history cache" role="dialog" aria-label="Build cache">
      <div className="history-head">
        <h3>Build cache</h3>
        <button onClick={onClose}>Close</button>
      </div>
      {!du && <p className="muted">Loading…</p>}
      {du && 'error' in du && <p className="issues" role="alert">{du.error}</p>}
      {du && 'records' in du && (
        <>
          <div data-testid="cache-total">Total <strong>{humanSize(du.total)}</strong> in {du.records.length} records</div>
          {du.imageCopies?.count ? (
            <div className="muted" data-testid="cache-image-copies" title="Engine images unpacked for steps to stand on. Not cache records: each goes when its image leaves the engine (docker rmi, then prune).">
              Image copies {humanSize(du.imageCopies.size)} ({du.imageCopies.count} {du.imageCopies.count === 1 ? 'image' : 'images'}, kept while in the engine)
            </div>
          ) : null}
          <table className="compare" data-testid="cache-table">
            <thead><tr><th>node</th><th>size</th><th>records</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.nodeId ?? '\0other'} data-testid="cache-row" data-nodeid={r.nodeId ?? ''} data-size={r.size} onClick={() => r.nodeId && useEditor.getState().select([r.nodeId])}>
                  <td className="mono" title={r.nodeId}>{r.nodeId ? nodeTitle(byId.get(r.nodeId)!) : 'other'}</td>
                  <td>{humanSize(r.size)}</td>
                  <td>{r.records}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <div className="row">
        <button onClick={() => void prune()} disabled={busy}>Prune…</button>
        <button onClick={() => void refresh()} disabled={busy}>Refresh</button>
      </div>
      {pruned && <p data-testid="cache-pruned">{pruned}</p>}
    </aside>
  );
}
