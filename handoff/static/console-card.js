"use strict";
// The customer card's corrections and keyword alerts.
// Card (slot "card-extra"): the operator handling the open conversation corrects name, phone, address
// and note (PATCH /api/operator/tickets/{id}/customer) and sees every earlier change: who, when,
// old -> new. Alerts: queue items of conversations in which the customer wrote a watched phrase get a
// badge (GET /api/operator/alerts, kept current by "keyword_alert" live events), and a toast tells
// supervisors of every alert and operators of alerts in the queue or in their open conversation.
// Every value that comes from a customer or an operator is inserted as text, with dir="auto".
(() => {
  const fl = window.frontline;
  if (!fl) return; // the console did not load
  const k = (name, vars) => fl.t(`card.${name}`, vars);
  const al = (name, vars) => fl.t(`alerts.${name}`, vars);

  const FIELDS = ["full_name", "phone", "address", "note"];
  const LONG_FIELDS = new Set(["address", "note"]);
  const MAX_LENGTH = { full_name: 200, phone: 40, address: 1000, note: 2000 };
  const TOAST_MS = 15000;
  const ALERTS_REFRESH_MS = 30000; // the flagged list is re-read at most this often on queue renders
  const TOASTS_SHOWN = 4;

  // The open ticket's card: null while loading; `status` says what the last action left to show.
  // `draft` holds what the operator typed while a save is under way or after it failed.
  const view = {
    ticketId: null,
    card: null,
    draft: null,
    denied: false,
    error: null,
    status: null,
    busy: false,
    request: 0,
  };
  // Flagged conversations by session id: {phrases: [{phrase, language}], ticketId}.
  const flagged = new Map();
  let flaggedReadAt = 0;
  let lastQueue = [];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function auto(node) {
    node.dir = "auto";
    return node;
  }

  function message(err) {
    return err && err.message ? err.message : String(err);
  }

  /** The API's moments are UTC; one without an offset is read as UTC too. */
  function when(value) {
    const text = String(value || "");
    const moment = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
    if (Number.isNaN(moment.getTime())) return text;
    return moment.toLocaleString(document.documentElement.lang || undefined, {
      dateStyle: "short",
      timeStyle: "short",
    });
  }

  // ---------------------------------------------------------------- the card

  function render() {
    const box = fl.slot("card-extra");
    box.replaceChildren();
    if (view.ticketId === null) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const panel = el("section", "panel card-edit");
    panel.append(el("h3", "card-edit-title", k("title")));
    const alert = alertLine();
    if (alert) panel.append(alert);
    if (view.denied) {
      panel.append(el("p", "card-edit-note", k("claim_first")));
    } else if (view.error && !view.card) {
      panel.append(el("p", "card-edit-note card-edit-error", k("load_failed", { error: view.error })));
    } else if (!view.card) {
      panel.append(el("p", "card-edit-note", k("loading")));
    } else {
      panel.append(form(view.card), history(view.card.changes || []));
    }
    box.append(panel);
  }

  function form(card) {
    const node = el("form", "card-edit-form");
    node.noValidate = true; // the server says what is wrong, in the operator's words
    for (const field of FIELDS) {
      const id = `card-edit-${field}`;
      const label = el("label", "card-edit-label", k(field));
      label.htmlFor = id;
      const input = auto(el(LONG_FIELDS.has(field) ? "textarea" : "input", "card-edit-input"));
      input.id = id;
      input.name = field;
      input.maxLength = MAX_LENGTH[field];
      if (LONG_FIELDS.has(field)) input.rows = 2;
      else input.type = field === "phone" ? "tel" : "text";
      input.value = view.draft ? view.draft[field] : card[field] || "";
      input.disabled = view.busy;
      node.append(label, input);
      if (field === "phone") node.append(el("p", "card-edit-hint", k("phone_hint")));
    }
    const row = el("div", "card-edit-actions");
    const submit = el("button", "primary", view.busy ? k("saving") : k("save"));
    submit.type = "submit";
    submit.disabled = view.busy;
    row.append(submit);
    if (view.status) {
      const status = el("span", `card-edit-status ${view.status.kind}`, view.status.text);
      status.setAttribute("role", view.status.kind === "error" ? "alert" : "status");
      row.append(status);
    }
    node.append(row);
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      save(node);
    });
    return node;
  }

  function history(changes) {
    const section = el("section", "card-history");
    section.append(el("h4", "", k("history_title")));
    if (!changes.length) {
      section.append(el("p", "card-edit-note", k("no_history")));
      return section;
    }
    const list = el("ol", "card-history-list");
    const arrow = document.documentElement.dir === "rtl" ? "←" : "→";
    for (const change of changes) {
      const item = el("li", "card-history-item");
      const head = el("span", "card-history-head");
      const said = { who: change.operator_name, when: when(change.at), field: k(change.field) };
      head.append(auto(el("span", "", k("change_head", said))));
      const values = el("span", "card-history-values");
      values.append(
        value(change.old_value, "old"),
        el("span", "card-history-arrow", ` ${arrow} `),
        value(change.new_value, "new"),
      );
      item.append(head, values);
      list.append(item);
    }
    section.append(list);
    return section;
  }

  function value(text, which) {
    const known = text !== null && text !== undefined && text !== "";
    const node = el("span", `card-history-value ${which}`, known ? text : k("empty_value"));
    node.classList.toggle("empty", !known);
    return auto(node);
  }

  /** Only what the operator changed goes to the server, so the history holds real changes. */
  async function save(formNode) {
    const typed = {};
    const body = {};
    for (const field of FIELDS) {
      typed[field] = formNode.elements[field].value.trim();
      if (typed[field] !== (view.card[field] || "")) body[field] = typed[field];
    }
    if (!Object.keys(body).length) {
      view.status = { kind: "info", text: k("nothing_changed") };
      render();
      return;
    }
    const ticketId = view.ticketId;
    const request = ++view.request;
    Object.assign(view, { busy: true, status: null, draft: typed });
    render();
    try {
      const card = await fl.api("PATCH", `/api/operator/tickets/${ticketId}/customer`, body);
      if (request !== view.request) return;
      Object.assign(view, { card, draft: null, status: { kind: "ok", text: k("saved") } });
      showOnCard(card);
    } catch (err) {
      if (request !== view.request) return;
      // What the operator typed stays in the form, to be corrected.
      const badPhone = err && err.status === 422 && /^phone:/.test(message(err));
      const why = badPhone ? k("phone_invalid", { phone: typed.phone }) : message(err);
      view.status = { kind: "error", text: k("failed", { error: why }) };
    }
    view.busy = false;
    render();
  }

  /** The console's own card panel shows the name and phone as escalated: it shows the corrected ones. */
  function showOnCard(card) {
    for (const [id, field] of [["customer-name", "full_name"], ["customer-phone", "phone"]]) {
      const node = document.getElementById(id);
      if (node && card[field]) {
        node.textContent = card[field];
        node.classList.remove("unknown");
      }
    }
  }

  async function load(ticketId) {
    const request = ++view.request;
    if (view.ticketId !== ticketId) Object.assign(view, { card: null, draft: null, status: null });
    view.ticketId = ticketId;
    view.denied = false;
    view.error = null;
    view.busy = false;
    render();
    try {
      const card = await fl.api("GET", `/api/operator/tickets/${ticketId}/customer`);
      if (request !== view.request) return;
      view.card = card;
    } catch (err) {
      if (request !== view.request) return;
      // Not handling it (a preview of a queued conversation, or a colleague's): nothing to correct.
      if (err && err.status === 403) view.denied = true;
      else view.error = message(err);
    }
    render();
  }

  function clear() {
    view.request += 1;
    Object.assign(view, { ticketId: null, card: null, draft: null, status: null });
    Object.assign(view, { denied: false, error: null, busy: false });
    render();
  }

  // ---------------------------------------------------------------- keyword alerts

  function phrasesOf(entry) {
    return entry.phrases.map((p) => p.phrase).join(", ");
  }

  function alertLine() {
    const open = fl.openTicket();
    const entry = open && flagged.get(open.session_id);
    if (!entry) return null;
    const line = el("p", "card-alert");
    const said = auto(el("span", "", al("badge_title", { phrases: phrasesOf(entry) })));
    line.append(el("span", "badge alert", al("badge")), " ", said);
    return line;
  }

  function remember(sessionId, ticketId, phrases) {
    const entry = flagged.get(sessionId) || { phrases: [], ticketId: null };
    for (const phrase of phrases) {
      if (!entry.phrases.some((p) => p.phrase === phrase.phrase && p.language === phrase.language)) {
        entry.phrases.push(phrase);
      }
    }
    if (ticketId) entry.ticketId = ticketId;
    flagged.set(sessionId, entry);
  }

  async function readFlagged() {
    flaggedReadAt = Date.now();
    let list;
    try {
      list = await fl.api("GET", "/api/operator/alerts");
    } catch (err) {
      return; // the badges wait for the next refresh
    }
    flagged.clear();
    for (const entry of list) remember(entry.session_id, entry.ticket_id, entry.phrases);
    decorate(lastQueue);
    if (view.ticketId !== null) render();
  }

  function decorate(items) {
    for (const { ticket, element } of items) {
      if (!element) continue;
      const entry = flagged.get(ticket.session_id);
      let badge = element.querySelector(".badge.alert");
      if (!entry) {
        if (badge) badge.remove();
        element.classList.remove("flagged");
        continue;
      }
      if (!badge) {
        badge = el("span", "badge alert");
        const row = element.querySelector(".item-row") || element;
        row.append(badge);
      }
      badge.textContent = al("badge");
      badge.title = al("badge_title", { phrases: phrasesOf(entry) });
      element.classList.add("flagged");
    }
  }

  function toasts() {
    let box = document.getElementById("card-alert-toasts");
    if (!box) {
      box = el("div", "card-alert-toasts");
      box.id = "card-alert-toasts";
      box.setAttribute("aria-live", "assertive");
      document.body.append(box);
    }
    return box;
  }

  /** Supervisors hear of every alert; operators of those in the queue or in their open conversation. */
  function concernsMe(data) {
    const me = fl.operator();
    if (!me) return false;
    if (me.role === "supervisor") return true;
    const open = fl.openTicket();
    if (open && open.session_id === data.session_id) return true;
    return lastQueue.some(({ ticket }) => ticket.session_id === data.session_id);
  }

  function toast(data) {
    const phrases = (data.phrases || []).map((p) => p.phrase).join(", ");
    const note = el("div", "card-alert-toast");
    note.setAttribute("role", "alert");
    note.append(el("strong", "", al("toast_title")));
    const text = data.ticket_id
      ? al("toast_ticket", { ticket: data.ticket_id, phrases })
      : al("toast_bot", { phrases });
    note.append(auto(el("p", "", text)));
    const actions = el("div", "card-alert-toast-actions");
    // The queue's own item opens the conversation, as a click on it would.
    const item = `#queue li[data-ticket-id="${Number(data.ticket_id)}"] .ticket-item`;
    const queued = data.ticket_id ? document.querySelector(item) : null;
    if (queued) {
      const open = el("button", "primary", al("open"));
      open.type = "button";
      open.addEventListener("click", () => {
        note.remove();
        queued.click();
      });
      actions.append(open);
    }
    const dismiss = el("button", "", al("dismiss"));
    dismiss.type = "button";
    dismiss.addEventListener("click", () => note.remove());
    actions.append(dismiss);
    note.append(actions);
    const box = toasts();
    box.prepend(note);
    while (box.children.length > TOASTS_SHOWN) box.lastElementChild.remove();
    setTimeout(() => note.remove(), TOAST_MS);
  }

  // ---------------------------------------------------------------- hooks

  fl.on("ticket-opened", ({ ticket }) => {
    if (ticket && ticket.id) load(ticket.id);
  });

  fl.on("ticket-closed", ({ ticketId }) => {
    if (ticketId === view.ticketId) clear();
  });

  fl.on("queue-rendered", ({ items }) => {
    lastQueue = items || [];
    decorate(lastQueue);
    if (Date.now() - flaggedReadAt > ALERTS_REFRESH_MS) readFlagged();
  });

  fl.on("live", ({ kind, data }) => {
    if (kind !== "keyword_alert" || !data) return;
    remember(data.session_id, data.ticket_id, data.phrases || []);
    decorate(lastQueue);
    if (view.ticketId !== null) render();
    if (concernsMe(data)) toast(data);
  });

  fl.on("language-changed", () => {
    render();
    decorate(lastQueue);
  });

  fl.on("signed-in", () => {
    clear();
    readFlagged();
  });
})();
