"""The audit page's stylesheet and script, inlined into every page.

They are inlined, not served as files or fetched from a CDN, because the page
must work on an offline machine and the page's Content-Security-Policy allows
nothing but itself. They live in a Python module so a wheel install carries them
without package-data rules.

The script reads the pair from `<body data-*>` attributes (never from JSON pasted
into a `<script>`, which untrusted code text could break out of) and talks to the
server's JSON endpoints: `POST /api/verdict {idx, verdict, note}` and
`POST /api/note {idx, note}`. A verdict moves to the next pair only once the
server has stored it, so a failed save is shown and never skipped past.
"""

__all__ = ["PAGE_CSS", "PAGE_JS", "SHORTCUTS"]


SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("a", "agree with the label, next pair"),
    ("d", "disagree with the label, next pair"),
    ("u", "unsure, next pair"),
    ("n", "write a note (Enter saves, Esc leaves)"),
    ("j / →", "next pair"),
    ("k / ←", "previous pair"),
)
"""Key, action: shown on the page and implemented by `PAGE_JS`."""

PAGE_CSS = """
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d1f23; background: #f6f7f9; }
header { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid #d8dbe0;
         padding: 8px 16px; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
header h1 { font-size: 16px; margin: 0; }
#progress { font-weight: 600; font-variant-numeric: tabular-nums; }
main { padding: 12px 16px 48px; }
section { background: #fff; border: 1px solid #d8dbe0; border-radius: 6px; padding: 10px 12px; margin: 0 0 12px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #555; margin: 0 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.criterion { font-size: 18px; font-weight: 700; }
pre.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font: 13px/1.4 ui-monospace, monospace; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.sides section { min-width: 0; }
.hl pre { margin: 0; overflow-x: auto; font: 12.5px/1.4 ui-monospace, monospace; }
.hl .linenos { color: #999; padding-right: 8px; user-select: none; }
.chosen h2, td.chosen { color: #17692e; } .rejected h2, td.rejected { color: #a2231d; }
table { border-collapse: collapse; width: 100%; }
td, th { border-top: 1px solid #e4e6ea; padding: 4px 6px; text-align: left; vertical-align: top; }
.badge { display: inline-block; min-width: 84px; text-align: center; padding: 2px 8px; border-radius: 10px;
         font-weight: 600; background: #e4e6ea; }
.verdict button { font: inherit; padding: 4px 10px; border: 1px solid #bbb; border-radius: 4px; cursor: pointer; }
.verdict input { width: min(520px, 60vw); font: inherit; padding: 3px 6px; }
#status { color: #555; } #status.error { color: #a2231d; font-weight: 600; }
nav.strip { display: flex; flex-wrap: wrap; gap: 2px; }
nav.strip a { width: 18px; height: 18px; font-size: 10px; line-height: 18px; text-align: center; color: #333;
              text-decoration: none; background: #e4e6ea; border-radius: 3px; }
nav.strip a.current { outline: 2px solid #1d1f23; }
.agree, nav.strip a.agree { background: #c9ecd2; color: #125524; }
.disagree, nav.strip a.disagree { background: #f6cdca; color: #7e1a15; }
.unsure, nav.strip a.unsure { background: #f8e4b5; color: #6b4a00; }
kbd { border: 1px solid #bbb; border-bottom-width: 2px; border-radius: 3px; padding: 0 4px; background: #fafafa;
      font: 12px ui-monospace, monospace; }
ul.keys { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
"""

PAGE_JS = """
(() => {
  const body = document.body;
  const idx = body.dataset.idx;
  const pos = Number(body.dataset.pos);
  const total = Number(body.dataset.total);
  const note = document.getElementById("note");
  const status = document.getElementById("status");
  const badge = document.getElementById("verdict");
  const go = (p) => { if (p >= 0 && p < total) location.assign("/?i=" + (p + 1)); };
  const say = (text, error) => { status.textContent = text; status.className = error ? "error" : ""; };

  async function post(url, payload) {
    const response = await fetch(url, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload),
    });
    const data = await response.json().catch(() => ({error: response.statusText}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function show(review) {
    badge.textContent = review.verdict || "no verdict";
    badge.className = "badge " + (review.verdict || "");
    const cell = document.querySelector("nav.strip a.current");
    if (cell) {
      cell.className = "current " + (review.verdict || "");
      cell.textContent = (review.verdict || "").slice(0, 1);
    }
    document.getElementById("reviewed").textContent = review.reviewed;
  }

  async function mark(verdict) {
    say("saving…");
    try {
      const review = await post("/api/verdict", {idx, verdict, note: note.value});
      show(review);
      say("saved " + verdict);
      if (pos + 1 < total) go(pos + 1); else say("saved " + verdict + " — that was the last pair");
    } catch (err) { say("not saved: " + err.message, true); }
  }

  async function saveNote() {
    try { show(await post("/api/note", {idx, note: note.value})); say("note saved"); note.blur(); }
    catch (err) { say("note not saved: " + err.message, true); }
  }

  for (const button of document.querySelectorAll("button[data-verdict]")) {
    button.addEventListener("click", () => mark(button.dataset.verdict));
  }
  note.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); saveNote(); }
    else if (event.key === "Escape") { note.blur(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const actions = {
      a: () => mark("agree"), d: () => mark("disagree"), u: () => mark("unsure"),
      n: () => note.focus(), j: () => go(pos + 1), k: () => go(pos - 1),
      ArrowRight: () => go(pos + 1), ArrowLeft: () => go(pos - 1),
    };
    const action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  });
  body.dataset.ready = "1";
})();
"""
