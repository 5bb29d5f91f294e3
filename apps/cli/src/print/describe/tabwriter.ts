// The column alignment kubectl's describers get from Go's text/tabwriter (min width 0,
// padding 2, spaces): lines are split into cells at tabs; the last cell of a line is free
// text. A column is aligned over a block of consecutive lines that all have a cell in it, so
// a line with fewer cells (a section title such as `Containers:`) starts a new alignment,
// which is why `Name:` and `Image:` line up differently in the same output.

const PADDING = 2;

function width(text: string): number {
  return [...text].length;
}

/** Aligns tab-separated lines as kubectl prints them; trailing spaces are dropped. */
export function tabwrite(lines: string[]): string[] {
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  const out: string[] = new Array<string>(cells.length);

  const emit = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const row = cells[i]!;
      out[i] = row.map((c, j) => (j < widths.length && j < row.length - 1 ? c + ' '.repeat(Math.max(0, widths[j]! - width(c))) : c)).join('').trimEnd();
    }
  };

  // Go's format(): find each block of lines with a cell in this column, size the column over
  // the block, then align the columns to its right within the block.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= cells[i]!.length - 1) continue;
      emit(start, i);
      let w = 0;
      let end = i;
      for (; end < line1 && column < cells[end]!.length - 1; end++) w = Math.max(w, width(cells[end]![column]!) + PADDING);
      widths.push(w);
      format(i, end);
      widths.pop();
      start = end;
      i = end - 1;
    }
    emit(start, line1);
  };

  format(0, cells.length);
  return out;
}
