// An export's progress, on the exported node and in the export dialog: for a registry push the
// bytes pushed of the image's total ("1.2 MB / 3.4 MB", from the engine's `pushing <name>` status
// events), then the result. Each view subscribes to its one node's transfer only.
import { memo } from 'react';
import { useEditor, type Transfer } from './store.js';

/** Decimal units, as docker prints transfer sizes. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) v /= 1000, i++;
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

function summary(t: Transfer): string {
  const p = t.pushed;
  const bytes = p ? `${formatBytes(p.current)} / ${formatBytes(p.total)}` : '';
  if (t.state === 'failed') return `export failed${t.error ? `: ${t.error.split('\n')[0]}` : ''}`;
  if (t.state === 'done') return p ? `pushed ${formatBytes(p.total)}` : 'exported';
  return p ? `pushing ${bytes}` : `${t.name}…`;
}

/** the line on a node: ↑ bytes while pushing, ✓ when done */
export const TransferLine = memo(function TransferLine({ id }: { id: string }) {
  const t = useEditor((s) => s.transfers[id]);
  if (!t) return null;
  const p = t.pushed;
  return (
    <div className={`ktransfer ktransfer-${t.state}`} data-testid="transfer" data-state={t.state} {...(p ? { 'data-current': p.current, 'data-total': p.total } : {})} title={t.name}>
      <span>{t.state === 'done' ? '✓' : t.state === 'failed' ? '✗' : '↑'} {summary(t)}</span>
      {p && t.state === 'running' && <progress value={p.current} max={p.total || 1} />}
    </div>
  );
});

/** the export dialog's view of the same transfer, with the exporter's result */
export function TransferPanel({ id }: { id: string }) {
  const t = useEditor((s) => s.transfers[id]);
  const running = useEditor((s) => s.running);
  if (!t) return <p className="muted" data-testid="export-progress" data-state="building">{running ? 'Building the node’s result…' : 'Waiting…'}</p>;
  const p = t.pushed;
  const digest = t.result?.['containerimage.digest'];
  return (
    <div className="export-progress" data-testid="export-progress" data-state={t.state} {...(p ? { 'data-current': p.current, 'data-total': p.total } : {})}>
      <div className="mono">{t.name}</div>
      {p && (
        <>
          <progress value={p.current} max={p.total || 1} />
          <div data-testid="export-bytes">{formatBytes(p.current)} / {formatBytes(p.total)}</div>
        </>
      )}
      {t.state === 'running' && !p && <div className="muted">working…</div>}
      {t.state === 'failed' && <div className="kissue kerror" data-testid="export-error">{t.error}</div>}
      {t.state === 'done' && (
        <div data-testid="export-result">
          {p ? `Pushed ${p.name}` : `Exported${t.result?.dest ? ` to ${t.result.dest}` : t.result?.['image.name'] ? ` ${t.result['image.name']}` : ''}`}
          {p ? ` — ${formatBytes(p.total)}` : ''}
          {digest && <div className="mono" data-testid="export-digest">{digest}</div>}
        </div>
      )}
    </div>
  );
}
