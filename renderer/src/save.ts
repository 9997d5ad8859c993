// Save, Save As and Save as Dockerfile. In Electron the main process writes: Save goes back to the
// opened graph file, anything else asks through the native dialog (main only writes to paths the
// user opened or picked). A browser has no file system, so it downloads.
import { graphToDockerfile } from '../../engine/frontend/graph/dockerfile.js';
import { desktopShell } from './shell.js';
import { useEditor } from './store.js';

const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

function download(name: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
}

/** `as`: always ask for a destination (Save As…) */
export async function saveGraph(as = false): Promise<void> {
  const st = useEditor.getState();
  const text = JSON.stringify(st.doc, null, 2);
  const name = st.fileName?.endsWith('.kiln.json') ? st.fileName : `${(st.fileName ?? st.dockerfile?.filename ?? 'build').replace(/\.(json|dockerfile)$/i, '')}.kiln.json`;
  const shell = desktopShell();
  if (!shell) {
    download(name, text, 'application/json');
    st.markSaved(name);
    return;
  }
  try {
    const p = await shell.saveFile({ ...(!as && st.filePath ? { path: st.filePath } : {}), text, title: as ? 'Save graph as' : 'Save graph', defaultPath: name, kind: 'graph' });
    if (p) useEditor.getState().markSaved(baseName(p), p);
  } catch (e) {
    useEditor.getState().setNotice(`Save failed: ${(e as Error).message}`);
  }
}

export async function saveAsDockerfile(): Promise<void> {
  const { dockerfile, unsupported } = graphToDockerfile(useEditor.getState().doc);
  const shell = desktopShell();
  if (shell) {
    try {
      await shell.saveFile({ text: dockerfile, title: 'Save as Dockerfile', defaultPath: 'Dockerfile', kind: 'dockerfile' });
    } catch (e) {
      return useEditor.getState().setNotice(`Save failed: ${(e as Error).message}`);
    }
    // octet-stream: with text/plain, Chromium saves it as "Dockerfile.txt"
  } else download('Dockerfile', dockerfile, 'application/octet-stream');
  if (unsupported.length) useEditor.getState().setNotice(`No Dockerfile form: ${unsupported.map((u) => `${u.nodeId} (${u.reason})`).join('; ')}`);
}
