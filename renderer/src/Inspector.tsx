// Parameters of the selected node, edited as JSON-ish fields and validated live.
import { useState, useEffect } from 'react';
import { paramSchemas } from '../../engine/frontend/graph/document.js';
import { useEditor } from './store.js';
import { nodeTitle } from './titles.js';
import { CONFIG_KEYS, ImageConfigEditor } from './ImageConfig.js';
import { IMAGE_EXPORTERS } from './exportConfig.js';
import { RegistryPasswordField } from './RegistryLogin.js';

export function Inspector({ issues, onExport }: { issues: Record<string, { message: string }[]>; onExport: (id: string) => void }) {
  const selected = useEditor((s) => s.selected);
  const node = useEditor((s) => (s.selected.length === 1 ? s.doc.nodes.find((n) => n.id === s.selected[0]) : undefined));
  const updateParams = useEditor((s) => s.updateParams);
  if (!node) return <aside className="inspector"><h3>Inspector</h3><p className="muted">{selected.length ? `${selected.length} nodes selected` : 'Select a node to edit it.'}</p></aside>;
  const shape = (paramSchemas[node.kind] as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  // a config node's image fields, and an image exporter's config, get the typed config editor
  // (not a config node that keeps a Dockerfile instruction verbatim, e.g. ARG or HEALTHCHECK)
  const withConfig = node.kind === 'config' ? node.params.instruction === undefined : IMAGE_EXPORTERS.includes(node.kind);
  const keys = Object.keys(shape).filter((k) => !(withConfig && node.kind === 'config' && (CONFIG_KEYS as readonly string[]).includes(k)));
  const mine = issues[node.id] ?? [];
  return (
    <aside className="inspector">
      <h3 className="mono">{nodeTitle(node)}</h3>
      <div className="muted">{node.kind} · {node.id}</div>
      {keys.map((k) => (
        <Field key={`${node.id}-${k}`} name={k} value={node.params[k]} onChange={(v) => {
          const params = { ...node.params };
          if (v === undefined) delete params[k];
          else params[k] = v;
          updateParams(node.id, params);
        }} />
      ))}
      {node.kind === 'export-registry' && <RegistryPasswordField key={node.id} imageName={String(node.params.name ?? '')} username={String(node.params.username ?? '')} />}
      {withConfig && <ImageConfigEditor node={node} />}
      {mine.length > 0 && <ul className="issues">{mine.map((i, j) => <li key={j}>{i.message}</li>)}</ul>}
      {!node.kind.startsWith('export') && <button onClick={() => onExport(node.id)}>Export this node…</button>}
    </aside>
  );
}

function Field({ name, value, onChange }: { name: string; value: unknown; onChange: (v: unknown) => void }) {
  const isText = typeof value === 'string' || value === undefined;
  const [text, setText] = useState(isText ? String(value ?? '') : JSON.stringify(value));
  const [bad, setBad] = useState(false);
  useEffect(() => setText(isText ? String(value ?? '') : JSON.stringify(value)), [value, isText]);
  return (
    <label className="field">
      <span>{name}</span>
      <input
        className={`mono ${bad ? 'bad' : ''}`}
        name={name}
        value={text}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t === '') return setBad(false), onChange(undefined);
          // structured values (arrays, objects, booleans, numbers) are typed as JSON
          if (/^[[{]|^(true|false)$|^-?\d+$/.test(t.trim()) && !['command', 'ref', 'path', 'dest', 'src', 'name', 'chmod', 'mode', 'data'].includes(name)) {
            try {
              onChange(JSON.parse(t));
              setBad(false);
            } catch {
              setBad(true);
            }
          } else onChange(t), setBad(false);
        }}
      />
    </label>
  );
}
