import { contrast, parseColor, readable } from "./theme";
import { done, eq, test } from "./testing";

test("hex colours are read, short and long", () => {
  eq(parseColor("#4f46e5"), [79, 70, 229]);
  eq(parseColor("#fff"), [255, 255, 255]);
  eq(parseColor(" #ABCDEF "), [171, 205, 239]);
});

test("contrast is WCAG's ratio", () => {
  eq(Math.round(contrast([0, 0, 0], [255, 255, 255])), 21);
  eq(contrast([79, 70, 229], [79, 70, 229]), 1);
});

test("a pale brand colour is shaded until it reads on each surface", () => {
  const yellow: [number, number, number] = [253, 224, 71];
  const onLight = readable(yellow, [255, 255, 255], [0, 0, 0]);
  if (contrast(onLight, [255, 255, 255]) < 4.5) throw new Error(`shaded yellow ${onLight} still fails on white`);
  const navy: [number, number, number] = [20, 30, 90];
  const onDark = readable(navy, [27, 27, 32], [255, 255, 255]);
  if (contrast(onDark, [27, 27, 32]) < 4.5) throw new Error(`lightened navy ${onDark} still fails on dark`);
  eq(readable([79, 70, 229], [255, 255, 255], [0, 0, 0]), [79, 70, 229], "a readable colour is kept");
});

done();
