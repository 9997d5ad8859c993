// "Open project…": a docker-bake.hcl/json or compose file on the service's machine. The browser
// cannot hand the service a path from its file picker, so the path is typed (Electron passes the
// native dialog's path through the same call).
import { useState } from 'react';
import { getApi } from './api/index.js';
import { useEditor } from './store.js';
import { projectToGraph } from './project.js';
import { rememberRecent } from './recent.js';

export async function openProject(path: string): Promise<void> {
  const st = useEditor.getState();
  try {
    const p = await getApi().project({ path });
    const base = p.file.split(/[\\/]/).pop() ?? p.file;
    st.loadProject(projectToGraph(p, base), p.file, p.dir);
    rememberRecent({ kind: 'project', path: p.file });
  } catch (e) {
    st.setNotice(`Cannot open project ${path}: ${(e as Error).message}`);
  }
}

export function OpenProjectDialog({ onClose }: { onClose: () => void }) {
  const [path, setPath] = useState('');
  const go = () => {
    if (!path.trim()) return;
    onClose();
    void openProject(path.trim());
  };
  return (
    <div className="modal" role="dialog" aria-label="Open project">
      <h3>Open project</h3>
      <p className="muted">A docker-bake.hcl, docker-bake.json or compose file: each target opens as a frame, and Run builds them all as one job.</p>
      <label className="field">
        <span>path on the server</span>
        <input name="project-path" className="mono" value={path} autoFocus placeholder="/path/to/docker-bake.hcl" onChange={(e) => setPath(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && go()} />
      </label>
      <div className="row">
        <button className="primary" onClick={go}>Open</button>
        <button onClick={onClose}>Cancel</button>
      </div>
    </div>
  );
}
