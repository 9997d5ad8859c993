// Step names as BuildKit's dockerfile2llb prints them: the instruction as written (flags such as
// --from, --chown, --chmod, --link, --mount included), variables expanded with the stage's env
// and the keyword upper-cased — "[stage-1 2/3] COPY --from=build /out /r". Names are metadata:
// they never enter a digest, so nothing here may change an op.
import type { Heredoc } from '../parser/ast.js';
import { ShellLex } from '../shell/lex.js';

/** BuildKit's uppercaseCmd: the first space-separated word only. */
function uppercaseCmd(s: string): string {
  const i = s.indexOf(' ');
  return i < 0 ? s.toUpperCase() : s.slice(0, i).toUpperCase() + s.slice(i);
}

/** BuildKit's processCmdEnv: the whole text as one word; on a lexing error the text as written. */
function expandName(lex: ShellLex, text: string, env: Map<string, string>): string {
  try {
    return lex.processWord(text, env);
  } catch {
    return text;
  }
}

/**
 * RUN names keep quotes and leave unset variables as written (BuildKit lexes them with RawQuotes
 * and SkipUnsetEnv), so `RUN echo "$HOME"` reads as the command does.
 */
export function runLexer(escapeToken: string): ShellLex {
  return new ShellLex(escapeToken, { rawQuotes: true, skipUnsetEnv: true });
}

/** `RUN <<EOF` alone runs one heredoc: its name gets a summary of the script, as in BuildKit. */
function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replace(/\r\n/g, '\n').split('\n');
  return lines[0]! + (lines.length > 1 ? '...' : '');
}

export function runName(lex: ShellLex, original: string, env: Map<string, string>, cmd: string[], heredocs: Heredoc[], prependShell: boolean): string {
  let text = original.trim();
  if (heredocs.length && prependShell && cmd.length === 1 && /^<<-?(["']?)[^\s"']+\1$/.test(cmd[0]!.trim())) text += ` (${summarizeHeredoc(heredocs[0]!.content)})`;
  return uppercaseCmd(expandName(lex, text, env));
}

/** COPY, ADD and WORKDIR: the ordinary lexer (quotes removed, unset variables empty). */
export function stepName(lex: ShellLex, original: string, env: Map<string, string>): string {
  return uppercaseCmd(expandName(lex, original.trim(), env));
}

/** The merge vertex of `COPY --link` (BuildKit names it after the copy, with LINK before). */
export function linkName(copyName: string): string {
  return `LINK ${copyName}`;
}
