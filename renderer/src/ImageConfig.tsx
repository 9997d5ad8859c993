// The image config of an export, edited as the fields an image has (Cmd, Entrypoint, Env,
// WorkingDir, User, Labels, ExposedPorts). On a config node it edits that node; on an exporter it
// edits the config node feeding the exporter, and inserts one in front of it on the first edit
// (store.setExportConfig), so a drawn graph exports an image with the config it was given.
import { useEffect, useState } from 'react';
import type { GraphNode } from '../../engine/frontend/graph/document.js';
import { useEditor } from './store.js';
import { configNodeOf } from './exportConfig.js';

/** the config node params this editor owns; any other (a Dockerfile's `instruction`) stays as it is */
export const CONFIG_KEYS = ['cmd', 'entrypoint', 'env', 'workdir', 'user', 'labels', 'ports'] as const;
export type ConfigParams = { cmd?: string[]; entrypoint?: string[]; env?: Record<string, string>; labels?: Record<string, string>; ports?: string[]; user?: string; workdir?: string };
type Key = keyof ConfigParams;

/** argv: a JSON array (exec form), or words split on blanks */
function parseArgv(t: string): string[] | undefined | Error {
  const s = t.trim();
  if (!s) return undefined;
  if (s.startsWith('[')) {
    try {
      const v = JSON.parse(s) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch { /* reported below */ }
    return new Error('a JSON array of strings, e.g. ["nginx", "-g", "daemon off;"]');
  }
  return s.split(/\s+/);
}
const showArgv = (v: string[] | undefined) => (v ? (v.some((x) => /\s|^$/.test(x)) ? JSON.stringify(v) : v.join(' ')) : '');

/** KEY=VALUE, one a line */
function parsePairs(t: string): Record<string, string> | undefined | Error {
  const out: Record<string, string> = {};
  for (const line of t.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i <= 0) return new Error(`"${line}" is not KEY=VALUE`);
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return Object.keys(out).length ? out : undefined;
}
const showPairs = (v: Record<string, string> | undefined) => (v ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join('\n') : '');

function parsePorts(t: string): string[] | undefined | Error {
  const ps = t.split(/[\s,]+/).filter(Boolean);
  const bad = ps.find((p) => !/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(p));
  if (bad) return new Error(`"${bad}" is not a port like 8080 or 53/udp`);
  return ps.length ? ps : undefined;
}

const FIELDS: { key: Key; label: string; hint: string; multiline?: boolean; parse: (t: string) => unknown; show: (v: never) => string }[] = [
  { key: 'cmd', label: 'Cmd', hint: 'words, or a JSON array', parse: parseArgv, show: showArgv },
  { key: 'entrypoint', label: 'Entrypoint', hint: 'words, or a JSON array', parse: parseArgv, show: showArgv },
  { key: 'env', label: 'Env', hint: 'KEY=VALUE, one a line', multiline: true, parse: parsePairs, show: showPairs },
  { key: 'workdir', label: 'WorkingDir', hint: '/app', parse: (t) => t.trim() || undefined, show: (v: string | undefined) => v ?? '' },
  { key: 'user', label: 'User', hint: 'uid[:gid] or name', parse: (t) => t.trim() || undefined, show: (v: string | undefined) => v ?? '' },
  { key: 'labels', label: 'Labels', hint: 'KEY=VALUE, one a line', multiline: true, parse: parsePairs, show: showPairs },
  { key: 'ports', label: 'ExposedPorts', hint: '8080 53/udp', parse: parsePorts, show: (v: string[] | undefined) => (v ?? []).join(' ') },
];

function ConfigField({ f, value, onChange }: { f: (typeof FIELDS)[number]; value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(() => f.show(value as never));
  const [error, setError] = useState<string | undefined>();
  // follow changes made elsewhere (undo, another view) without reformatting what is being typed:
  // runs on a new value only, so the text being typed (which produced that value) is left alone
  useEffect(() => {
    const mine = f.parse(text);
    if (mine instanceof Error || JSON.stringify(mine) !== JSON.stringify(value)) setText(f.show(value as never)), setError(undefined);
  }, [value]);
  const change = (t: string) => {
    setText(t);
    const v = f.parse(t);
    if (v instanceof Error) return setError(v.message);
    setError(undefined);
    onChange(v);
  };
  const props = { name: `config-${f.key}`, className: `mono ${error ? 'bad' : ''}`, value: text, placeholder: f.hint, 'aria-label': f.label };
  return (
    <label className="field">
      <span>{f.label}</span>
      {f.multiline ? <textarea rows={2} {...props} onChange={(e) => change(e.target.value)} /> : <input {...props} onChange={(e) => change(e.target.value)} />}
      {error && <em className="field-error">{error}</em>}
    </label>
  );
}

/** the config section of the inspector, for a config node or an exporter node */
export function ImageConfigEditor({ node }: { node: GraphNode }) {
  const cfg = useEditor((s) => (node.kind === 'config' ? node : configNodeOf(s.doc, node.id)));
  const hasInput = useEditor((s) => node.kind === 'config' || s.doc.edges.some((e) => e.target === node.id && e.targetPort === 'in'));
  const params = (cfg?.params ?? {}) as ConfigParams & Record<string, unknown>;
  const set = (key: Key, v: unknown) => {
    const next: Record<string, unknown> = { ...params };
    if (v === undefined) delete next[key];
    else next[key] = v;
    if (node.kind === 'config') useEditor.getState().updateParams(node.id, next);
    else useEditor.getState().setExportConfig(node.id, next);
  };
  return (
    <section className="imgconfig" data-testid="image-config">
      <h4>Image config</h4>
      {node.kind !== 'config' && (
        <p className="muted">{cfg ? <>from node <span className="mono">{cfg.id}</span></> : hasInput ? 'Editing adds an image config node in front of this export.' : 'Connect this export’s input first.'}</p>
      )}
      {/* keyed by the inspected node, not the config node: the first edit inserts a config node, and
          the field being typed in must keep its focus and text across that */}
      {hasInput && FIELDS.map((f) => <ConfigField key={`${node.id}-${f.key}`} f={f} value={params[f.key]} onChange={(v) => set(f.key, v)} />)}
    </section>
  );
}
