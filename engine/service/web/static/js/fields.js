// Form controls generated from a process's field descriptions ({name, type, required, pii, values, items, title}),
// and the values typed into them in the shape the API takes.
import { h, uid } from "./dom.js";
import { pick, t } from "./i18n.js";

// ``current``: the case's value, where a control starts from it (a checklist's ticks so far).
export function fieldControl(field, current) {
  const id = uid(`f-${field.name}`);
  const label = pick(field.title || field.name, field.title_en);
  const marks = [];
  if (field.required) marks.push(h("span", { class: "req", "aria-hidden": "true" }, " *"));
  let hint = null;
  if (field.pii) {
    hint = h("span", { id: `${id}-pii`, class: "badge pii", title: t("pii_hint") }, t("pii"));
    marks.push(" ", hint);
  }
  const common = {
    id, name: field.name, required: field.required || undefined,
    "aria-describedby": field.pii ? `${id}-pii` : undefined, "data-type": field.type || "string",
  };
  if (field.type === "checklist") {
    // One checkbox per item in a fieldset whose legend is the field; the value is the ticked items' ids.
    return h("fieldset", { class: "field checklist", "data-type": "checklist", "data-name": field.name },
      h("legend", {}, label, marks),
      (field.items || []).map((item) => {
        const box = uid(`${id}-${item.id}`);
        return h("div", { class: "field-check" },
          h("input", { id: box, type: "checkbox", value: item.id,
            checked: Array.isArray(current) && current.includes(item.id) }), " ",
          h("label", { for: box }, pick(item.title, item.title_en)));
      }));
  }
  if (field.type === "bool") {
    return h("div", { class: "field field-check" },
      h("input", { ...common, type: "checkbox", required: undefined }), " ",
      h("label", { for: id }, label, marks));
  }
  let control;
  if (field.type === "enum") {
    control = h("select", common, h("option", { value: "" }, t("choose")),
      (field.values || []).map((v) => h("option", { value: v }, v)));
  } else if (field.type === "number") {
    control = h("input", { ...common, type: "number", step: "any", inputmode: "decimal" });
  } else if (field.type === "datetime") {
    control = h("input", { ...common, type: "datetime-local" });
  } else {
    const phone = /phone|mobile|tel/.test(field.name);
    control = h("input", { ...common, type: phone ? "tel" : "text", autocomplete: "off" });
  }
  return h("div", { class: "field" }, h("label", { for: id }, label, marks), control);
}

// {name: value} of the filled controls of ``form``; empty ones are left out, so "required" is the API's call.
export function readFields(form) {
  // (a checklist's own checkboxes carry no data-type: its fieldset reads them)
  const values = {};
  for (const el of form.querySelectorAll("[data-type]")) {
    const type = el.dataset.type;
    if (type === "checklist") {
      values[el.dataset.name] = [...el.querySelectorAll("input:checked")].map((box) => box.value);
      continue;
    }
    if (type === "bool") {
      values[el.name] = el.checked;
      continue;
    }
    const raw = el.value.trim();
    if (raw === "") continue;
    if (type === "number") values[el.name] = Number(raw);
    else if (type === "datetime") values[el.name] = raw.replace("T", " ");
    else values[el.name] = raw;
  }
  return values;
}
