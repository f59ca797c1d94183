// The studio's editor: CodeMirror 6 with YAML, completion and hover from the process JSON Schema, and the
// server's positioned problems as lint marks. The server is the one judge (POST /v1/drafts): the schema
// only helps typing, so the marks and the docked list say exactly what `complaintflow validate` says.
import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { hoverTooltip } from "@codemirror/view";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";
import { stateExtensions } from "codemirror-json-schema";

export function createEditor(parent, { text, schema, onChange, label, nonce }) {
  const extensions = [
    basicSetup,
    yaml(),
    yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
    hoverTooltip(yamlSchemaHover()),
    stateExtensions(schema),
    lintGutter(),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
    }),
    EditorView.contentAttributes.of({ "aria-label": label }),
  ];
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));
  return new EditorView({ parent, state: EditorState.create({ doc: text, extensions }) });
}

// problems: [{line, col, severity, message, hint, rule}] with 1-based line and col, as the API gives.
export function showProblems(view, problems) {
  const doc = view.state.doc;
  const diagnostics = problems.map((p) => {
    const line = doc.line(Math.min(Math.max(1, p.line || 1), doc.lines));
    const from = Math.min(line.from + Math.max(0, (p.col || 1) - 1), line.to);
    const end = from < line.to ? line.to : Math.min(from + 1, doc.length);
    const text = p.hint ? `${p.message} (${p.rule}) — ${p.hint}` : `${p.message} (${p.rule})`;
    return { from, to: end, severity: p.severity === "error" ? "error" : "warning", message: text };
  });
  view.dispatch(setDiagnostics(view.state, diagnostics));
}

export function jumpTo(view, line, column) {
  const doc = view.state.doc;
  const at = doc.line(Math.min(Math.max(1, Number(line) || 1), doc.lines));
  const pos = Math.min(at.from + Math.max(0, (Number(column) || 1) - 1), at.to);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

export function textOf(view) {
  return view.state.doc.toString();
}
