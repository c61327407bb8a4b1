// A line diff between two versions of a function, Myers' O(ND) algorithm
// ("An O(ND) Difference Algorithm and Its Variations", 1986) on lines, after
// taking off the lines both ends share. Small and ours: a library would
// weigh more than the page needs (see docs/decisions.md).

export interface Op {
  op: " " | "+" | "-";
  text: string;
  a: number | null; // the line's number in the old text (1-based), if it has one
  b: number | null; // in the new text
}

export function splitLines(s: string): string[] {
  if (s === "") return [];
  const lines = s.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

// diffLines says how to turn a into b line by line: kept lines (" "),
// removed ("-") and added ("+"), removals before additions in each change.
// Past maxEdits changed lines it stops looking for the shortest script and
// shows the differing middle as removed, then added: still right, just not
// minimal, and the page stays quick on two unrelated large files.
export function diffLines(a: string, b: string, maxEdits = 1000): Op[] {
  const A = splitLines(a);
  const B = splitLines(b);
  let pre = 0;
  while (pre < A.length && pre < B.length && A[pre] === B[pre]) pre++;
  let suf = 0;
  while (suf < A.length - pre && suf < B.length - pre && A[A.length - 1 - suf] === B[B.length - 1 - suf]) suf++;
  const out: Op[] = [];
  for (let i = 0; i < pre; i++) out.push({ op: " ", text: A[i], a: i + 1, b: i + 1 });
  const midA = A.slice(pre, A.length - suf);
  const midB = B.slice(pre, B.length - suf);
  const script = myers(midA, midB, maxEdits) ?? [...midA.map(() => "-" as const), ...midB.map(() => "+" as const)];
  let i = 0;
  let j = 0;
  for (const op of script) {
    if (op === " ") out.push({ op, text: midA[i], a: pre + ++i, b: pre + ++j });
    else if (op === "-") out.push({ op, text: midA[i], a: pre + ++i, b: null });
    else out.push({ op, text: midB[j], a: null, b: pre + ++j });
  }
  for (let k = 0; k < suf; k++) {
    const ai = A.length - suf + k;
    const bi = B.length - suf + k;
    out.push({ op: " ", text: A[ai], a: ai + 1, b: bi + 1 });
  }
  return out;
}

// myers returns the edit script as one op per line, or null when more than
// max edits are needed.
function myers(A: string[], B: string[], max: number): (" " | "+" | "-")[] | null {
  const n = A.length;
  const m = B.length;
  const limit = Math.min(n + m, max);
  const offset = limit + 1;
  let v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    // Only the diagonals this round can read: O(D²) memory in all.
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m, d);
    }
    v = next;
  }
  return null;
}

function backtrack(trace: Int32Array[], n: number, m: number, d: number): (" " | "+" | "-")[] {
  const ops: (" " | "+" | "-")[] = [];
  let x = n;
  let y = m;
  for (let e = d; e > 0; e--) {
    const v = trace[e]; // diagonals -e-1 … e+1 at 0 … 2e+2
    const at = (k: number) => v[k + e + 1];
    const k = x - y;
    const down = k === -e || (k !== e && at(k - 1) < at(k + 1));
    const pk = down ? k + 1 : k - 1;
    const px = at(pk);
    const py = px - pk;
    while (x > px && y > py) {
      ops.push(" ");
      x--;
      y--;
    }
    ops.push(down ? "+" : "-");
    if (down) y--;
    else x--;
  }
  while (x > 0 && y > 0) {
    ops.push(" ");
    x--;
    y--;
  }
  return ops.reverse();
}

export interface Hunk {
  header: string; // "@@ -3,7 +3,8 @@"
  ops: Op[];
}

// hunks keeps the changed lines with context lines around them, as
// `diff -u` shows them; none when the texts are the same.
export function hunks(ops: Op[], context = 3): Hunk[] {
  const out: Hunk[] = [];
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i].op === " ") i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    // Extend while the next change is within 2×context lines.
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end].op !== " ") end++;
      let k = end;
      while (k < ops.length && ops[k].op === " " && k - end < 2 * context) k++;
      if (k < ops.length && ops[k].op !== " ") {
        end = k;
        continue;
      }
      break;
    }
    end = Math.min(ops.length, end + context);
    const slice = ops.slice(start, end);
    const aLines = slice.filter((o) => o.a !== null);
    const bLines = slice.filter((o) => o.b !== null);
    const aStart = aLines[0]?.a ?? precedingLine(ops, start, "a");
    const bStart = bLines[0]?.b ?? precedingLine(ops, start, "b");
    out.push({ header: `@@ -${aStart},${aLines.length} +${bStart},${bLines.length} @@`, ops: slice });
    i = end;
  }
  return out;
}

// For a hunk with no line on one side, diff -u names the line before it.
function precedingLine(ops: Op[], at: number, side: "a" | "b"): number {
  for (let i = at - 1; i >= 0; i--) {
    const n = ops[i][side];
    if (n !== null) return n;
  }
  return 0;
}
