// Markdown tables for the report: a header row, an alignment row (numbers right-aligned)
// and cells with pipes escaped, so any text can go in a cell.

export type Align = 'left' | 'right';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function mdTable(header: string[], rows: string[][], align?: Align[]): string {
  const a = align ?? header.map(() => 'left' as Align);
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${a.map((x) => (x === 'right' ? '---:' : '---')).join('|')}|`, ...rows.map(line)].join('\n');
}
