// The one element builder of every page: text goes in as text, never as HTML from data.

// h("div", {class: "x", onclick: fn, dataset: {k: "v"}}, "text", child, [more], null)
// Attributes that are null, undefined or false are left out; true is an empty attribute;
// a function under an on* name is an event listener.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...kids(children));
  return node;
}

// Replace an element's children, skipping the null and false that conditionals leave behind.
export function fill(node, ...children) {
  node.replaceChildren(...kids(children));
}

function kids(children) {
  return children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : String(c)));
}

// Set a node's text only when it changes (no needless layout on every tick).
export function setText(node, text) {
  const value = text ?? "";
  if (node.textContent !== value) node.textContent = value;
}
