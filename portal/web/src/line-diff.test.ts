import { diffLines, hunks, splitLines } from "./line-diff";
import { done, eq, test } from "./testing";

const show = (a: string, b: string) =>
  diffLines(a, b)
    .map((o) => o.op + o.text)
    .join("|");

// Applying the ops to a must give b, and dropping the added lines a: the
// diff is right whatever its shape.
function applies(a: string, b: string) {
  const ops = diffLines(a, b);
  eq(ops.filter((o) => o.op !== "+").map((o) => o.text), splitLines(a), "old side");
  eq(ops.filter((o) => o.op !== "-").map((o) => o.text), splitLines(b), "new side");
  return ops;
}

test("the same text is all kept lines, numbered on both sides", () => {
  const ops = applies("a\nb\n", "a\nb\n");
  eq(ops.map((o) => [o.op, o.a, o.b]), [[" ", 1, 1], [" ", 2, 2]]);
  eq(hunks(ops), [], "no hunks");
});

test("a changed line is removed then added, in place", () => {
  eq(show("a\nb\nc", "a\nB\nc"), " a|-b|+B| c");
});

test("an added line at the start, middle and end", () => {
  eq(show("b\nd", "a\nb\nc\nd\ne"), "+a| b|+c| d|+e");
});

test("removing every line, and adding to nothing", () => {
  eq(show("a\nb", ""), "-a|-b");
  eq(show("", "a"), "+a");
});

test("the diff is the shortest: a moved line costs one removal and one addition", () => {
  const ops = applies("x\na\nb\nc\nd", "a\nb\nc\nd\nx");
  eq(ops.filter((o) => o.op !== " ").length, 2, "changed lines");
});

test("line numbers follow each side", () => {
  const ops = applies("one\ntwo\nthree", "zero\none\nthree\nfour");
  eq(ops.map((o) => `${o.op}${o.a ?? "_"}/${o.b ?? "_"}`), ["+_/1", " 1/2", "-2/_", " 3/3", "+_/4"]);
});

test("CRLF and LF lines compare equal; a trailing newline adds no line", () => {
  eq(show("a\r\nb\r\n", "a\nb"), " a| b");
});

test("random edits always apply", () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const a = Array.from({ length: rnd(30) }, () => "l" + rnd(6));
    const b = a.filter(() => rnd(4) > 0);
    for (let i = 0; i < rnd(6); i++) b.splice(rnd(b.length + 1), 0, "n" + rnd(6));
    applies(a.join("\n"), b.join("\n"));
  }
});

test("past the edit limit the middle is shown whole, still right", () => {
  const a = Array.from({ length: 50 }, (_, i) => "a" + i).join("\n");
  const b = Array.from({ length: 50 }, (_, i) => "b" + i).join("\n");
  const ops = diffLines("keep\n" + a + "\nkeep", "keep\n" + b + "\nkeep", 10);
  eq(ops.filter((o) => o.op === "-").length, 50, "removed");
  eq(ops.filter((o) => o.op === "+").length, 50, "added");
  eq([ops[0].op, ops[ops.length - 1].op], [" ", " "], "shared ends kept");
});

test("hunks keep three lines of context and merge close changes, with diff -u headers", () => {
  const a = Array.from({ length: 20 }, (_, i) => String(i + 1));
  const b = [...a];
  b[4] = "five";
  b[8] = "nine";
  b[18] = "nineteen";
  const hs = hunks(diffLines(a.join("\n"), b.join("\n")));
  eq(hs.map((h) => h.header), ["@@ -2,11 +2,11 @@", "@@ -16,5 +16,5 @@"]);
  eq(hs[1].ops.map((o) => o.op + o.text), [" 16", " 17", " 18", "-19", "+nineteen", " 20"]);
});

test("a hunk that only adds names the line before it", () => {
  const hs = hunks(diffLines("a\nb\nc\nd\ne\nf\ng\nh", "a\nb\nc\nd\ne\nf\ng\nh\ni"));
  eq(hs.map((h) => h.header), ["@@ -6,3 +6,4 @@"]);
});

done();
