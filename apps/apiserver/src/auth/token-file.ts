// The static token file (--token-auth-file), in kube-apiserver's CSV format, one token a line:
//   token,user,uid,"group1,group2"
// The groups column is optional and quoted when it holds commas. A token seen twice keeps its
// last line (kube-apiserver warns and does the same). Blank lines are skipped.

import type { UserInfo } from './user';

/** Splits one CSV record: commas separate fields, double quotes quote them, "" is a quote. */
function csvFields(line: string, where: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === '' && !wasQuoted) {
      quoted = true;
      wasQuoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      wasQuoted = false;
    } else if (c === '"') {
      throw new Error(`${where}: bare " in non-quoted field`);
    } else {
      field += c;
    }
  }
  if (quoted) throw new Error(`${where}: extraneous or missing " in quoted field`);
  fields.push(field);
  return fields;
}

export interface TokenFile {
  tokens: Map<string, UserInfo>;
  /** Lines that redefine an earlier token (kept, as the later line wins). */
  warnings: string[];
}

/** Parses a token file; throws an Error naming the line for a malformed one. */
export function parseTokenFile(text: string, source = 'token file'): TokenFile {
  const tokens = new Map<string, UserInfo>();
  const warnings: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${source} line ${index + 1}`;
    const fields = csvFields(line, where);
    if (fields.length < 3) throw new Error(`${where}: must have at least 3 columns (token, user name, uid), found ${fields.length}`);
    const [token, name, uid, groups] = fields.map((f) => f.trim()) as [string, string, string, string | undefined];
    if (token === '') throw new Error(`${where}: empty token`);
    if (name === '') throw new Error(`${where}: empty user name`);
    if (tokens.has(token)) warnings.push(`duplicate token found in ${where}; the later line wins`);
    const groupList = (groups ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    tokens.set(token, { name, uid, groups: groupList });
  });
  return { tokens, warnings };
}
