// The playground's editor: CodeMirror 6 with the language's intelligence from the compiler's
// WebAssembly build (`preflight-web`, which wraps `preflight-ide`): the parser's own colours,
// diagnostics with their quick fixes, completion and hover. Nothing here knows the language's
// words or an advisory's names: every answer comes from `api` (check, complete, hover,
// highlight), so the editor, the language server and the command line agree.
// web-demo/build.sh bundles this file with esbuild into pkg/editor/editor.js.
import { EditorState, StateEffect, StateField, RangeSetBuilder } from "@codemirror/state";
import {
  Decoration, EditorView, ViewPlugin, crosshairCursor, drawSelection, dropCursor, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, hoverTooltip, keymap, lineNumbers, rectangularSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, startCompletion } from "@codemirror/autocomplete";
import { forEachDiagnostic, forceLinting, linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { bracketMatching } from "@codemirror/language";

/** Replaces the colours (from `api.highlight`); between two answers they follow the edits. */
const setColours = StateEffect.define();

const colours = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setColours)) deco = e.value;
    return deco;
  },
  provide: (field) => EditorView.decorations.from(field),
});

const marks = new Map();
const mark = (cls) => {
  if (!marks.has(cls)) marks.set(cls, Decoration.mark({ class: `cm-pf-${cls}` }));
  return marks.get(cls);
};

/** Asks for the colours a pause after the last edit; a text that does not parse keeps the last ones. */
function highlighter(api) {
  return ViewPlugin.fromClass(class {
    // Not at once: a plugin may not dispatch while the view is being built.
    constructor(view) { this.view = view; this.timer = setTimeout(() => this.run(), 0); }
    update(u) { if (u.docChanged) { clearTimeout(this.timer); this.timer = setTimeout(() => this.run(), 120); } }
    destroy() { clearTimeout(this.timer); }
    run() {
      const answer = JSON.parse(api.highlight(this.view.state.doc.toString()));
      if (!answer.ok) return;
      const builder = new RangeSetBuilder();
      for (const [from, to, cls] of answer.spans) if (to > from) builder.add(from, to, mark(cls));
      this.view.dispatch({ effects: setColours.of(builder.finish()) });
    }
  });
}

/** Diagnostics of the text, each with its quick fix as an action; `onCheck` sees every answer. */
function diagnostics(api, onCheck) {
  return linter((view) => {
    const answer = JSON.parse(api.check(view.state.doc.toString()));
    onCheck?.(answer);
    return answer.diagnostics.map((d, i) => ({
      from: d.from,
      to: Math.max(d.to, d.from),
      severity: d.severity,
      source: d.code,
      message: d.message + (d.help ? `\nhelp: ${d.help}` : ""),
      actions: answer.fixes.filter((f) => f.diagnostic === i).map((f) => ({
        name: f.title,
        apply: (v) => v.dispatch({ changes: { from: f.from, to: f.to, insert: f.text } }),
      })),
    }));
  }, { delay: 150 });
}

/** Applies the first quick fix of a diagnostic under the cursor (Ctrl-. / Cmd-.). */
function applyFixAtCursor(view) {
  const at = view.state.selection.main.head;
  let done = false;
  forEachDiagnostic(view.state, (d, from, to) => {
    if (!done && from <= at && at <= to && d.actions?.length) {
      d.actions[0].apply(view, from, to);
      done = true;
    }
  });
  return done;
}

/** Completion from `api.complete`: ranked as the language intelligence ranks it. */
function completions(api) {
  return (context) => {
    const before = context.state.sliceDoc(Math.max(0, context.pos - 1), context.pos);
    if (!context.explicit && !/[\w.{ ]/.test(before)) return null;
    const answer = JSON.parse(api.complete(context.state.doc.toString(), context.pos));
    if (!answer.items.length) return null;
    // Typing a space opens the list only where a name is wanted right after it.
    if (!context.explicit && before === " " && answer.items.every((i) => i.type === "keyword")) return null;
    const count = answer.items.length;
    return {
      from: answer.from,
      to: answer.to,
      options: answer.items.map((item, rank) => ({
        label: item.label,
        type: item.type,
        detail: item.detail ?? undefined,
        info: item.info ?? undefined,
        // The order given, preferred first: CodeMirror sorts by match, then by boost.
        boost: Math.max(-99, Math.min(99, (item.preferred ? 99 : 0) - Math.round((rank * 40) / count))),
      })),
      validFor: /^[\w.]*$/,
    };
  };
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

/** The little Markdown hover gives: one fenced block, then paragraphs with `code`. */
function renderMarkdown(markdown) {
  const dom = document.createElement("div");
  dom.className = "cm-pf-hover";
  const parts = markdown.split(/```(?:preflight)?\n([\s\S]*?)\n```/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const pre = document.createElement("pre");
      pre.textContent = part;
      dom.append(pre);
    } else if (part.trim()) {
      for (const para of part.trim().split(/\n\n+/)) {
        const p = document.createElement("p");
        p.innerHTML = escapeHtml(para).replace(/`([^`]+)`/g, "<code>$1</code>");
        dom.append(p);
      }
    }
  });
  return dom;
}

function hovers(api) {
  return hoverTooltip((view, pos) => {
    const answer = JSON.parse(api.hover(view.state.doc.toString(), pos));
    if (!answer) return null;
    return { pos: answer.from, end: answer.to, above: true, create: () => ({ dom: renderMarkdown(answer.markdown) }) };
  });
}

const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "13px" },
  ".cm-scroller": { fontFamily: 'ui-monospace, "Cascadia Mono", Consolas, monospace', lineHeight: "1.45" },
  ".cm-pf-hover": { maxWidth: "42rem", padding: "0 .6rem", fontSize: "13px" },
  ".cm-pf-hover pre": { margin: ".4rem 0", whiteSpace: "pre-wrap" },
  ".cm-pf-keyword": { color: "#7a1fa2", fontWeight: "600" },
  ".cm-pf-property": { color: "#005a9c" },
  ".cm-pf-comment": { color: "#5d6b78", fontStyle: "italic" },
  ".cm-pf-doc": { color: "#3d6b36", fontStyle: "italic" },
  ".cm-pf-string": { color: "#a3470a" },
  ".cm-pf-date, .cm-pf-version, .cm-pf-number": { color: "#0b6e4f" },
  ".cm-pf-kb": { color: "#8a1538", fontWeight: "600" },
  ".cm-pf-constant, .cm-pf-level": { color: "#1a5fb4" },
  ".cm-pf-operator": { color: "#444" },
  ".cm-pf-function, .cm-pf-type": { color: "#6d3a9c" },
  ".cm-pf-declaration": { color: "#00507a", fontWeight: "700" },
  ".cm-pf-name-os, .cm-pf-name-product": { color: "#00507a" },
  ".cm-pf-name-fact, .cm-pf-name-group": { color: "#7c4700" },
  ".cm-pf-name-update": { color: "#8a1538" },
});

export { forceLinting, startCompletion };

/**
 * An editor for rules files in `parent`. `api` is the playground package (check, complete, hover,
 * highlight); `onCheck(answer)` is told every check's answer (the page lists the diagnostics).
 */
export function createEditor({ parent, api, doc = "", onCheck, label = "Rules file" }) {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), drawSelection(), dropCursor(),
        EditorState.allowMultipleSelections.of(true), bracketMatching(), closeBrackets(), rectangularSelection(),
        crosshairCursor(), highlightActiveLine(), lintGutter(),
        autocompletion({ override: [completions(api)], icons: true }),
        keymap.of([
          { key: "Mod-.", run: applyFixAtCursor },
          ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap, indentWithTab,
        ]),
        colours, highlighter(api), diagnostics(api, onCheck), hovers(api), theme,
        EditorView.contentAttributes.of({ "aria-label": label, spellcheck: "false" }),
      ],
    }),
  });
}
