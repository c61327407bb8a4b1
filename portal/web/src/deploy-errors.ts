// Where a refused deploy's problem is. Outlet answers 422 with a message
// such as "the function doesn't compile: line 3, column 5: Expected …"
// (sandbox.CompileError on deployed source) or, when the module's top-level
// code throws, a stack naming "function.ts:3:5"; a test run's runtime_error
// names its frames the same way. The editor shows the message there.

export interface Located {
  line: number; // 1-based
  column: number; // 1-based
  message: string; // without the position
}

const LINE_COLUMN = /\bline (\d+), column (\d+): /;
const FILE_LINE_COLUMN = /([\w./-]+\.(?:ts|js|mjs|cjs|tsx|jsx)):(\d+):(\d+)/;

export function locate(message: string): Located | null {
  const lc = LINE_COLUMN.exec(message);
  if (lc) {
    const rest = (message.slice(0, lc.index) + message.slice(lc.index + lc[0].length)).replace(/:\s*$/, "");
    return { line: Number(lc[1]), column: Number(lc[2]), message: tidy(rest) };
  }
  const f = FILE_LINE_COLUMN.exec(message);
  if (f) return { line: Number(f[2]), column: Number(f[3]), message: tidy(message) };
  return null;
}

function tidy(s: string): string {
  return s.replace(/^the function doesn't compile: /, "").trim();
}

// offset turns a line and column into a position in text, clamped to it:
// a message from an older text must not point past this one.
export function offset(text: string, line: number, column: number): number {
  let pos = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) return text.length;
    pos = nl + 1;
  }
  const end = text.indexOf("\n", pos);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(pos + Math.max(0, column - 1), lineEnd);
}
