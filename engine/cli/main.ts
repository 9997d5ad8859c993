 
// The `kiln` command (commander@14). Commands lazy-import what they need, so `kiln --version`
// and `kiln --help` start without loading the engine. Exit codes: 0 ok, 1 build failed, 2 usage.
import { Command, CommanderError, Option } from 'commander';
import { collect } from './options.js';

export const VERSION = '0.1.0';

/**
 * commander reads any `--no-X` flag as the negation of `--X`; `--no-cache-filter <stage>` is a
 * value option of its own (docker build's name), so it must not be (attribute: noCacheFilter).
 */
function literalNo(o: Option): Option {
  o.negate = false;
  return o;
}

export function program(run: (code: number) => void): Command {
  const p = new Command('kiln').description('A container build engine with BuildKit\'s architecture').version(VERSION, '-v, --version').exitOverride().showSuggestionAfterError();
  const root = () => process.env.KILN_ROOT;
  const remote = (c: Command) => c.option('--addr <url>', 'use a running kiln serve').option('--token <token>', 'token for --addr (or KILN_TOKEN)');
   
  const act = (fn: (...a: any[]) => Promise<number>) => async (...a: unknown[]) => run(await fn(...a));

  const buildFlags = (c: Command) =>
    c
      .option('-f, --file <path>', 'Dockerfile or *.kiln.json graph document')
      .option('-t, --tag <name>', 'image name (repeatable); without --output: load into the engine', collect, [])
      .option('--target <stage>', 'build this stage')
      .option('--build-arg <k=v>', 'build-time variable (repeatable)', collect, [])
      .option('--build-context <name=path|docker-image://ref>', 'named context (repeatable)', collect, [])
      .option('--secret <id=…,src=…|env=…>', 'secret (repeatable)', collect, [])
      .option('--ssh <default|id=socket>', 'ssh agent socket', collect, [])
      .option('--no-cache', 'do not use the cache')
      .addOption(literalNo(new Option('--no-cache-filter <stage>', 'do not use the cache for this stage (repeatable, or comma-separated)').argParser(collect).default([])))
      .addOption(new Option('--network <mode>', 'network for RUN').choices(['default', 'none', 'host']))
      .option('-o, --output <spec>', 'type=…,k=v (repeatable)', collect, [])
      .option('--load', 'shorthand for --output=type=docker (load into the engine)')
      .option('--push', 'shorthand for --output=type=registry (push under the -t names)')
      .option('--cache-from <spec>', 'import build cache: type=local,src=DIR[,tag=T] (repeatable)', collect, [])
      .option('--cache-to <spec>', 'export build cache: type=local,dest=DIR[,mode=min|max][,tag=T][,ignore-error=true] (repeatable)', collect, [])
      .addOption(new Option('--progress <mode>', 'progress output').choices(['auto', 'tty', 'plain', 'rawjson']).default('auto'))
      .option('--metadata-file <path>', 'write build result metadata here')
      .option('--allow <entitlement>', 'security.insecure', collect, []);

  remote(buildFlags(p.command('build').description('build from a Dockerfile or graph document').argument('[context]', 'context directory', '.'))).action(
    act(async (ctx: string, f: any) => (await import('./commands/build.js')).runBuild(ctx, f, root())),
  );

  remote(
    p
      .command('bake')
      .description('build several targets (docker-bake.json/.hcl, compose) as one job')
      .argument('[targets...]', 'targets or groups')
      .option('-f, --file <path>', 'bake or compose file (repeatable)', collect, [])
      .option('--print', 'print the resolved targets as JSON')
      .option('--list <what>', 'list the targets (and groups) or the variables: targets|variables')
      .option('--set <target.key=value>', 'override a target (repeatable): TARGET|*.args.NAME, tags, target, dockerfile, context, output, no-cache, platform, cache-from, cache-to, contexts.NAME', collect, [])
      .option('--load', 'shorthand for --set *.output=type=docker (load every target into the engine)')
      .option('--push', 'shorthand for --set *.output=type=registry (push every target to its tags)')
      .option('--no-cache', 'shorthand for --set *.no-cache=true (run every step again)')
      .option('--metadata-file <file>', 'write each target\'s result metadata (digests, image names) as JSON')
      .addOption(new Option('--progress <mode>').choices(['auto', 'tty', 'plain', 'rawjson']).default('auto')),
  ).action(act(async (targets: string[], f: any) => (await import('./commands/bake.js')).runBake(targets, f, root())));

  remote(
    p
      .command('graph')
      .description('show the build graph without running it')
      .argument('[context]', 'context directory', '.')
      .option('-f, --file <path>', 'Dockerfile or *.kiln.json')
      .option('--target <stage>')
      .option('--build-arg <k=v>', 'repeatable', collect, [])
      .addOption(new Option('--format <fmt>').choices(['json', 'dot', 'mermaid']).default('json')),
  ).action(act(async (ctx: string, f: any) => (await import('./commands/graph.js')).runGraph(f, ctx, root())));

  remote(p.command('du').description('build cache usage').option('--verbose').addOption(new Option('--format <fmt>').choices(['table', 'json']).default('table'))).action(
    act(async (f: any) => (await import('./commands/cache.js')).runDu(f, root())),
  );

  remote(
    p
      .command('prune')
      .description('remove build cache')
      .option('-a, --all', 'remove everything')
      .option('--keep-storage <size>', 'keep this much (e.g. 1GB)')
      .option('--keep-duration <dur>', 'keep records used within (e.g. 24h)')
      .option('--filter <f>', 'type=…, id=… (repeatable)', collect, [])
      .addOption(new Option('--format <fmt>').choices(['table', 'json']).default('table')),
  ).action(act(async (f: any) => (await import('./commands/cache.js')).runPrune(f, root())));

  remote(
    p
      .command('history')
      .description('past builds')
      .argument('[sub]', 'ls | show', 'ls')
      .argument('[id]')
      .addOption(new Option('--format <fmt>').choices(['table', 'json']).default('table')),
  ).action(
    act(async (sub: string, id: string | undefined, f: any) => {
      if (sub !== 'ls' && sub !== 'show') throw new (await import('./connect.js')).UsageError('history: ls or show ID');
      return (await import('./commands/history.js')).runHistory(sub, id, f, root());
    }),
  );

  const debug = p.command('debug').description('debugging tools');
  buildFlags(debug.command('dump-llb').description('print the LLB Definition a build would solve').argument('[context]', 'context directory', '.')).action(
    act(async (ctx: string, f: any) => (await import('./commands/misc.js')).runDumpLlb(ctx, f, root())),
  );

  p.command('serve')
    .description('serve the API and the editor on one port')
    .option('--listen <addr>', 'host[:port] (default 127.0.0.1)')
    .option('--port <n>', 'port (default: any free)')
    .action(act(async (f: any) => (await import('./commands/serve.js')).runServe(f, root())));

  p.command('app').description('launch the desktop app').action(act(async () => (await import('./commands/misc.js')).runApp()));

  p.command('login')
    .description('store registry credentials')
    .argument('[server]')
    .option('-u, --username <user>')
    .option('-p, --password <password>')
    .option('--password-stdin', 'read the password from stdin')
    .action(act(async (server: string | undefined, f: any) => (await import('./commands/misc.js')).runLogin(server, f)));

  remote(p.command('info').description('engine health and version').addOption(new Option('--format <fmt>').choices(['text', 'json']).default('text'))).action(
    act(async (f: any) => (await import('./commands/misc.js')).runInfo(f, root())),
  );

  p.command('completion')
    .description('shell completion script')
    .argument('<shell>', 'bash | zsh')
    .action(
      act(async (shell: string) => {
        process.stdout.write((await import('./commands/misc.js')).completion(shell));
        return 0;
      }),
    );
  return p;
}

export async function main(argv: string[]): Promise<void> {
  let code = 0;
  const p = program((c) => (code = c));
  try {
    await p.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      code = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    } else if ((e as Error)?.name === 'UsageError') {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      code = 2;
    } else {
      process.stderr.write(`ERROR: ${(e as Error)?.message ?? String(e)}\n`);
      code = 1;
    }
  }
  process.exitCode = code;
  // Commands like serve return only when asked to stop; the rest exit now even if a socket lingers.
  if (argv[2] !== 'serve') setImmediate(() => process.exit(code));
}
