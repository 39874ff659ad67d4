"use strict";
// Agent assist: up to three suggested answers to the open conversation's latest customer message,
// from the bot's own model and the order store (GET /api/operator/tickets/{id}/suggestions).
// One click puts an answer in the reply box for the operator to edit and send; nothing is sent here.
(() => {
  const fl = window.frontline;
  if (!fl) return; // the console did not load: nothing to assist
  const a = (name, vars) => fl.t(`assist.${name}`, vars);

  // What is shown: the ticket, the last answer from the server (null while loading) or an error.
  const view = { ticketId: null, result: null, error: null, request: 0 };

  function root() {
    return fl.slot("assist");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A suggestion's label: the FAQ topic's name, or "Order status". */
  function label(id) {
    if (id === "order_status") return a("order_status");
    const topic = String(id).split("/").pop();
    const key = `assist.topic_${topic}`;
    const text = fl.t(key);
    return text === key ? topic.replace(/_/g, " ") : text;
  }

  function render() {
    const box = root();
    box.replaceChildren();
    if (view.ticketId === null) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const panel = el("section", "assist");
    panel.setAttribute("aria-live", "polite");
    panel.append(el("h3", "assist-title", a("title")));
    if (view.error) {
      panel.append(el("p", "assist-note assist-error", a("failed", { error: view.error })));
    } else if (view.result === null) {
      panel.append(el("p", "assist-note", a("loading")));
    } else if (!view.result.suggestions.length) {
      panel.append(el("p", "assist-note", a(`reason_${view.result.reason || "nothing_confident"}`)));
    } else {
      panel.append(el("p", "assist-hint", a("hint")));
      const list = el("ol", "assist-list");
      for (const suggestion of view.result.suggestions) list.append(item(suggestion));
      panel.append(list);
    }
    box.append(panel);
  }

  function item(suggestion) {
    const li = el("li", "assist-item");
    const button = el("button", "assist-use");
    button.type = "button";
    button.dataset.suggestion = suggestion.id;
    button.title = a("use");
    const head = el("span", "assist-head");
    head.append(el("span", "assist-topic", label(suggestion.id)));
    const percent = Math.round(Number(suggestion.confidence) * 100);
    head.append(el("span", "assist-confidence", a("confidence", { percent })));
    const text = el("span", "assist-text", suggestion.text);
    text.dir = "auto"; // the customer's language, whatever the console's
    button.append(head, text);
    button.addEventListener("click", () => fl.insertReply(suggestion.text, { suggestion: suggestion.id }));
    li.append(button);
    return li;
  }

  /** Asks for the suggestions of a ticket; an answer that arrives after a newer request is dropped. */
  async function load(ticketId) {
    const request = ++view.request;
    if (view.ticketId !== ticketId) view.result = null;
    view.ticketId = ticketId;
    view.error = null;
    if (view.result === null) render();
    try {
      const result = await fl.api("GET", `/api/operator/tickets/${ticketId}/suggestions`);
      if (request !== view.request) return;
      view.result = result;
    } catch (err) {
      if (request !== view.request) return;
      view.error = err && err.message ? err.message : String(err);
    }
    render();
  }

  function clear() {
    view.request += 1;
    view.ticketId = null;
    view.result = null;
    view.error = null;
    render();
  }

  fl.on("ticket-opened", ({ ticket }) => {
    if (ticket && ticket.id) load(ticket.id);
  });

  fl.on("ticket-closed", ({ ticketId }) => {
    if (ticketId === view.ticketId) clear();
  });

  fl.on("live", ({ kind, data }) => {
    if (kind !== "message" || !data || !data.message || view.ticketId === null) return;
    const open = fl.openTicket();
    const fromCustomer = data.message.direction === "in" && data.message.author === "customer";
    if (open && open.id === view.ticketId && open.session_id === data.session_id && fromCustomer) {
      load(view.ticketId);
    }
  });

  fl.on("language-changed", render);
  fl.on("signed-in", clear);
})();
