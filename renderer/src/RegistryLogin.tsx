// Username/password fields for a registry push, shared by the export dialog and a registry
// exporter's inspector. The login is remembered per registry host through ./credentials.ts
// (encrypted in Electron, page memory in a browser) and never written into the graph document.
import { useEffect, useState } from 'react';
import { forgetLogin, keeping, loginFor, registryHost, rememberLogin, type RegistryLogin } from './credentials.js';

/** The login remembered for the host of `imageName` (reloaded when the host changes). */
export function useRememberedLogin(imageName: string): { host?: string; login?: RegistryLogin; reload: () => void } {
  const host = registryHost(imageName);
  const [login, setLogin] = useState<RegistryLogin | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLogin(undefined);
    if (host) void loginFor(host).then((l) => live && setLogin(l));
    return () => {
      live = false;
    };
  }, [host, tick]);
  return { host, login, reload: () => setTick((t) => t + 1) };
}

/** Where the login goes, in one line under the fields (and a Forget button once one is kept). */
export function LoginNote({ host, remembered, onForget }: { host?: string; remembered: boolean; onForget: () => void }) {
  return (
    <div className="muted" data-testid="login-note">
      {host ? `Login for ${host}: ${keeping().note}.` : 'Enter an image name to pick the registry.'}
      {host && remembered && <> <button type="button" onClick={() => { forgetLogin(host); onForget(); }}>Forget</button></>}
    </div>
  );
}

/**
 * The inspector's password field for an `export-registry` node: the username is a node parameter
 * (safe to save), the password goes to the per-host store when the field loses focus.
 */
export function RegistryPasswordField({ imageName, username }: { imageName: string; username: string }) {
  const { host, login, reload } = useRememberedLogin(imageName);
  const matching = login && login.username === username ? login : undefined;
  const [pass, setPass] = useState('');
  useEffect(() => setPass(matching?.password ?? ''), [matching?.password]);
  const save = () => {
    if (!host || !username || !pass || pass === matching?.password) return;
    void rememberLogin(host, { username, password: pass }).then(reload);
  };
  return (
    <>
      <label className="field">
        <span>password</span>
        <input type="password" name="registry-password" autoComplete="off" value={pass} disabled={!host || !username}
          placeholder={!username ? 'set username first' : ''} onChange={(e) => setPass(e.target.value)} onBlur={save}
          onKeyDown={(e) => e.key === 'Enter' && save()} />
      </label>
      <LoginNote host={host} remembered={Boolean(matching)} onForget={() => { setPass(''); reload(); }} />
    </>
  );
}
