// The code editor: CodeMirror 6 set up for a function's JavaScript or
// TypeScript — highlighting, bracket matching and closing, search, undo,
// the usual keys, completions from the catalog (completions.ts), and
// diagnostics where a deploy or a test run failed. Its look follows the
// portal's custom properties (styles.css), so light, dark and the brand
// colour need no second theme.

import { autocompletion, type Completion, type CompletionContext, type CompletionResult, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { javascript } from "@codemirror/lang-javascript";
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting, syntaxTree } from "@codemirror/language";
import { type Diagnostic, lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import {
  crosshairCursor,
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { complete, dotBefore, globalOptions, type Option, type Scope } from "./completions";
import { useCSSOMStyles } from "./cssom-styles";
import { locate, offset } from "./deploy-errors";

useCSSOMStyles();

export type Language = "javascript" | "typescript";

// Colours are the portal's custom properties; --code-* are set per mode in
// styles.css.
const theme = EditorView.theme({
  "&": {
    color: "var(--text)",
    backgroundColor: "var(--surface)",
    border: "1px solid var(--border)",
    borderRadius: "var(--radius)",
    fontSize: "14px",
  },
  "&.cm-focused": { outline: "3px solid var(--focus)", outlineOffset: "2px" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55" },
  ".cm-content": { caretColor: "var(--text)", padding: "8px 0" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)", borderLeftWidth: "2px" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection": {
    backgroundColor: "var(--code-selection)",
  },
  ".cm-activeLine": { backgroundColor: "var(--code-active-line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--code-active-line)", color: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--surface-2)", color: "var(--muted)", borderRight: "1px solid var(--border)", borderRadius: "var(--radius) 0 0 var(--radius)" },
  ".cm-lineNumbers .cm-gutterElement": { padding: "0 8px 0 12px" },
  "&.cm-focused .cm-matchingBracket": { backgroundColor: "var(--code-bracket)", outline: "1px solid var(--ink)" },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "var(--bad-bg)", color: "var(--bad)" },
  ".cm-selectionMatch": { backgroundColor: "var(--code-match)" },
  ".cm-searchMatch": { backgroundColor: "var(--code-match)", outline: "1px solid var(--warn)" },
  ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: "var(--code-selection)" },
  ".cm-panels": { backgroundColor: "var(--surface-2)", color: "var(--text)" },
  ".cm-panels.cm-panels-bottom": { borderTop: "1px solid var(--border)" },
  ".cm-panels.cm-panels-top": { borderBottom: "1px solid var(--border)" },
  ".cm-panel.cm-search": { padding: "6px 8px", fontSize: "14px" },
  ".cm-panel.cm-search input, .cm-panel.cm-search button, .cm-panel.cm-search label": { fontSize: "13px" },
  ".cm-panel.cm-search label": { display: "inline-flex", alignItems: "center", gap: "0.3em", fontWeight: "500" },
  ".cm-panel.cm-search input[type=checkbox]": { margin: "0" },
  ".cm-textfield": { backgroundColor: "var(--surface)", color: "var(--text)", border: "1px solid var(--border)", borderRadius: "4px" },
  ".cm-button": { backgroundImage: "none", backgroundColor: "var(--surface)", color: "var(--text)", border: "1px solid var(--border)", borderRadius: "4px" },
  ".cm-tooltip": { backgroundColor: "var(--surface)", color: "var(--text)", border: "1px solid var(--border)", borderRadius: "6px" },
  ".cm-tooltip-autocomplete > ul": { fontFamily: "var(--mono)", maxHeight: "14em" },
  ".cm-tooltip-autocomplete > ul > li": { padding: "2px 8px" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "var(--brand)", color: "var(--brand-fg)" },
  ".cm-completionDetail": { color: "inherit", opacity: "0.75", fontStyle: "normal", marginLeft: "1em" },
  ".cm-completionMatchedText": { textDecoration: "none", fontWeight: "700" },
  ".cm-completionInfo": { padding: "6px 10px", maxWidth: "320px", fontFamily: "inherit" },
  ".cm-diagnostic": { padding: "4px 8px" },
  ".cm-diagnostic-error": { borderLeft: "4px solid var(--bad)" },
  ".cm-diagnostic-warning": { borderLeft: "4px solid var(--warn)" },
  ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--bad)", textUnderlineOffset: "3px" },
  ".cm-lintRange-warning": { backgroundImage: "none", textDecoration: "underline wavy var(--warn)", textUnderlineOffset: "3px" },
  ".cm-lint-marker": { width: "0.9em", height: "0.9em" },
});

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword, t.definitionKeyword], color: "var(--code-keyword)" },
  { tag: [t.string, t.special(t.string), t.regexp], color: "var(--code-string)" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "var(--code-number)" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "var(--code-comment)", fontStyle: "italic" },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: "var(--code-function)" },
  { tag: [t.typeName, t.className, t.namespace], color: "var(--code-type)" },
  { tag: [t.definition(t.variableName), t.definition(t.propertyName)], color: "var(--code-definition)" },
  { tag: t.propertyName, color: "var(--code-property)" },
  { tag: t.invalid, color: "var(--bad)" },
]);

// Whether the portal shows its dark colours now: CodeMirror's base theme
// picks a few of its own defaults by it.
function dark(): boolean {
  const mode = document.documentElement.dataset.theme;
  if (mode === "dark") return true;
  if (mode === "light") return false;
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

// completionSource offers the catalog's fields after a dot, and the
// function's globals where a name starts; the language adds keywords and
// local names.
function completionSource(scope: () => Scope | null) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const s = scope();
    if (!s) return null;
    const node = syntaxTree(ctx.state).resolveInner(ctx.pos, -1);
    if (/Comment/.test(node.name)) return null;
    const text = ctx.state.doc.toString();
    if (node.name === "String" && text[node.from - 1] !== "[") return null;
    if (node.name === "TemplateString") return null;
    const r = complete(text, ctx.pos, s);
    if (r) {
      const dot = dotBefore(text, ctx.pos);
      return { from: r.from, options: r.options.map((o) => toCompletion(o, dot)), validFor: /^[\w$]*$/ };
    }
    const word = ctx.matchBefore(/[\w$]+/);
    if (!word || (word.from > 0 && text[word.from - 1] === ".")) return null;
    if (word.from === word.to && !ctx.explicit) return null;
    return { from: word.from, options: globalOptions().map((o) => toCompletion(o, word.from)), validFor: /^[\w$]*$/ };
  };
}

function toCompletion(o: Option, dot: number): Completion {
  const c: Completion = { label: o.label, type: o.type, detail: o.detail, info: o.info, boost: o.type === "constant" ? 1 : 0 };
  if (o.apply && o.applyFromDot) {
    const insert = o.apply;
    c.apply = (view, _completion, _from, to) => view.dispatch({ changes: { from: dot, to, insert }, selection: { anchor: dot + insert.length } });
  } else if (o.apply) {
    c.apply = o.apply;
  }
  return c;
}

export interface EditorOptions {
  doc: string;
  language: Language;
  label: string; // the editor's accessible name
  readOnly?: boolean;
  scope?: () => Scope | null; // completions; none when absent
  onChange?: (doc: string) => void;
  onSave?: () => void; // Mod-s: deploy
}

export interface Editor {
  view: EditorView;
  text(): string;
  setText(text: string): void;
  setLanguage(l: Language): void;
  setReadOnly(r: boolean): void;
  // Marks the problem a message locates (deploy-errors.ts) in the text;
  // false when the message names no place. clearProblems removes them.
  showProblem(message: string, severity?: "error" | "warning"): boolean;
  clearProblems(): void;
  destroy(): void;
}

export function createEditor(parent: HTMLElement, o: EditorOptions): Editor {
  const lang = new Compartment();
  const ro = new Compartment();
  const mode = new Compartment();
  const language = (l: Language) => javascript({ typescript: l === "typescript" });
  const readOnly = (r: boolean) => [EditorState.readOnly.of(r), EditorView.editable.of(!r)];
  const extensions: Extension[] = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(highlight),
    bracketMatching(),
    closeBrackets(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    lintGutter(),
    lang.of(language(o.language)),
    ro.of(readOnly(!!o.readOnly)),
    mode.of(EditorView.darkTheme.of(dark())),
    theme,
    EditorView.contentAttributes.of({ "aria-label": o.label }),
    keymap.of([
      ...(o.onSave ? [{ key: "Mod-s", preventDefault: true, run: () => (o.onSave!(), true) }] : []),
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...completionKeymap,
      ...lintKeymap,
      // Tab indents; Escape then Tab (or Ctrl-M) leaves the editor, so the
      // keyboard is never trapped.
      indentWithTab,
    ]),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) o.onChange?.(u.state.doc.toString());
    }),
  ];
  if (o.scope) {
    // One source for the editor's life: the completion plugin tells a
    // source's results apart by the function's identity.
    const data = [{ autocomplete: completionSource(o.scope) }];
    extensions.push(autocompletion({ icons: false }), EditorState.languageData.of(() => data));
  }
  const view = new EditorView({ parent, state: EditorState.create({ doc: o.doc, extensions }) });

  // Follow the portal's mode as the person switches it, or the system does.
  const follow = () => view.dispatch({ effects: mode.reconfigure(EditorView.darkTheme.of(dark())) });
  const observer = new MutationObserver(follow);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  media.addEventListener("change", follow);

  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setLanguage: (l) => view.dispatch({ effects: lang.reconfigure(language(l)) }),
    setReadOnly: (r) => view.dispatch({ effects: ro.reconfigure(readOnly(r)) }),
    showProblem(message, severity = "error") {
      const at = locate(message);
      if (!at) return false;
      const text = view.state.doc.toString();
      const from = offset(text, at.line, at.column);
      // Underline the word at the place, or the character, or (at a line's
      // end) the character before.
      const word = view.state.wordAt(from);
      let to = word && word.from === from ? word.to : Math.min(from + 1, view.state.doc.lineAt(from).to);
      let start = from;
      if (to === start && start > view.state.doc.lineAt(from).from) start--;
      if (to < start) to = start;
      const d: Diagnostic = { from: start, to, severity, message: `Line ${at.line}, column ${at.column}: ${at.message}`, source: "Outlet" };
      view.dispatch(setDiagnostics(view.state, [d]));
      view.dispatch({ selection: { anchor: from }, effects: EditorView.scrollIntoView(from, { y: "center" }) });
      return true;
    },
    clearProblems: () => view.dispatch(setDiagnostics(view.state, [])),
    destroy() {
      observer.disconnect();
      media.removeEventListener("change", follow);
      view.destroy();
    },
  };
}
