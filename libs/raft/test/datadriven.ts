// A small data-driven test format, after cockroachdb/datadriven as etcd-io/raft uses it:
// a text file of commands, each followed by `----` and the output it must produce, up to
// the next blank line. Lines starting with `#` are comments. With REWRITE=1 in the
// environment the runner writes the actual output back into the file instead of comparing,
// so a change in behaviour shows up as a reviewable diff of the testdata.

import { readFileSync, writeFileSync } from 'node:fs';

export interface Directive {
  /** The file's line number of the command, for error messages. */
  readonly line: number;
  readonly text: string;
  readonly cmd: string;
  /** Positional arguments, in order. */
  readonly positional: string[];
  /** key=value arguments; a value in parentheses is split on commas and spaces. */
  readonly args: Map<string, string[]>;
  readonly expected: string;
}

interface Chunk {
  /** Comments and blank lines before the directive, kept verbatim on rewrite. */
  readonly preamble: string[];
  readonly directive?: Directive;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (cur) tokens.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) tokens.push(cur);
  return tokens;
}

export function parseDirectiveLine(text: string, line = 0): Omit<Directive, 'expected'> {
  const [cmd = '', ...rest] = tokenize(text);
  const positional: string[] = [];
  const args = new Map<string, string[]>();
  for (const tok of rest) {
    const eq = tok.indexOf('=');
    if (eq < 0) {
      positional.push(tok);
      continue;
    }
    const key = tok.slice(0, eq);
    let value = tok.slice(eq + 1);
    if (value.startsWith('(') && value.endsWith(')')) {
      value = value.slice(1, -1);
      args.set(key, value.split(/[\s,]+/).filter((v) => v.length > 0));
    } else {
      args.set(key, [value]);
    }
  }
  return { line, text, cmd, positional, args };
}

function parse(content: string): Chunk[] {
  const lines = content.split('\n');
  const chunks: Chunk[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) {
      preamble.push(l);
      i++;
      continue;
    }
    const lineNo = i + 1;
    const cmdLine = l;
    i++;
    if (lines[i] !== '----') throw new Error(`line ${lineNo}: expected ---- after "${cmdLine}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') {
      out.push(lines[i]!);
      i++;
    }
    chunks.push({ preamble, directive: { ...parseDirectiveLine(cmdLine, lineNo), expected: out.join('\n') } });
    preamble = [];
  }
  // Trailing blank lines are not worth keeping; the rewrite ends the file with one newline.
  while (preamble.length > 0 && preamble[preamble.length - 1]!.trim() === '') preamble.pop();
  if (preamble.length > 0) chunks.push({ preamble });
  return chunks;
}

/**
 * Runs every directive of `path` through `run`. Returns the mismatches (empty when all
 * passed); with REWRITE=1 it rewrites the file and returns none.
 */
export function runFile(
  path: string,
  run: (d: Directive) => string,
): { directive: Directive; actual: string }[] {
  const chunks = parse(readFileSync(path, 'utf8'));
  const rewrite = process.env['REWRITE'] === '1';
  const failures: { directive: Directive; actual: string }[] = [];
  const outLines: string[] = [];
  for (const chunk of chunks) {
    outLines.push(...chunk.preamble);
    const d = chunk.directive;
    if (!d) continue;
    let actual: string;
    try {
      actual = run(d);
    } catch (e) {
      actual = `error: ${e instanceof Error ? e.message : String(e)}`;
      if (!rewrite && !(e instanceof Error && e.message.startsWith('usage:'))) {
        // Surface unexpected exceptions with their stack; they are bugs, not outputs.
        if (d.expected !== actual) throw e;
      }
    }
    // A blank line would end the output block; keep every output line non-empty.
    actual = actual
      .split('\n')
      .filter((l) => l.trim() !== '')
      .join('\n');
    if (actual === '') actual = 'ok';
    if (!rewrite && actual !== d.expected) failures.push({ directive: d, actual });
    outLines.push(d.text, '----', actual);
  }
  if (rewrite) writeFileSync(path, outLines.join('\n') + '\n');
  return failures;
}
