/** A word-expansion failure (unterminated quote, bad substitution, ${VAR:?msg}, ...). */
export class ShellLexError extends Error {
  override name = 'ShellLexError';
}
