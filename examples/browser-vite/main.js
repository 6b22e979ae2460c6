// The page: sends notes and searches to the Worker that owns the database, and shows the hits.
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const $ = (id) => document.getElementById(id);
let nextCall = 0;
const pending = new Map();
worker.onmessage = (e) => {
  const { call, result, error } = e.data;
  const p = pending.get(call);
  pending.delete(call);
  if (error) p.reject(new Error(error));
  else p.resolve(result);
};
const ask = (op, arg) =>
  new Promise((resolve, reject) => {
    const call = nextCall++;
    pending.set(call, { resolve, reject });
    worker.postMessage({ call, op, arg });
  });

function show(hits) {
  $("hits").replaceChildren(
    ...hits.map((h) => {
      const li = document.createElement("li");
      li.textContent = `${h.text} `;
      const score = document.createElement("small");
      score.textContent = h.score.toFixed(3);
      li.append(score);
      return li;
    }),
  );
}

$("add").onsubmit = async (e) => {
  e.preventDefault();
  const count = await ask("add", $("note").value);
  $("note").value = "";
  $("status").textContent = `${count} notes`;
};
$("search").onsubmit = async (e) => {
  e.preventDefault();
  show(await ask("search", $("query").value));
};

const count = await ask("open");
$("status").textContent = `${count} notes`;
// For tests and the console: the same calls the forms make.
globalThis.notes = { add: (text) => ask("add", text), search: (q) => ask("search", q) };
