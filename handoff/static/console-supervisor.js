"use strict";
// Supervision in the console, three parts:
// - every operator: an "ask a supervisor" button with a reason (slot "ticket-actions") on a
//   conversation they handle, and supervisors' whispers shown in the open conversation's transcript
//   (fetched when it opens, then from "whisper" live events; never sent to the customer);
// - supervisors: their own view (slot "supervisor-view"): operators' asks until one answers, every
//   operator's status and load, every live conversation, and reading one along with a whisper box,
//   take-over and reassignment. Lists follow the live stream, with a slow refresh as a safety net.
// Everything shown that someone typed is inserted as text with dir="auto".
(() => {
  const fl = window.frontline;
  if (!fl) return; // the console did not load
  const t = (name, vars) => fl.t(`supervisor.${name}`, vars);
  const REFRESH_MS = 15000;
  const TOAST_MS = 10000;
  const STATES = ["bot", "queued", "operator"];
  const ROLES = ["operator", "supervisor"];
  // Live events after which the supervisor's lists are reloaded (shortly, once for a burst).
  const RELOAD_ON = new Set([
    "ticket_queued",
    "ticket_claimed",
    "ticket_closed",
    "operator_status",
    "operator_online",
    "supervisor_asked",
    "supervisor_answered",
  ]);

  const names = new Map(); // operator id -> display name
  const view = { built: false, operators: [], conversations: [], asks: [], reading: null, timer: null, soon: null };
  const open = { ticket: null, whispers: [] }; // the operator's open conversation and its whispers

  function el(tag, className, text, attrs) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  const num = (n) => new Intl.NumberFormat(document.documentElement.lang || undefined).format(n);
  const nameOf = (id) => (id === null || id === undefined ? t("nobody") : names.get(id) || `#${id}`);
  const me = () => fl.operator();
  const isSupervisor = () => Boolean(me() && me().role === "supervisor");

  function clock(at) {
    const date = new Date(at);
    if (Number.isNaN(date.getTime())) return "";
    return date.toLocaleTimeString(document.documentElement.lang || undefined, {
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  async function loadNames() {
    try {
      for (const o of await fl.api("GET", "/api/operator/operators")) names.set(o.id, o.display_name);
    } catch (err) {
      // names fall back to ids
    }
  }

  // ---------------------------------------------------------------- toasts

  function toast(text, kind = "info") {
    let box = document.getElementById("supervision-toasts");
    if (!box) {
      box = el("div", "supervision-toasts", null, { role: "status", "aria-live": "polite" });
      box.id = "supervision-toasts";
      document.body.append(box);
    }
    const note = el("div", `supervision-toast ${kind}`, text, { dir: "auto" });
    note.addEventListener("click", () => note.remove());
    box.append(note);
    setTimeout(() => note.remove(), TOAST_MS);
  }

  // ---------------------------------------------------------------- whispers in the open conversation

  function whisperItem(whisper, className) {
    const item = el("li", `msg msg-whisper ${className || ""}`, null, { "data-whisper-id": whisper.id });
    const meta = el("span", "msg-meta");
    meta.append(el("span", "msg-author", t("whisper_from", { name: whisper.author })));
    meta.append(el("time", "", clock(whisper.at), { datetime: whisper.at }));
    item.append(meta, el("p", "msg-text", whisper.text, { dir: "auto" }));
    return item;
  }

  /** Puts each whisper into the transcript where its time belongs. The console redraws the
   * transcript as it pleases (a refresh, a language change), so this runs after every change. */
  function placeWhispers() {
    const list = document.getElementById("transcript");
    if (!list) return;
    for (const whisper of open.whispers) {
      if (list.querySelector(`[data-whisper-id="${whisper.id}"]`)) continue;
      const later = [...list.children].find((child) => {
        const time = child.querySelector("time");
        return child.dataset.messageId && time && time.getAttribute("datetime") > whisper.at;
      });
      list.insertBefore(whisperItem(whisper), later || null);
    }
  }

  function watchTranscript() {
    const list = document.getElementById("transcript");
    if (!list || list.dataset.whispersWatched) return;
    list.dataset.whispersWatched = "1";
    new MutationObserver(() => {
      if (open.whispers.length) placeWhispers();
    }).observe(list, { childList: true });
  }

  const asWhisper = (note, author) => ({ id: note.id, text: note.text, at: note.at, author });

  async function loadWhispers(ticket) {
    open.ticket = ticket;
    open.whispers = [];
    try {
      const listed = await fl.api("GET", `/api/operator/tickets/${ticket.id}/whispers`);
      if (!open.ticket || open.ticket.id !== ticket.id) return;
      if (listed.some((w) => !names.has(w.author_id))) await loadNames();
      open.whispers = listed.map((w) => asWhisper(w, nameOf(w.author_id)));
      placeWhispers();
    } catch (err) {
      // whispers are extra: the conversation works without them
    }
  }

  function heardWhisper(data) {
    const note = data.note || {};
    if (note.author_id) names.set(note.author_id, note.author_name);
    const whisper = asWhisper(note, note.author_name || nameOf(note.author_id));
    if (open.ticket && open.ticket.id === data.ticket_id) {
      if (!open.whispers.some((w) => w.id === whisper.id)) open.whispers.push(whisper);
      placeWhispers();
    } else if (me() && data.operator_id === me().id) {
      toast(t("whisper_toast", { name: whisper.author, ticket: data.ticket_id, text: whisper.text }));
    }
    if (view.reading && view.reading.ticketId === data.ticket_id) {
      view.reading.list.append(whisperItem(whisper, "sv-whisper"));
    }
  }

  // ---------------------------------------------------------------- "ask a supervisor"

  const ask = { box: null, button: null, form: null, reason: null, status: null };

  function buildAsk() {
    const box = fl.slot("ticket-actions");
    ask.box = el("div", "ask-supervisor");
    ask.button = el("button", "ask-supervisor-button", null, { type: "button" });
    ask.form = el("form", "ask-supervisor-form");
    ask.form.hidden = true;
    ask.label = el("label", "visually-hidden", null, { for: "ask-supervisor-reason" });
    ask.reason = el("input", "", null, { id: "ask-supervisor-reason", maxlength: "500", dir: "auto", required: "" });
    ask.send = el("button", "primary", null, { type: "submit" });
    ask.cancel = el("button", "link", null, { type: "button" });
    ask.status = el("span", "ask-supervisor-status small", null, { role: "status" });
    ask.form.append(ask.label, ask.reason, ask.send, ask.cancel);
    ask.box.append(ask.button, ask.form, ask.status);
    box.append(ask.box);
    ask.button.addEventListener("click", () => {
      ask.form.hidden = false;
      ask.button.hidden = true;
      ask.status.textContent = "";
      ask.reason.focus();
    });
    ask.cancel.addEventListener("click", closeAsk);
    ask.form.addEventListener("submit", sendAsk);
    relabelAsk();
  }

  function relabelAsk() {
    if (!ask.box) return;
    ask.button.textContent = t("ask_button");
    ask.label.textContent = t("ask_reason_label");
    ask.reason.placeholder = t("ask_reason_placeholder");
    ask.reason.title = t("ask_reason_label");
    ask.send.textContent = t("ask_send");
    ask.cancel.textContent = t("ask_cancel");
  }

  function closeAsk() {
    ask.form.hidden = true;
    ask.button.hidden = false;
    ask.reason.value = "";
  }

  /** Only on a live conversation the operator handles. */
  function showAsk() {
    if (!ask.box) return;
    const ticket = fl.openTicket();
    const mine = Boolean(
      ticket && me() && ticket.status === "assigned" && ticket.operator_id === me().id && ticket.kind !== "callback",
    );
    ask.box.hidden = !mine;
    if (!mine) {
      closeAsk();
      ask.status.textContent = "";
    }
  }

  async function sendAsk(event) {
    event.preventDefault();
    const ticket = fl.openTicket();
    const reason = ask.reason.value.trim();
    if (!ticket || !reason) return;
    ask.send.disabled = true;
    try {
      await fl.api("POST", `/api/operator/tickets/${ticket.id}/ask-supervisor`, { reason });
      closeAsk();
      ask.status.textContent = t("ask_sent");
      ask.status.className = "ask-supervisor-status small ok";
    } catch (err) {
      ask.status.textContent = t("failed", { error: err.message });
      ask.status.className = "ask-supervisor-status small error";
    } finally {
      ask.send.disabled = false;
    }
  }

  // ---------------------------------------------------------------- the supervisors' view

  const parts = {};

  function section(className) {
    const node = el("section", `panel ${className}`);
    const heading = el("h2", "sv-heading");
    node.append(heading);
    return [node, heading];
  }

  function buildView() {
    const root = fl.slot("supervisor-view");
    const grid = el("div", "sv-grid");
    [parts.asks, parts.asksHeading] = section("sv-asks");
    parts.asksList = el("ul", "sv-ask-list");
    parts.asksEmpty = el("p", "muted empty");
    parts.asks.append(parts.asksList, parts.asksEmpty);

    [parts.operators, parts.operatorsHeading] = section("sv-operators");
    parts.operatorsTable = el("table", "sv-table");
    parts.operators.append(parts.operatorsTable);

    [parts.conversations, parts.conversationsHeading] = section("sv-conversations");
    parts.conversationsTable = el("table", "sv-table");
    parts.conversationsEmpty = el("p", "muted empty");
    parts.conversations.append(parts.conversationsTable, parts.conversationsEmpty);

    [parts.time, parts.timeHeading] = section("sv-time");
    parts.timeTable = el("table", "sv-table");
    parts.asksToday = el("p", "muted small");
    parts.time.append(parts.timeTable, parts.asksToday);

    [parts.read, parts.readHeading] = section("sv-read");
    parts.readEmpty = el("p", "muted");
    parts.readList = el("ol", "transcript sv-transcript", null, { "aria-live": "polite" });
    parts.whisperForm = el("form", "sv-whisper-form");
    parts.whisperLabel = el("label", "sv-label", null, { for: "sv-whisper-text" });
    parts.whisperText = el("textarea", "", null, { id: "sv-whisper-text", rows: "2", maxlength: "4000", dir: "auto" });
    parts.whisperSend = el("button", "primary", null, { type: "submit" });
    parts.whisperForm.append(parts.whisperLabel, parts.whisperText, parts.whisperSend);
    parts.actions = el("div", "sv-actions");
    parts.takeOver = el("button", "", null, { type: "button" });
    parts.reassignLabel = el("label", "sv-label", null, { for: "sv-reassign-to" });
    parts.reassignTo = el("select", "", null, { id: "sv-reassign-to" });
    parts.reassign = el("button", "", null, { type: "button" });
    parts.actions.append(parts.takeOver, parts.reassignLabel, parts.reassignTo, parts.reassign);
    parts.readStatus = el("p", "sv-status small", null, { role: "status" });
    parts.read.append(parts.readEmpty, parts.readList, parts.whisperForm, parts.actions, parts.readStatus);

    grid.append(parts.asks, parts.operators, parts.conversations, parts.time, parts.read);
    root.replaceChildren(grid);

    parts.whisperForm.addEventListener("submit", sendWhisper);
    parts.takeOver.addEventListener("click", () => takeOver(view.reading && view.reading.ticketId));
    parts.reassign.addEventListener("click", reassign);
    view.built = true;
    relabelView();
  }

  function relabelView() {
    if (!view.built) return;
    parts.asksHeading.textContent = t("asks_heading");
    parts.asksEmpty.textContent = t("asks_empty");
    parts.operatorsHeading.textContent = t("operators_heading");
    parts.conversationsHeading.textContent = t("conversations_heading");
    parts.conversationsEmpty.textContent = t("conversations_empty");
    parts.timeHeading.textContent = t("time_heading");
    parts.readEmpty.textContent = t("read_along_empty");
    parts.whisperLabel.textContent = t("whisper_label");
    parts.whisperText.placeholder = t("whisper_placeholder");
    parts.whisperSend.textContent = t("whisper_send");
    parts.takeOver.textContent = t("take_over");
    parts.reassignLabel.textContent = t("reassign_label");
    parts.reassign.textContent = t("reassign_submit");
    renderAll();
  }

  async function refresh() {
    if (!isSupervisor()) return;
    try {
      const midnight = new Date();
      midnight.setHours(0, 0, 0, 0); // the supervisor's own day
      const since = encodeURIComponent(midnight.toISOString());
      const [operators, conversations, asks, time] = await Promise.all([
        fl.api("GET", "/api/supervisor/operators"),
        fl.api("GET", "/api/supervisor/conversations"),
        fl.api("GET", "/api/supervisor/asks"),
        fl.api("GET", `/api/operator/kpi/operator-time?since=${since}`),
      ]);
      for (const o of operators) names.set(o.id, o.display_name);
      Object.assign(view, { operators, conversations, asks, time });
      renderAll();
    } catch (err) {
      parts.readStatus.textContent = t("failed", { error: err.message });
    }
  }

  function refreshSoon(delay = 300) {
    clearTimeout(view.soon);
    view.soon = setTimeout(refresh, delay);
  }

  function renderAll() {
    renderAsks();
    renderOperators();
    renderConversations();
    renderTime();
    renderReading();
  }

  /** Seconds as hours and minutes (or minutes and seconds), in the console's digits. */
  function duration(seconds, unit = 60) {
    const lang = document.documentElement.lang || undefined;
    const units = Math.round((seconds || 0) / unit);
    const two = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2 });
    return `${new Intl.NumberFormat(lang).format(Math.floor(units / 60))}:${two.format(units % 60)}`;
  }

  /** Today's time per status and operator (the report's days are UTC days: they are added up). */
  function renderTime() {
    const report = view.time;
    if (!report) return;
    const STATUSES = ["available", "break", "after_call_work", "offline"];
    const totals = new Map();
    for (const row of report.status_time) {
      const sum = totals.get(row.operator_id) || {};
      for (const [status, seconds] of Object.entries(row.seconds)) sum[status] = (sum[status] || 0) + seconds;
      totals.set(row.operator_id, sum);
    }
    const rows = [...totals.entries()].map(([operatorId, sum]) => {
      const row = el("tr", "sv-time-row", null, { "data-operator-id": operatorId });
      row.append(el("td", "", nameOf(operatorId), { dir: "auto" }));
      row.append(...STATUSES.map((status) => el("td", "num", duration(sum[status]), { "data-status": status })));
      return row;
    });
    table(parts.timeTable, [t("col_name"), ...STATUSES.map((status) => fl.t(`status.${status}`))], rows);
    const asks = report.supervisor_asks.reduce(
      (all, day) => ({
        asked: all.asked + day.asked,
        answered: all.answered + day.acknowledged + day.taken_over,
        waited: all.waited + (day.mean_answer_seconds || 0) * (day.acknowledged + day.taken_over),
      }),
      { asked: 0, answered: 0, waited: 0 },
    );
    parts.asksToday.textContent = t("asks_today", {
      asked: num(asks.asked),
      answered: num(asks.answered),
      wait: asks.answered ? duration(asks.waited / asks.answered, 1) : t("nobody"), // m:ss
    });
  }

  function renderAsks() {
    parts.asksEmpty.hidden = view.asks.length > 0;
    parts.asksList.replaceChildren(
      ...view.asks.map((a) => {
        const item = el("li", "sv-ask", null, { "data-ask-id": a.ask_id });
        item.append(el("span", "sv-ask-from", t("ask_from", { operator: nameOf(a.operator_id), ticket: a.ticket_id })));
        item.append(el("time", "muted small", clock(a.asked_at), { datetime: a.asked_at }));
        item.append(el("p", "sv-ask-reason", a.reason, { dir: "auto" }));
        const row = el("div", "sv-ask-actions");
        const read = el("button", "link", t("read_along"), { type: "button" });
        read.addEventListener("click", () => readAlong(a.session_id));
        const ack = el("button", "", t("acknowledge"), { type: "button" });
        ack.addEventListener("click", () => act(ack, () => fl.api("POST", `/api/supervisor/asks/${a.ask_id}/acknowledge`)));
        const take = el("button", "primary", t("take_over"), { type: "button" });
        take.addEventListener("click", () => takeOver(a.ticket_id));
        row.append(read, ack, take);
        item.append(row);
        return item;
      }),
    );
  }

  function table(node, heads, rows) {
    const head = el("tr");
    head.append(...heads.map((h) => el("th", "", h, { scope: "col" })));
    const body = el("tbody");
    body.append(...rows);
    const thead = el("thead");
    thead.append(head);
    node.replaceChildren(thead, body);
  }

  function renderOperators() {
    const rows = view.operators.map((o) => {
      const row = el("tr", `sv-operator status-${o.status}`, null, { "data-operator-id": o.id });
      row.append(el("td", "", o.display_name, { dir: "auto" }));
      const status = el("td", "sv-status-cell");
      status.append(el("span", `sv-dot status-${o.status}`, null, { "aria-hidden": "true" }));
      status.append(document.createTextNode(fl.t(`status.${o.status}`)));
      row.append(status, el("td", "num", num(o.handling)));
      const roleCell = el("td");
      const role = el("select", "sv-role", null, { "aria-label": `${t("col_role")}: ${o.display_name}` });
      role.append(...ROLES.map((r) => el("option", "", t(`role_${r}`), { value: r })));
      role.value = o.role;
      role.addEventListener("change", () =>
        act(role, () => fl.api("PUT", `/api/supervisor/operators/${o.id}/role`, { role: role.value }), () => {
          role.value = o.role;
        }),
      );
      roleCell.append(role);
      row.append(roleCell);
      return row;
    });
    table(parts.operatorsTable, [t("col_name"), t("col_status"), t("col_handling"), t("col_role")], rows);
  }

  function renderConversations() {
    parts.conversationsEmpty.hidden = view.conversations.length > 0;
    parts.conversationsTable.hidden = view.conversations.length === 0;
    const rows = view.conversations.map((c) => {
      const row = el("tr", `sv-conversation state-${c.state}`, null, { "data-session-id": c.session_id });
      if (view.reading && view.reading.sessionId === c.session_id) row.classList.add("selected");
      row.append(el("td", "", c.customer, { dir: "auto" }));
      row.append(el("td", "", STATES.includes(c.state) ? t(`state_${c.state}`) : c.state));
      row.append(el("td", "", c.channel), el("td", "", c.language));
      row.append(el("td", "", c.ticket ? nameOf(c.ticket.operator_id) : t("nobody"), { dir: "auto" }));
      row.append(el("td", c.open_asks ? "num sv-asking" : "num", c.open_asks ? num(c.open_asks) : ""));
      const cell = el("td");
      const read = el("button", "link", t("read_along"), { type: "button" });
      read.addEventListener("click", () => readAlong(c.session_id));
      cell.append(read);
      row.append(cell);
      return row;
    });
    const heads = ["col_customer", "col_state", "col_channel", "col_language", "col_operator", "col_asks"];
    table(parts.conversationsTable, [...heads.map((h) => t(h)), ""], rows);
  }

  function messageItem(m) {
    const author = ["customer", "bot", "operator", "system"].includes(m.author) ? m.author : "system";
    const item = el("li", `msg msg-${author}`, null, { "data-message-id": m.id });
    const meta = el("span", "msg-meta");
    meta.append(el("span", "msg-author", fl.t(`console.author_${author}`)));
    meta.append(el("time", "", clock(m.at), { datetime: m.at }));
    item.append(meta, el("p", "msg-text", m.text, { dir: "auto" }));
    return item;
  }

  async function readAlong(sessionId) {
    try {
      const found = await fl.api("GET", `/api/supervisor/sessions/${sessionId}`);
      const ticket = found.conversation.ticket;
      view.reading = {
        sessionId,
        conversation: found.conversation,
        ticketId: ticket ? ticket.id : null,
        messageIds: new Set(found.messages.map((m) => m.id)),
        list: parts.readList,
      };
      parts.readList.replaceChildren(...found.messages.map(messageItem));
      for (const note of found.notes.filter((n) => n.kind === "whisper")) {
        const whisper = asWhisper(note, nameOf(note.author_id));
        const later = [...parts.readList.children].find((child) => {
          const time = child.querySelector("time");
          return time && time.getAttribute("datetime") > whisper.at;
        });
        parts.readList.insertBefore(whisperItem(whisper, "sv-whisper"), later || null);
      }
      parts.readStatus.textContent = "";
      renderReading();
      renderConversations();
      parts.readList.scrollTop = parts.readList.scrollHeight;
    } catch (err) {
      parts.readStatus.textContent = t("failed", { error: err.message });
    }
  }

  function renderReading() {
    const reading = view.reading;
    parts.readEmpty.hidden = Boolean(reading);
    parts.readList.hidden = !reading;
    const listed = reading && view.conversations.find((c) => c.session_id === reading.sessionId);
    if (listed) reading.conversation = listed;
    const ticket = reading && reading.conversation.ticket;
    const live = Boolean(ticket && ticket.status !== "closed");
    const talking = Boolean(live && ticket.status === "assigned");
    parts.readHeading.textContent = reading
      ? t("read_along_heading", { session: reading.sessionId, customer: reading.conversation.customer })
      : t("read_along");
    if (reading) reading.ticketId = ticket ? ticket.id : null;
    parts.whisperForm.hidden = !live;
    parts.actions.hidden = !talking;
    if (!talking) return;
    parts.takeOver.disabled = ticket.operator_id === me().id;
    const others = view.operators.filter((o) => o.id !== ticket.operator_id);
    const chosen = parts.reassignTo.value;
    parts.reassignTo.replaceChildren(
      ...others.map((o) => el("option", "", `${o.display_name} · ${fl.t(`status.${o.status}`)}`, { value: o.id })),
    );
    if (others.some((o) => String(o.id) === chosen)) parts.reassignTo.value = chosen;
  }

  /** Runs an action with its button disabled; an error is shown, then the lists are reloaded. */
  async function act(control, run, onError) {
    control.disabled = true;
    try {
      const result = await run();
      parts.readStatus.textContent = "";
      return result;
    } catch (err) {
      parts.readStatus.textContent = t("failed", { error: err.message });
      toast(t("failed", { error: err.message }), "error");
      if (onError) onError();
      return null;
    } finally {
      control.disabled = false;
      refreshSoon();
    }
  }

  async function sendWhisper(event) {
    event.preventDefault();
    const text = parts.whisperText.value.trim();
    const ticketId = view.reading && view.reading.ticketId;
    if (!text || !ticketId) return;
    const sent = await act(parts.whisperSend, () =>
      fl.api("POST", `/api/supervisor/tickets/${ticketId}/whisper`, { text }),
    );
    if (sent) {
      parts.whisperText.value = "";
      parts.readStatus.textContent = t("whisper_sent");
    }
  }

  async function takeOver(ticketId) {
    if (!ticketId) return;
    const taken = await act(parts.takeOver, () => fl.api("POST", `/api/supervisor/tickets/${ticketId}/take-over`));
    if (taken) toast(t("taken_over", { ticket: ticketId }), "ok");
  }

  async function reassign() {
    const ticketId = view.reading && view.reading.ticketId;
    const to = Number(parts.reassignTo.value);
    if (!ticketId || !to) return;
    const moved = await act(parts.reassign, () =>
      fl.api("POST", `/api/supervisor/tickets/${ticketId}/reassign`, { to_operator_id: to }),
    );
    if (moved) toast(t("reassigned", { ticket: ticketId, name: nameOf(to) }), "ok");
  }

  function heardMessage(data) {
    const reading = view.reading;
    if (!reading || data.session_id !== reading.sessionId || !data.message) return;
    if (reading.messageIds.has(data.message.id)) return;
    reading.messageIds.add(data.message.id);
    const list = parts.readList;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(messageItem(data.message));
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- wiring

  fl.on("signed-in", () => {
    watchTranscript();
    if (!ask.box) buildAsk();
    showAsk();
    loadNames();
    clearInterval(view.timer);
    if (!isSupervisor()) return;
    if (!view.built) buildView();
    refresh();
    // Once this console's own stream is open, the supervisor's own status is no longer "offline".
    setTimeout(refresh, 2000);
    view.timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
  });
  fl.on("ticket-opened", ({ ticket }) => {
    showAsk();
    if (!open.ticket || open.ticket.id !== ticket.id) loadWhispers(ticket);
  });
  fl.on("ticket-closed", () => showAsk());
  fl.on("language-changed", () => {
    relabelAsk();
    relabelView();
  });
  fl.on("live", ({ kind, data }) => {
    if (!data) return;
    if (kind === "whisper") heardWhisper(data);
    // The open conversation may have been taken over or given to someone else.
    if (kind.startsWith("ticket_")) setTimeout(showAsk, 500);
    if (!isSupervisor() || !view.built) return;
    if (kind === "message") heardMessage(data);
    if (kind === "supervisor_asked") {
      toast(t("asked_toast", { operator: nameOf(data.operator_id), reason: data.reason }), "warn");
    }
    // A console that opens sets its operator's status a moment after they count as online.
    if (RELOAD_ON.has(kind)) refreshSoon(kind === "operator_online" ? 1500 : 300);
  });
})();
