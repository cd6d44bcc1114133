/**
 * Just enough RFC 4180 for IOC and asset tables: comma-separated, fields optionally in double
 * quotes with "" as an escaped quote, one record per line (no newlines inside fields), `#` comment
 * lines and blank lines skipped. Returns the header row and the data rows.
 */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field.trim());
      field = '';
    } else field += c;
  }
  out.push(field.trim());
  return out;
}

export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (lines.length === 0) return { header: [], rows: [] };
  return {
    header: parseCsvLine(lines[0]).map((h) => h.toLowerCase()),
    rows: lines.slice(1).map(parseCsvLine),
  };
}
