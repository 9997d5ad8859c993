// BuildKit's static lint rules (frontend/dockerfile/linter): each looks only at the parsed
// instructions. The rules that need evaluation (UndefinedVar, UndefinedArgInFrom) are reported by
// the converter while it expands words.
import type { BuildWarning } from '../../../llb/definition.js';
import type { Instruction, ParsedDockerfile } from '../instructions/types.js';

type Emit = (rule: string, message: string, ins: Instruction) => void;

const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pswd|pwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:_|^)(?:public|file|path|dir|url|name|id|type|version)(?:_|$)/i;

export function staticRules(df: ParsedDockerfile, emit: Emit): void {
  // ConsistentInstructionCasing: compare with the majority
  let upper = 0;
  let lower = 0;
  for (const ins of df.all) {
    if (ins.keyword === ins.keyword.toUpperCase()) upper++;
    else if (ins.keyword === ins.keyword.toLowerCase()) lower++;
  }
  const majorityUpper = upper >= lower;
  for (const ins of df.all) {
    const ok = majorityUpper ? ins.keyword === ins.keyword.toUpperCase() : ins.keyword === ins.keyword.toLowerCase();
    if (!ok) emit('ConsistentInstructionCasing', `Command '${ins.keyword}' should match the case of the command majority (${majorityUpper ? 'uppercase' : 'lowercase'})`, ins);
  }

  const seen = new Map<string, number>();
  for (const st of df.stages) {
    const f = st.from;
    const written = f.node.next?.next?.next?.value;
    if (written !== undefined) {
      if (written !== written.toLowerCase()) emit('StageNameCasing', `Stage name '${written}' should be lowercase`, f);
      const kwUpper = f.keyword === f.keyword.toUpperCase();
      const asUpper = f.asKeyword === f.asKeyword?.toUpperCase();
      const asLower = f.asKeyword === f.asKeyword?.toLowerCase();
      if ((kwUpper && !asUpper) || (!kwUpper && f.keyword === f.keyword.toLowerCase() && !asLower)) {
        emit('FromAsCasing', `'${f.asKeyword}' and '${f.keyword}' keywords' casing do not match`, f);
      }
    }
    if (st.name) {
      if (seen.has(st.name)) emit('DuplicateStageName', `Duplicate stage name '${st.name}', stage names should be unique`, f);
      seen.set(st.name, st.index);
      if (st.name === 'scratch' || st.name === 'context') emit('ReservedStageName', `'${st.name}' is reserved and should not be used as a stage name`, f);
    }
    if (f.platform !== undefined) {
      if (f.platform === '$TARGETPLATFORM' || f.platform === '${TARGETPLATFORM}') {
        emit('RedundantTargetPlatform', `Setting platform to predefined ${f.platform} in FROM is redundant as this is the default behavior`, f);
      } else if (!f.platform.includes('$')) {
        emit('FromPlatformFlagConstDisallowed', `FROM --platform flag should not use constant value "${f.platform}"`, f);
      }
    }
    // only the last CMD / ENTRYPOINT / HEALTHCHECK of a stage has any effect
    const last = new Map<string, Instruction>();
    for (const c of st.commands) {
      if (c.kind === 'cmd' || c.kind === 'entrypoint' || c.kind === 'healthcheck') {
        const prev = last.get(c.kind);
        if (prev) emit('MultipleInstructionsDisallowed', `Multiple ${c.kind.toUpperCase()} instructions should not be used in the same stage because only the last one will be used`, prev);
        last.set(c.kind, c);
      }
    }
    let workdirSet = false;
    for (const c of st.commands) {
      if (c.kind === 'workdir') {
        if (!workdirSet && !c.path.startsWith('/') && !c.path.startsWith('$')) {
          emit('WorkdirRelativePath', `Relative workdir "${c.path}" can have unexpected results if the base image changes`, c);
        }
        workdirSet = true;
      }
    }
  }

  for (const ins of df.all) {
    switch (ins.kind) {
      case 'cmd':
      case 'entrypoint':
        if (ins.prependShell) emit('JSONArgsRecommended', `JSON arguments recommended for ${ins.kind.toUpperCase()} to prevent unintended behavior related to OS signals`, ins);
        break;
      case 'env':
      case 'label':
        for (const p of ins.pairs) {
          if (p.legacy) {
            emit('LegacyKeyValueFormat', `"${ins.kind.toUpperCase()} key=value" should be used instead of legacy "${ins.kind.toUpperCase()} key value" format`, ins);
            break;
          }
        }
        if (ins.kind === 'env') for (const p of ins.pairs) secretCheck('ENV', p.key, ins, emit);
        break;
      case 'arg':
        for (const a of ins.args) secretCheck('ARG', a.key, ins, emit);
        break;
      case 'maintainer':
        emit('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', ins);
        break;
    }
  }
}

function secretCheck(kind: string, key: string, ins: Instruction, emit: Emit): void {
  if (SECRET.test(key) && !NOT_SECRET.test(key)) emit('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (${kind} "${key}")`, ins);
}

export function ruleURL(rule: string): string {
  return `https://docs.docker.com/go/dockerfile/rule/${rule.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}/`;
}

export type { BuildWarning };
