// .dockerignore for the frontend: the same parser and matcher the context transfer uses
// (engine/source/local), so "excluded by rule X" diagnoses exactly what the transfer will do.
import { createMatcher, parseDockerignore } from '../../../source/local/dockerignore.js';

export function parseIgnoreText(text: string): string[] {
  return parseDockerignore(text);
}

/** The rule that excludes `rel`, or undefined when it is included. */
export function excludingRule(patterns: string[], rel: string): string | undefined {
  if (patterns.length === 0) return undefined;
  const m = createMatcher(patterns);
  return m.matches(rel) ? m.ruleFor(rel) : undefined;
}
