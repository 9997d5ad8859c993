// "Export this node…": pick a type and a destination, then the dialog stays open and follows the
// export — the build of the node's result, bytes pushed for a registry, and the result (digest,
// destination) — until it is closed.
import { useEffect, useState } from 'react';
import { outputFor, runGraph, cancelRun } from './run.js';
import { rememberLogin } from './credentials.js';
import { LoginNote, useRememberedLogin } from './RegistryLogin.js';
import { useEditor } from './store.js';
import { TransferPanel } from './Transfer.js';

type Kind = 'export-oci' | 'export-docker-tar' | 'export-rootfs' | 'export-docker' | 'export-registry';

export function ExportDialog({ nodeId, onClose }: { nodeId: string; onClose: () => void }) {
  const [kind, setKind] = useState<Kind>('export-oci');
  const [dest, setDest] = useState('/tmp/kiln-export.tar');
  const [name, setName] = useState('127.0.0.1:5000/kiln/export:latest');
  const [user, setUser] = useState('');
  const [pass, setPass] = useState('');
  const [started, setStarted] = useState(false);
  const running = useEditor((s) => s.running);
  const needsDest = kind === 'export-oci' || kind === 'export-docker-tar' || kind === 'export-rootfs';
  // a login remembered for this registry fills the fields (the user can still change them)
  const { host, login, reload } = useRememberedLogin(kind === 'export-registry' ? name : '');
  useEffect(() => {
    if (login) (setUser(login.username), setPass(login.password));
  }, [login]);
  return (
    <div className="modal" role="dialog" aria-label="Export">
      <h3>Export {nodeId}</h3>
      <fieldset disabled={started} className="plain">
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} aria-label="Export type">
          <option value="export-oci">OCI tar</option>
          <option value="export-docker-tar">Docker tar</option>
          <option value="export-rootfs">Rootfs tar</option>
          <option value="export-docker">Docker Engine image</option>
          <option value="export-registry">Registry push</option>
        </select>
        {needsDest ? <label className="field"><span>path on the server</span><input name="dest" value={dest} onChange={(e) => setDest(e.target.value)} /></label> : <label className="field"><span>image name</span><input name="imagename" value={name} onChange={(e) => setName(e.target.value)} /></label>}
        {kind === 'export-registry' && <>
          <label className="field"><span>username</span><input name="registry-username" autoComplete="off" value={user} onChange={(e) => setUser(e.target.value)} /></label>
          <label className="field"><span>password</span><input type="password" name="registry-password" autoComplete="off" value={pass} onChange={(e) => setPass(e.target.value)} /></label>
          <LoginNote host={host} remembered={Boolean(login)} onForget={() => { setUser(''); setPass(''); reload(); }} />
        </>}
      </fieldset>
      {started && <TransferPanel id={nodeId} />}
      <div className="row">
        {!started && (
          <button onClick={async () => {
            const withLogin = kind === 'export-registry' && user && pass;
            const spec = outputFor({ id: 'x', kind, params: needsDest ? { dest } : { name, ...(withLogin ? { username: user, password: pass } : {}) }, position: { x: 0, y: 0 } })!;
            setStarted(true);
            // remembered per host for the next push (encrypted in Electron); never in the document
            if (withLogin && host) await rememberLogin(host, { username: user, password: pass });
            void runGraph({ target: nodeId, outputs: [spec], exportNode: nodeId });
          }}>Export</button>
        )}
        {started && running && <button onClick={() => void cancelRun()}>Cancel export</button>}
        <button onClick={onClose}>{started ? 'Close' : 'Cancel'}</button>
      </div>
    </div>
  );
}
