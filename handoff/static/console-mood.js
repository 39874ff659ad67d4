"use strict";
// The customer's mood (calm / negative / angry, read by the server from each customer message) and
// its trend: a badge on each waiting conversation in the queue and a line in the open conversation's
// context card, with the moods of the customer's latest messages. Both follow the live stream
// ("message" events carry the mood; "ticket_mood" says an angry wait moved up the queue, whose items
// are then put in the server's new order). The card line sits just before the "card-extra" slot,
// which another feature redraws as a whole.
(() => {
  const fl = window.frontline;
  if (!fl) return; // the console did not load
  const m = (name, vars) => fl.t(`mood.${name}`, vars);

  const MOODS = ["calm", "negative", "angry"];
  const LEVEL = { calm: 0, negative: 1, angry: 2 };
  const TRENDS = ["rising", "falling", "steady"];
  const ARROW = { rising: "↑", falling: "↓", steady: "" };
  const HISTORY = 4; // the latest customer moods the card shows (and the server's trend looks at)

  // Queue items by session id; the open conversation's ticket and latest customer moods (oldest first).
  let queue = new Map();
  const card = { ticketId: null, sessionId: null, moods: [], trend: null };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const known = (mood) => (MOODS.includes(mood) ? mood : null);
  const knownTrend = (trend) => (TRENDS.includes(trend) ? trend : "steady");

  /** The trend of a list of moods (oldest first), as the server computes it (core/mood.py). */
  function trendOf(moods) {
    const levels = moods.slice(-HISTORY).map((mood) => LEVEL[mood]);
    if (levels.length < 2) return "steady";
    const earlier = levels.slice(0, -1).reduce((sum, level) => sum + level, 0) / (levels.length - 1);
    const change = levels[levels.length - 1] - earlier;
    if (change >= 0.5) return "rising";
    if (change <= -0.5) return "falling";
    return "steady";
  }

  // ---------------------------------------------------------------- the queue

  function decorate(entry) {
    const { element, mood, trend } = entry;
    if (!element) return;
    let badge = element.querySelector(".badge.mood");
    const shown = known(mood);
    element.classList.toggle("angry-customer", shown === "angry");
    if (!shown) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = el("span", "badge mood");
      (element.querySelector(".item-row") || element).append(badge);
    }
    const direction = knownTrend(trend);
    badge.className = `badge mood mood-${shown} trend-${direction}`;
    badge.textContent = `${m(shown)}${ARROW[direction] ? ` ${ARROW[direction]}` : ""}`;
    badge.title = m("badge_title", { mood: m(shown), trend: m(`trend_${direction}`) });
  }

  fl.on("queue-rendered", ({ items }) => {
    queue = new Map();
    for (const { ticket, element } of items || []) {
      if (!ticket) continue;
      const entry = { element, mood: ticket.mood, trend: ticket.mood_trend };
      queue.set(ticket.session_id, entry);
      decorate(entry);
    }
  });

  // ---------------------------------------------------------------- the card

  function box() {
    let node = document.getElementById("mood-card");
    if (!node) {
      node = el("section", "panel mood-card");
      node.id = "mood-card";
      node.setAttribute("aria-live", "polite");
      fl.slot("card-extra").before(node);
    }
    return node;
  }

  function renderCard() {
    const node = box();
    node.replaceChildren();
    node.hidden = card.ticketId === null;
    if (node.hidden) return;
    const latest = known(card.moods[card.moods.length - 1]);
    const line = el("p", "mood-line");
    line.append(el("span", "mood-label", m("card_title")));
    if (!latest) {
      line.append(el("span", "mood-none", m("none_yet")));
      node.append(line);
      return;
    }
    const trend = knownTrend(card.trend);
    line.append(
      el("span", `mood-value mood-${latest}`, m(latest)),
      el("span", `mood-trend trend-${trend}`, `${ARROW[trend]} ${m(`trend_${trend}`)}`.trim()),
    );
    node.append(line);
    if (card.moods.length > 1) {
      const history = el("ol", "mood-history");
      history.setAttribute("aria-label", m("history"));
      for (const mood of card.moods.slice(-HISTORY)) {
        history.append(el("li", `mood-dot mood-${mood}`, m(mood)));
      }
      node.append(history);
    }
  }

  fl.on("ticket-opened", ({ ticket, details }) => {
    if (!ticket) return;
    const messages = (details && details.messages) || [];
    card.ticketId = ticket.id;
    card.sessionId = ticket.session_id;
    card.moods = messages
      .filter((msg) => msg.author === "customer" && known(msg.mood))
      .map((msg) => msg.mood)
      .slice(-HISTORY);
    if (!card.moods.length && known(ticket.mood)) card.moods = [ticket.mood];
    card.trend = ticket.mood_trend || trendOf(card.moods);
    renderCard();
  });

  fl.on("ticket-closed", ({ ticketId }) => {
    if (ticketId !== card.ticketId) return;
    card.ticketId = card.sessionId = null;
    card.moods = [];
    renderCard();
  });

  // ---------------------------------------------------------------- live updates

  /** An angry wait moved up: the queue's items in the server's new order, their moods refreshed.
   * (The console reloads its queue only on the ticket events it knows; it reuses these items then.) */
  async function reorderQueue() {
    const tickets = await fl.api("GET", "/api/operator/queue");
    for (const ticket of tickets) {
      const entry = queue.get(ticket.session_id);
      if (!entry || !entry.element || !entry.element.parentNode) continue;
      entry.element.parentNode.append(entry.element);
      entry.mood = ticket.mood;
      entry.trend = ticket.mood_trend;
      decorate(entry);
    }
  }

  fl.on("live", ({ kind, data }) => {
    if (kind === "ticket_mood") {
      reorderQueue().catch(() => {}); // the console's own refresh puts it right later
      return;
    }
    if (kind !== "message" || !data || !data.message) return;
    const mood = known(data.message.mood);
    if (data.message.direction !== "in" || !mood) return;
    if (data.session_id === card.sessionId) {
      card.moods = [...card.moods, mood].slice(-HISTORY);
      card.trend = trendOf(card.moods);
      renderCard();
    }
    const entry = queue.get(data.session_id);
    if (entry) {
      // The queue keeps only the latest mood: the trend until its next reload compares with that.
      const before = known(entry.mood);
      if (before !== null && LEVEL[mood] !== LEVEL[before]) {
        entry.trend = LEVEL[mood] > LEVEL[before] ? "rising" : "falling";
      }
      entry.mood = mood;
      decorate(entry);
    }
  });

  fl.on("language-changed", () => {
    for (const entry of queue.values()) decorate(entry);
    renderCard();
  });

  fl.on("signed-in", () => {
    queue = new Map();
    card.ticketId = card.sessionId = null;
    card.moods = [];
    renderCard();
  });
})();
