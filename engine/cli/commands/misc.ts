// Small commands: login, debug dump-llb, app, info, completion.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { UsageError, connect } from '../connect.js';
import { buildRequest, type BuildFlags } from './build.js';

export async function runLogin(server: string | undefined, f: { username?: string; password?: string; passwordStdin?: boolean }): Promise<number> {
  const host = server ?? 'docker.io';
  if (!f.username) throw new UsageError('kiln login needs -u/--username');
  let password = f.password;
  if (f.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!password) throw new UsageError('kiln login needs -p/--password or --password-stdin');
  await (await import('../login.js')).verifyLogin(host, f.username, password);
  const m = await import('../../registry/credentials.js');
  await m.storeCredentials(host, f.username, password);
  process.stdout.write('Login Succeeded\n');
  return 0;
}

/**
 * The Definition a build would solve, as JSON (buildctl debug dump-llb): prepared by the service
 * exactly as its solve prepares it (the engine's image configs, .dockerignore, --network), so the
 * digests are the ones the build reports.
 */
export async function runDumpLlb(contextArg: string, f: BuildFlags, root?: string): Promise<number> {
  const req = await buildRequest(contextArg, { ...f, output: [], tag: [] });
  const { createControlService } = await import('../../control/service.js');
  const svc = await createControlService(root ? { root } : {});
  try {
    const def = await svc.definition(req.input, req.options?.network);
    process.stdout.write(JSON.stringify(def, null, 2) + '\n');
    return 0;
  } finally {
    await svc.close();
  }
}

/** the desktop app; without Electron (or a display) a clear message and exit code 1 */
export async function runApp(): Promise<number> {
  const { APP_HINT, PACKAGE_ROOT, findElectron } = await import('../app.js');
  const found = findElectron();
  if ('reason' in found) {
    process.stderr.write(`kiln app: the desktop app cannot start: ${found.reason}.\n${APP_HINT}\n`);
    return 1;
  }
  const main = path.join(PACKAGE_ROOT, 'dist', 'electron', 'main.js');
  if (!fs.existsSync(main)) {
    process.stderr.write(`kiln app: ${main} is not built; run \`npm run build\` first.\n`);
    return 1;
  }
  const child = spawn(found.bin, [main], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
  return new Promise((r) => {
    child.on('error', (e) => {
      process.stderr.write(`kiln app: cannot run ${found.bin}: ${e.message}\n`);
      r(1);
    });
    child.on('exit', (code, signal) => r(code ?? (signal ? 1 : 0)));
  });
}

export async function runInfo(f: { addr?: string; token?: string; format?: string }, root?: string): Promise<number> {
  const c = await connect({ ...f, ...(root ? { root } : {}) });
  try {
    const info = await c.api.info();
    if (f.format === 'json') process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    else {
      process.stdout.write(`kiln ${info.version}\nroot: ${info.root}\nengine: ${info.engine.ok ? 'ok' : 'not available'} (${info.engine.endpoint})${info.engine.version ? ' ' + info.engine.version : ''}\n`);
      if (!info.engine.ok) process.stdout.write(`${info.engine.error ?? ''}\n${info.engine.hint ?? ''}\n`);
    }
    return info.engine.ok ? 0 : 1;
  } finally {
    await c.close();
  }
}

const COMMANDS = ['build', 'bake', 'graph', 'du', 'prune', 'history', 'debug', 'serve', 'app', 'login', 'info', 'completion'];

export function completion(shell: string): string {
  if (shell === 'bash')
    return `# kiln bash completion: eval "$(kiln completion bash)"
_kiln() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=( $(compgen -W "${COMMANDS.join(' ')}" -- "$cur") ); return; fi
  case "\${COMP_WORDS[1]}" in
    build) COMPREPLY=( $(compgen -W "-f --file -t --tag --target --build-arg --build-context --secret --ssh --no-cache --no-cache-filter --network -o --output --cache-from --cache-to --progress --addr --token --metadata-file --allow" -- "$cur") $(compgen -d -- "$cur") ) ;;
    graph) COMPREPLY=( $(compgen -W "-f --file --target --build-arg --format" -- "$cur") ) ;;
    history) COMPREPLY=( $(compgen -W "ls show" -- "$cur") ) ;;
    prune) COMPREPLY=( $(compgen -W "--all --keep-storage --keep-duration --filter" -- "$cur") ) ;;
    *) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
  esac
}
complete -F _kiln kiln
`;
  if (shell === 'zsh')
    return `#compdef kiln
# kiln zsh completion: eval "$(kiln completion zsh)"
_kiln() {
  local -a cmds
  cmds=(${COMMANDS.map((c) => `'${c}'`).join(' ')})
  if (( CURRENT == 2 )); then _describe 'command' cmds; return; fi
  case $words[2] in
    build) _arguments '-f[Dockerfile]:file:_files' '*-t[tag]:tag:' '--target[stage]:stage:' '*--build-arg[KEY=VALUE]:arg:' '--no-cache' '--progress[mode]:(auto tty plain rawjson)' '*-o[output]:output:' '1:context:_files -/' ;;
    graph) _arguments '-f[Dockerfile]:file:_files' '--format[format]:(json dot mermaid)' ;;
    history) _values 'sub' ls show ;;
    *) _files ;;
  esac
}
compdef _kiln kiln
`;
  throw new UsageError('completion: bash or zsh');
}
