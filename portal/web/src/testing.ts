// A few lines of test harness for the pure modules (parsers, colour maths),
// run by portal/build's Go tests in Node: no test framework to install.

let failed = 0;

export function test(name: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  console.log(`ok   ${name}`);
}

export function eq(got: unknown, want: unknown, what = "value"): void {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

export function done(): void {
  if (failed) throw new Error(`${failed} test(s) failed`);
}
