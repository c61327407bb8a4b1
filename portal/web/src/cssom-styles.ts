// CodeMirror styles itself through style-mod, which writes its rules into a
// <style> element for a document. The portal's CSP (style-src 'self', no
// nonce) refuses that element's text, so the editor would have no layout at
// all. A constructed stylesheet adopted by the document is CSSOM, which the
// CSP allows: replace style-mod's mount with one that writes there. It keeps
// style-mod's rule: modules later in the list win, and a later call that
// reorders modules already mounted reorders them.
//
// StyleModule is the one instance CodeMirror imports (style-mod is a single
// package in the lockfile), and CodeMirror calls StyleModule.mount at each
// view's creation and theme change, so the replacement must be installed
// before the first EditorView: the editor module calls useCSSOMStyles() at
// its top.

import { StyleModule } from "style-mod";

type Root = Document | ShadowRoot;

interface Mounted {
  sheet: CSSStyleSheet;
  modules: StyleModule[];
}

const mounted = new WeakMap<Root, Mounted>();
let installed = false;

export function useCSSOMStyles(): void {
  if (installed) return;
  installed = true;
  StyleModule.mount = (root, modules) => mount(root as Root, Array.isArray(modules) ? (modules as StyleModule[]) : [modules as StyleModule]);
}

function mount(root: Root, modules: StyleModule[]): void {
  let m = mounted.get(root);
  if (!m) {
    m = { sheet: new CSSStyleSheet(), modules: [] };
    mounted.set(root, m);
  }
  if (mergeModules(m.modules, modules)) m.sheet.replaceSync(m.modules.map((x) => x.getRules()).join("\n"));
  if (!root.adoptedStyleSheets.includes(m.sheet)) root.adoptedStyleSheets = [m.sheet, ...root.adoptedStyleSheets];
}

// mergeModules puts modules into have in their order, as style-mod does:
// a module already there but earlier than the modules asked before it moves
// after them. It reports whether have changed.
export function mergeModules<T>(have: T[], modules: T[]): boolean {
  let changed = false;
  let j = 0;
  for (const mod of modules) {
    let index = have.indexOf(mod);
    if (index > -1 && index < j) {
      have.splice(index, 1);
      j--;
      index = -1;
      changed = true;
    }
    if (index === -1) {
      have.splice(j++, 0, mod);
      changed = true;
    } else {
      j = index + 1;
    }
  }
  return changed;
}
