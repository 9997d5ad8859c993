// The Dockerfile beside the canvas, one clickable row per line. Only the rows in view (and a
// screenful either side) are in the DOM: a BuildKit-sized file is 500 lines, and rendering all of
// them was a tenth of what opening it cost. Rows have a fixed height (styles.css .srcline), so the
// scroll position says which lines are in view without measuring any.
import { useEffect, useRef, useState } from 'react';

/** = .srcline height in styles.css */
export const LINE_H = 16;

export function SourceView({ lines, hl, onPick }: { lines: string[]; hl?: { start: number; end: number }; onPick(line: number): void }) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 400 });
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    // no read here: it would force a layout of the whole page in the middle of a commit; the
    // observer reports the size once layout has run anyway
    const ro = new ResizeObserver(update);
    ro.observe(el);
    el.addEventListener('scroll', update, { passive: true });
    return () => (ro.disconnect(), el.removeEventListener('scroll', update));
  }, []);
  // the selected node's lines are scrolled into view, as little as needed
  useEffect(() => {
    const el = box.current;
    if (!el || !hl) return;
    const top = (hl.start - 1) * LINE_H;
    const bottom = hl.end * LINE_H;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (bottom > el.scrollTop + el.clientHeight) el.scrollTop = Math.min(top, bottom - el.clientHeight);
  }, [hl?.start, hl?.end]);
  const perScreen = Math.ceil(view.height / LINE_H);
  const first = Math.max(0, Math.floor(view.top / LINE_H) - perScreen);
  const last = Math.min(lines.length, Math.ceil((view.top + view.height) / LINE_H) + perScreen);
  const rows = [];
  for (let i = first; i < last; i++) {
    const ln = i + 1;
    const on = !!hl && ln >= hl.start && ln <= hl.end;
    rows.push(
      <div key={ln} className={`srcline ${on ? 'hl' : ''}`} data-line={ln} onClick={() => onPick(ln)}>
        <span className="ln">{ln}</span>{lines[i] || ' '}
      </div>,
    );
  }
  return (
    <div className="source mono" ref={box} data-testid="source" data-lines={lines.length}>
      <div style={{ height: lines.length * LINE_H, position: 'relative' }}>
        <div style={{ position: 'absolute', top: first * LINE_H, left: 0, right: 0 }}>{rows}</div>
      </div>
    </div>
  );
}
