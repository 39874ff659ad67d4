// Operator console: plain JavaScript, no framework. Everything shown that comes from customers or the
// context card is inserted as text (textContent / text nodes), never as HTML, with dir="auto" so each
// customer text keeps its own direction whatever the console's language and direction.
// The console's own texts come from handoff/texts/<lang>/ in the operator's language. Features
// (console-<feature>.js, loaded after this file) build on window.frontline, defined at the end.
"use strict";

(() => {
  const TOKEN_KEY = "frontline.console.token";
  const OPERATOR_KEY = "frontline.console.operator";
  const MINE_KEY = "frontline.console.mine";
  const POLL_MS = 3000; // without the live stream: queue and open ticket every 3 s
  const RESYNC_MS = 30000; // with the live stream: a slow safety refresh in case an event was dropped
  const STREAM_RETRY_MS = [15000, 30000, 60000];
  const ECHO_MS = 4000; // an action of ours must come back on the live stream within this time
  const COLLEAGUES_MS = 4000; // an open transfer dialog reloads who is online this often
  const FIGURES_MS = 30000; // the figures view refreshes this often while it is on screen
  const LANGUAGE_KEY = "frontline.console.language"; // this browser's last console language (log-in form)
  const SUGGESTION_MAX = 80; // the reply body's `suggestion` field is at most this long
  // What the console itself does with live events; /console/config.json lists every kind (features' too).
  const LIVE_KINDS = [
    "ticket_queued",
    "ticket_offered",
    "ticket_claimed",
    "ticket_closed",
    "message",
    "operator_online",
  ];
  // Skills a conversation can always be sent back to the queue for, whatever colleagues list.
  const TOPICS = ["orders", "technical", "billing", "general"];
  // Codes the API sends, each with its text in handoff/texts/<lang>/console.yml ("<prefix><code>").
  const MEDIA_KINDS = ["photo", "document", "voice", "sticker", "video", "audio", "contact"];
  const AUTHORS = ["customer", "bot", "operator", "system"];
  const SESSION_STATES = ["bot", "queued", "operator", "closed"];

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- hooks for the features

  const handlers = new Map(); // event name -> [fn]

  function on(name, fn) {
    if (typeof fn !== "function") throw new TypeError("frontline.on needs a function");
    if (!handlers.has(name)) handlers.set(name, []);
    handlers.get(name).push(fn);
  }

  /** A feature's failing handler is reported (as an uncaught error) but never stops the console. */
  function emit(name, detail) {
    for (const fn of handlers.get(name) || []) {
      try {
        fn(detail);
      } catch (err) {
        if (typeof window.reportError === "function") window.reportError(err);
        else setTimeout(() => {
          throw err;
        });
      }
    }
  }

  function slot(name) {
    const node = document.querySelector(`[data-slot="${CSS.escape(String(name))}"]`);
    if (!node) throw new Error(`no console slot named ${name}`);
    return node;
  }

  // ---------------------------------------------------------------- texts in the operator's language

  const texts = { language: "en", dir: "ltr", map: {}, languages: [], liveKinds: LIVE_KINDS };
  const LANGUAGE_SELECTS = ["console-language", "login-language"]; // the top bar's, the log-in form's
  let chosenAtLogIn = false; // picked on the log-in form: it becomes the operator's own choice

  /** A text by its key ("<area>.<name>"), placeholders filled; the key itself when no file has it. In a
   * right-to-left console each value is isolated, so a number or a Latin name keeps its own order. */
  function t(key, vars) {
    const known = Object.prototype.hasOwnProperty.call(texts.map, key);
    const template = known ? texts.map[key] : String(key);
    if (!vars) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name) => {
      if (vars[name] === undefined || vars[name] === null) return whole;
      const value = String(vars[name]);
      return texts.dir === "rtl" ? `\u2068${value}\u2069` : value;
    });
  }

  /** The console's own texts (area "console"). */
  const c = (name, vars) => t(`console.${name}`, vars);

  /** Elements marked data-t (text), data-t-placeholder / -title / -aria-label / -label (attributes). */
  function applyTexts(root = document) {
    const attributes = ["placeholder", "title", "aria-label", "label"];
    for (const node of root.querySelectorAll("[data-t]")) {
      const key = node.dataset.t;
      if (Object.prototype.hasOwnProperty.call(texts.map, key)) node.textContent = texts.map[key];
    }
    for (const name of attributes) {
      for (const node of root.querySelectorAll(`[data-t-${name}]`)) {
        const key = node.getAttribute(`data-t-${name}`);
        if (Object.prototype.hasOwnProperty.call(texts.map, key)) node.setAttribute(name, texts.map[key]);
      }
    }
  }

  /** Which languages there are and which live events to listen for; the built-in ones if unreachable. */
  async function loadConfig() {
    try {
      const config = await api("GET", "/console/config.json");
      texts.languages = config.languages || [];
      texts.liveKinds = config.live_kinds || LIVE_KINDS;
    } catch (err) {
      texts.languages = [];
    }
    for (const id of LANGUAGE_SELECTS) {
      $(id).replaceChildren(
        ...texts.languages.map((l) =>
          el("option", { text: l.name, attrs: { value: l.code, lang: l.code, dir: l.dir } }),
        ),
      );
      $(id).value = texts.language;
    }
  }

  /** Loads a language's texts and lays the whole page out in its direction. */
  async function useLanguage(language) {
    let loaded;
    try {
      loaded = await api("GET", `/console/texts/${encodeURIComponent(language)}.json`);
    } catch (err) {
      return false; // keep the texts on screen
    }
    texts.language = loaded.language;
    texts.dir = loaded.dir;
    texts.map = loaded.texts || {};
    localStorage.setItem(LANGUAGE_KEY, texts.language);
    document.documentElement.lang = texts.language;
    document.documentElement.dir = texts.dir;
    applyTexts();
    renderFiguresNote(Number($("figures-note").dataset.seconds) || 20);
    for (const id of LANGUAGE_SELECTS) $(id).value = texts.language;
    return true;
  }

  const state = {
    token: null,
    operator: null,
    queue: [], // tickets waiting, each with `since` (ms timestamp, client clock)
    callbacks: [], // open callback tasks (queued or claimed), the ones due first
    callbacksShape: null,
    offers: new Map(), // ticket id -> operator id it is offered to (auto-offer)
    offerBanner: null, // ticket id whose offer the banner shows
    offersShown: new Set(), // offers already announced, so a dismissed banner does not come back
    colleagues: [], // every operator, for transfers and names
    colleaguesAt: 0, // when they were last loaded
    view: "conversations",
    figuresTimer: null,
    figuresRequest: 0, // only the latest figures request may paint
    mine: new Map(), // ticket id -> {id, sessionId, language, summary, unread}
    current: null, // the open ticket
    canned: {},
    stream: null,
    live: false,
    lastEventId: null, // the id of the last live event: a reopened stream first replays what followed it
    streamFailures: 0,
    streamRetryTimer: null,
    pollTimer: null,
    queueTimer: null,
    tickTimer: null,
    mineShape: null,
    echoes: [], // live events our own actions should cause: {matches(kind, data), timer}
    recent: [], // the last live events, as an echo can arrive before the response to the action
    replyOrigin: null, // {ticketId, suggestion} while the reply box holds text that began from a suggestion
    closedTold: new Set(), // tickets the features were told are closed (a close and its echo: told once)
    figuresReport: null, // the last figures shown, redrawn when the language changes
    figuresUpdated: null, // when they arrived
  };

  // ---------------------------------------------------------------- helpers

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
      this.detail = detail;
    }
  }

  /** Builds an element; strings become text, never markup. */
  function el(tag, options = {}, children = []) {
    const node = document.createElement(tag);
    if (options.cls) node.className = options.cls;
    if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
    if (options.auto) node.dir = "auto";
    if (options.attrs) {
      for (const [name, value] of Object.entries(options.attrs)) node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  /** The text for an API code (a reason, a topic, a status); the code made readable when none is written. */
  function coded(prefix, code) {
    const key = `console.${prefix}${code}`;
    return Object.prototype.hasOwnProperty.call(texts.map, key) ? texts.map[key] : humanize(code);
  }

  function setText(id, value, fallback = c("not_known")) {
    const node = $(id);
    const known = value !== null && value !== undefined && String(value).trim() !== "";
    node.textContent = known ? String(value) : fallback;
    node.classList.toggle("unknown", !known);
  }

  /** The API's datetimes are UTC; SQLite returns them without an offset. */
  function parseTime(value) {
    if (!value) return null;
    const text = String(value);
    const date = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function formatTime(value) {
    const date = parseTime(value);
    return date ? date.toLocaleTimeString(texts.language, { hour: "2-digit", minute: "2-digit" }) : "";
  }

  function formatDateTime(value) {
    const date = parseTime(value);
    return date
      ? date.toLocaleString(texts.language, {
          year: "numeric",
          month: "short",
          day: "numeric",
          hour: "2-digit",
          minute: "2-digit",
        })
      : "";
  }

  function formatDuration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, "0");
    return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
  }

  function percent(confidence) {
    if (typeof confidence !== "number" || Number.isNaN(confidence)) return "–";
    const value = confidence * 100;
    if (value > 0 && value < 1) return "<1%";
    return `${Math.round(value)}%`;
  }

  function humanize(code) {
    const text = String(code || "").replace(/_/g, " ").trim();
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function slotValue(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  // ---------------------------------------------------------------- the API

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, "the server cannot be reached");
    }
    if (response.status === 204) return null;
    let payload = null;
    try {
      payload = await response.json();
    } catch (err) {
      payload = null;
    }
    if (!response.ok) {
      const detail = payload && payload.detail;
      const text = Array.isArray(detail) ? detail.join("; ") : detail ? String(detail) : response.statusText;
      throw new ApiError(response.status, text);
    }
    return payload;
  }

  /** What went wrong, in words an operator can act on. */
  function explain(err) {
    const detail = String(err.detail || "");
    switch (err.status) {
      case 0:
        return c("error_unreachable");
      case 401:
        return c("error_session_ended");
      case 403:
        return c("error_not_yours");
      case 404:
        return c("error_gone");
      case 409: {
        if (/already yours/i.test(detail)) return c("error_already_yours");
        if (/closed/i.test(detail)) return c("error_already_closed");
        if (/offered to a colleague/i.test(detail)) return c("error_offered_to_colleague");
        if (/callback task/i.test(detail)) return c("error_callback_task", { detail: detail.replace(/^.*?: /, "") });
        const limit = detail.match(/handle (\d+) sessions/i);
        if (limit) return c("error_limit", { count: limit[1] });
        return c("error_claimed_by_other");
      }
      case 422:
        return c("error_not_accepted", { detail });
      case 503:
        if (/bot/i.test(detail)) return c("error_bot_unreachable");
        return c("error_unavailable");
      default:
        return c("error_other", { status: err.status, detail });
    }
  }

  /** 401 anywhere sends the operator back to the log-in form; other errors go to the banner. */
  function handleError(err) {
    if (err instanceof ApiError && err.status === 401) {
      logOut(c("error_session_ended"));
      return;
    }
    showBanner(err instanceof ApiError ? explain(err) : c("error_script", { detail: err.message }), "error");
  }

  function showBanner(text, kind = "error") {
    const banner = $("banner");
    $("banner-text").textContent = text;
    banner.className = `banner ${kind}`;
    banner.hidden = false;
    $("banner-accept").hidden = true;
    state.offerBanner = null;
  }

  function hideBanner() {
    $("banner").hidden = true;
    $("banner-accept").hidden = true;
    state.offerBanner = null;
  }

  function setConnection(mode) {
    const node = $("connection");
    node.textContent = c(`connection_${mode}`);
    node.className = `connection ${mode}`;
    node.dataset.mode = mode;
  }

  /** Runs a button's action with the button disabled, so a double click does not send twice. */
  async function busy(button, action) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      handleError(err);
    } finally {
      button.disabled = false;
      renderStatus();
    }
  }

  // ---------------------------------------------------------------- log-in / log-out

  async function submitLogin(event) {
    event.preventDefault();
    const login = $("login-name").value.trim();
    const password = $("login-password").value;
    const error = $("login-error");
    error.hidden = true;
    if (!login || !password) {
      error.textContent = c("login_missing");
      error.hidden = false;
      return;
    }
    const button = $("login-submit");
    button.disabled = true;
    try {
      const result = await api("POST", "/api/operator/login", { login, password });
      sessionStorage.setItem(TOKEN_KEY, result.token);
      sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(result.operator));
      $("login-password").value = "";
      startConsole(result.token, result.operator);
    } catch (err) {
      if (err.status === 401) error.textContent = c("login_wrong");
      else if (err.status === 422) error.textContent = c("login_missing");
      else error.textContent = explain(err);
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  function showLogin(message) {
    $("console-view").hidden = true;
    $("login-view").hidden = false;
    const error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("login-name").focus();
  }

  function logOut(message) {
    closeStream();
    for (const timer of [state.pollTimer, state.queueTimer, state.streamRetryTimer]) clearTimeout(timer);
    clearInterval(state.tickTimer);
    clearInterval(state.figuresTimer);
    if ($("transfer-dialog").open) $("transfer-dialog").close();
    Object.assign(state, {
      token: null,
      operator: null,
      queue: [],
      current: null,
      live: false,
      pollTimer: null,
      queueTimer: null,
      streamRetryTimer: null,
      tickTimer: null,
      callbacks: [],
      callbacksShape: null,
      offerBanner: null,
      colleagues: [],
      colleaguesAt: 0,
      figuresTimer: null,
      lastEventId: null,
      replyOrigin: null,
      figuresReport: null,
      figuresUpdated: null,
    });
    state.mine.clear();
    state.offers.clear();
    state.offersShown.clear();
    state.mineShape = null;
    for (const key of [TOKEN_KEY, OPERATOR_KEY, MINE_KEY]) sessionStorage.removeItem(key);
    showLogin(message);
  }

  function startConsole(token, operator) {
    state.token = token;
    state.operator = operator;
    // The operator's own language wins over this browser's last one, unless they just picked one.
    const language = operator.console_language;
    if (chosenAtLogIn && language !== texts.language) {
      storeLanguage(texts.language).catch(backgroundError);
    } else if (language && language !== texts.language) {
      useLanguage(language).then((changed) => changed && relabel());
    }
    chosenAtLogIn = false;
    state.streamFailures = 0;
    hideBanner();
    $("login-view").hidden = true;
    $("console-view").hidden = false;
    $("operator-name").textContent = operator.display_name || operator.login;
    closeTicket();
    showView("conversations");
    restoreMine();
    loadCanned();
    loadColleagues();
    state.tickTimer = setInterval(tick, 1000);
    // "connecting" until the stream opens or fails; the console polls meanwhile all the same.
    setConnection("connecting");
    connectStream();
    schedulePoll(0);
    $("tab-supervisor").hidden = operator.role !== "supervisor";
    emit("signed-in", { operator });
  }

  // ---------------------------------------------------------------- live stream, with polling as fallback

  async function connectStream() {
    if (!state.token) return;
    if (!("EventSource" in window)) {
      setConnection("polling");
      return;
    }
    closeStream();
    // The stream's URL carries a single-use ticket, never the log-in token (URLs land in logs).
    let ticket;
    try {
      ticket = (await api("POST", "/api/operator/events/ticket")).ticket;
    } catch (err) {
      if (state.token && $("connection").dataset.mode === "connecting") setConnection("polling");
      retryStreamLater();
      return;
    }
    if (!state.token) return; // logged out meanwhile
    // A new EventSource does not send Last-Event-ID by itself: the URL says where to resume.
    const resume = state.lastEventId;
    const from = resume ? `&last_event_id=${encodeURIComponent(resume)}` : "";
    const url = `/api/operator/events?ticket=${encodeURIComponent(ticket)}${from}`;
    const source = new EventSource(url);
    state.stream = source;
    source.addEventListener("open", () => {
      if (state.stream !== source) return;
      state.live = true;
      setConnection("live");
      // A first stream: catch up on anything that happened before it was open. A resumed one
      // replays what it missed, or sends `resync` when it cannot.
      if (!resume) schedulePoll(0);
    });
    source.addEventListener("resync", () => {
      if (state.stream !== source) return;
      // Too much was missed, or too long ago, to replay: reload everything the console shows.
      schedulePoll(0);
      restoreMine();
      loadColleagues();
    });
    source.addEventListener("error", () => {
      if (state.stream !== source) return;
      const wasLive = state.live;
      state.live = false;
      setConnection("polling");
      if (wasLive) schedulePoll(0);
      // A dropped stream would be reopened with its used ticket: open a new one instead, at once
      // when it had been live; after a refusal (an expired log-in), later, polling meanwhile.
      if (source.readyState !== EventSource.OPEN) {
        closeStream();
        if (wasLive) {
          clearTimeout(state.streamRetryTimer);
          state.streamRetryTimer = setTimeout(connectStream, 1000);
        } else {
          retryStreamLater();
        }
      }
    });
    for (const kind of texts.liveKinds) {
      source.addEventListener(kind, (event) => {
        if (state.stream !== source) return;
        if (event.lastEventId) state.lastEventId = event.lastEventId;
        let data;
        try {
          data = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        state.streamFailures = 0; // it delivers: a later failure starts the back-off afresh
        if (LIVE_KINDS.includes(kind)) onLiveEvent(kind, data);
        emit("live", { kind, data, id: event.lastEventId || null });
      });
    }
  }

  function closeStream() {
    if (state.stream) state.stream.close();
    state.stream = null;
    state.live = false;
    for (const echo of state.echoes) clearTimeout(echo.timer);
    state.echoes = [];
    state.recent = [];
  }

  /** Retries the stream later, with a growing pause; polling carries on meanwhile. */
  function retryStreamLater() {
    const delay = STREAM_RETRY_MS[Math.min(state.streamFailures, STREAM_RETRY_MS.length - 1)];
    state.streamFailures += 1;
    clearTimeout(state.streamRetryTimer);
    state.streamRetryTimer = setTimeout(connectStream, delay);
  }

  /**
   * A stream can be open and still deliver nothing (a buffering proxy, a server-side fault). Our own
   * actions must come back on it: when one does not within ECHO_MS, stop trusting it and poll.
   */
  function expectEcho(matches) {
    if (!state.live || state.recent.some((e) => matches(e.kind, e.data))) return;
    const echo = { matches, timer: null };
    echo.timer = setTimeout(() => {
      state.echoes = state.echoes.filter((e) => e !== echo);
      if (!state.live) return;
      console.warn("the live stream did not deliver our own update; polling instead");
      closeStream();
      setConnection("polling");
      schedulePoll(0);
      retryStreamLater();
    }, ECHO_MS);
    state.echoes.push(echo);
  }

  function settleEchoes(kind, data) {
    state.echoes = state.echoes.filter((echo) => {
      if (!echo.matches(kind, data)) return true;
      clearTimeout(echo.timer);
      return false;
    });
  }

  function onLiveEvent(kind, data) {
    state.recent = [...state.recent.slice(-49), { kind, data }];
    settleEchoes(kind, data);
    const current = state.current;
    if (kind === "message") {
      if (current && current.sessionId === data.session_id) {
        addMessages([data.message]);
      } else if (data.message && data.message.direction === "in") {
        for (const item of state.mine.values()) {
          if (item.sessionId === data.session_id) item.unread = true;
        }
        renderMine();
      }
      return;
    }
    if (kind === "operator_online") {
      loadColleagues(); // who is online matters for transfers
      return;
    }
    if (kind === "ticket_offered") noteOffer(data.ticket_id, data.operator_id);
    refreshQueueSoon();
    if (current && current.id === data.ticket_id) {
      if (kind === "ticket_closed") ticketClosed(data.ticket_id);
      refreshTicket();
    } else if (kind === "ticket_closed") {
      forgetMine(data.ticket_id);
      ticketClosed(data.ticket_id);
    } else if (kind === "ticket_claimed" && [undefined, state.operator.id].includes(data.operator_id)) {
      // Claimed here in another tab, or handed over by a colleague: list it under my conversations.
      api("GET", `/api/operator/tickets/${data.ticket_id}`)
        .then((details) => {
          const known = state.mine.has(data.ticket_id);
          rememberMine(details.ticket);
          const item = state.mine.get(data.ticket_id);
          if (item && !known) {
            item.unread = true;
            renderMine();
          }
        })
        .catch(backgroundError);
    }
  }

  function schedulePoll(delay) {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(runPoll, delay);
  }

  async function runPoll() {
    state.pollTimer = null;
    if (!state.token) return;
    try {
      await Promise.all([refreshQueue(), refreshTicket()]);
    } finally {
      if (state.token && state.pollTimer === null) schedulePoll(state.live ? RESYNC_MS : POLL_MS);
    }
  }

  function refreshQueueSoon() {
    clearTimeout(state.queueTimer);
    state.queueTimer = setTimeout(refreshQueue, 150);
  }

  /** Background refreshes stay quiet: only a lost connection or an ended session is worth saying. */
  function backgroundError(err) {
    if (err instanceof ApiError && err.status === 401) {
      logOut(c("error_session_ended"));
    } else if (err instanceof ApiError && err.status === 0) {
      setConnection("offline");
    }
  }

  // ---------------------------------------------------------------- the queue

  async function refreshQueue() {
    if (!state.token) return;
    let tickets;
    let callbacks;
    try {
      [tickets, callbacks] = await Promise.all([
        api("GET", "/api/operator/queue"),
        api("GET", "/api/operator/callbacks"),
      ]);
    } catch (err) {
      backgroundError(err);
      return;
    }
    if (!state.token) return;
    if (!state.live && $("connection").dataset.mode !== "connecting") setConnection("polling");
    const known = new Map(state.queue.map((t) => [t.id, t.since]));
    const now = Date.now();
    // Callback tasks have their own list: they are calls to make, not customers waiting in a chat.
    state.queue = tickets
      .filter((t) => t.kind !== "callback")
      .map((t) => ({ ...t, since: known.get(t.id) ?? now - t.waiting_seconds * 1000 }));
    state.callbacks = callbacks;
    state.offers = new Map(state.queue.filter((t) => t.offered_to).map((t) => [t.id, t.offered_to]));
    renderQueue();
    renderCallbacks();
    settleOfferBanner();
  }

  /** Items are kept and updated in place, so focus and hover survive the refreshes. */
  function renderQueue() {
    const list = $("queue");
    const existing = new Map([...list.children].map((li) => [Number(li.dataset.ticketId), li]));
    const items = state.queue.map((ticket) => {
      const li = existing.get(ticket.id) || queueItem(ticket.id);
      updateQueueItem(li, ticket);
      return li;
    });
    items.forEach((li, index) => {
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    });
    for (const li of [...list.children].slice(items.length)) li.remove();
    $("queue-count").textContent = String(state.queue.length);
    $("queue-empty").hidden = state.queue.length > 0;
    tick();
    emit("queue-rendered", { items: state.queue.map((ticket, index) => ({ ticket, element: items[index] })) });
  }

  function queueItem(id) {
    const button = el("button", { cls: "ticket-item", attrs: { type: "button", "data-ticket-id": id } }, [
      el("span", { cls: "item-row" }, [
        el("span", { cls: "wait" }),
        el("span", { cls: "badge priority" }),
        el("span", { cls: "badge channel", auto: true }),
        el("span", { cls: "badge lang", auto: true }),
        el("span", { cls: "badge offer" }),
      ]),
      el("span", { cls: "reason", auto: true }),
      el("span", { cls: "summary", auto: true }),
    ]);
    button.addEventListener("click", () => openTicket(id));
    const accept = el("button", {
      cls: "primary accept",
      text: c("accept"),
      attrs: { type: "button", "data-accept-id": id, title: c("accept_title") },
    });
    accept.addEventListener("click", () => acceptOffer(id));
    return el("li", { attrs: { "data-ticket-id": id } }, [button, accept]);
  }

  function updateQueueItem(li, ticket) {
    const part = (cls) => li.querySelector(`.${cls}`);
    const wait = part("wait");
    wait.dataset.since = String(ticket.since);
    wait.textContent = formatDuration(Date.now() - ticket.since);
    const priority = part("priority");
    priority.hidden = !(ticket.priority > 0);
    priority.textContent = c("priority_badge", { priority: ticket.priority });
    part("channel").textContent = ticket.channel || "?";
    part("lang").textContent = ticket.language;
    part("reason").textContent = coded("reason_", ticket.reason);
    li.querySelector(".accept").textContent = c("accept");
    li.querySelector(".accept").title = c("accept_title");
    part("summary").textContent = ticket.summary;
    const button = li.firstElementChild;
    // Servers that know the operator's skills and languages say whether the ticket fits them.
    const outside = ticket.matches_me === false;
    button.classList.toggle("outside", outside);
    if (outside) button.title = c("outside_skills");
    else button.removeAttribute("title");
    if (state.current && state.current.id === ticket.id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    updateOffer(li, ticket.id);
  }

  // ---------------------------------------------------------------- auto-offers

  /** Who a waiting ticket is reserved for: "me", "colleague" or null. */
  function offerOf(ticketId) {
    const to = state.offers.get(ticketId);
    if (!to || !state.operator) return null;
    return to === state.operator.id ? "me" : "colleague";
  }

  function updateOffer(li, ticketId) {
    const offer = offerOf(ticketId);
    const badge = li.querySelector(".offer");
    badge.hidden = offer === null;
    badge.textContent = offer === "me" ? c("offered_to_you") : c("offered_to_colleague");
    badge.classList.toggle("offer-mine", offer === "me");
    li.firstElementChild.classList.toggle("offered", offer === "me");
    li.querySelector(".accept").hidden = offer !== "me";
  }

  /** A live `ticket_offered` event: mark the ticket at once, and tell the operator if it is theirs. */
  function noteOffer(ticketId, operatorId) {
    state.offers.set(ticketId, operatorId);
    state.offersShown.delete(ticketId);
    const li = $("queue").querySelector(`li[data-ticket-id="${Number(ticketId)}"]`);
    if (li) updateOffer(li, ticketId);
    if (operatorId === state.operator.id) showOfferBanner(ticketId);
    else if (state.offerBanner === ticketId) hideBanner();
  }

  function showOfferBanner(ticketId) {
    const ticket = state.queue.find((t) => t.id === ticketId);
    const text = ticket
      ? c("offer_banner_about", { id: ticketId, reason: coded("reason_", ticket.reason), language: ticket.language })
      : c("offer_banner", { id: ticketId });
    showBanner(text, "offer");
    $("banner-accept").hidden = false;
    state.offerBanner = ticketId;
    state.offersShown.add(ticketId);
  }

  /** The offer banner goes once its ticket was taken or offered to someone else; an offer found by a
   * refresh (after a reload, or an event that overtook the fetch) is announced once. */
  function settleOfferBanner() {
    const id = state.offerBanner;
    if (id !== null && (!state.queue.some((t) => t.id === id) || offerOf(id) !== "me")) hideBanner();
    if (!$("banner").hidden) return;
    const unseen = state.queue.find((t) => offerOf(t.id) === "me" && !state.offersShown.has(t.id));
    if (unseen) showOfferBanner(unseen.id);
  }

  async function acceptOffer(id) {
    hideBanner();
    await openTicket(id);
    if (state.current && state.current.id === id) claim();
  }

  function tick() {
    const now = Date.now();
    for (const node of document.querySelectorAll("[data-since]")) {
      node.textContent = formatDuration(now - Number(node.dataset.since));
    }
    renderCallbacks(); // a task booked for later becomes due; unchanged lists are left alone
    // Who is online can change unseen (a live event missed while the stream reconnected).
    if ($("transfer-dialog").open && now - state.colleaguesAt > COLLEAGUES_MS) loadColleagues();
  }

  // ---------------------------------------------------------------- my conversations (claimed here)

  function restoreMine() {
    state.mine.clear();
    try {
      for (const item of JSON.parse(sessionStorage.getItem(MINE_KEY) || "[]")) {
        state.mine.set(item.id, { ...item, unread: false });
      }
    } catch (err) {
      sessionStorage.removeItem(MINE_KEY);
    }
    renderMine();
    // Drop what was closed or taken back meanwhile.
    for (const id of [...state.mine.keys()]) {
      api("GET", `/api/operator/tickets/${id}`)
        .then((details) => rememberMine(details.ticket))
        .catch((err) => {
          if (err.status === 404) forgetMine(id);
          else backgroundError(err);
        });
    }
  }

  function saveMine() {
    const items = [...state.mine.values()].map(({ id, sessionId, language, summary }) => ({
      id,
      sessionId,
      language,
      summary,
    }));
    sessionStorage.setItem(MINE_KEY, JSON.stringify(items));
  }

  function rememberMine(ticket) {
    const ours = ticket.status === "assigned" && state.operator && ticket.operator_id === state.operator.id;
    if (!ours) {
      forgetMine(ticket.id);
      return;
    }
    const before = state.mine.get(ticket.id);
    state.mine.set(ticket.id, {
      id: ticket.id,
      sessionId: ticket.session_id,
      language: ticket.language,
      summary: ticket.summary,
      unread: before ? before.unread : false,
    });
    saveMine();
    renderMine();
  }

  function forgetMine(id) {
    if (state.mine.delete(id)) {
      saveMine();
      renderMine();
    }
  }

  function renderMine() {
    const items = [...state.mine.values()];
    const shape = JSON.stringify([items, state.current && state.current.id]);
    if (shape === state.mineShape) return; // unchanged: keep the elements (and focus) as they are
    state.mineShape = shape;
    $("mine-section").hidden = items.length === 0;
    $("mine").replaceChildren(
      ...items.map((item) => {
        const button = el(
          "button",
          { cls: "ticket-item mine-item", attrs: { type: "button", "data-ticket-id": item.id } },
          [
            el("span", { cls: "item-row" }, [
              el("span", { cls: "ticket-no", text: `#${item.id}` }),
              el("span", { cls: "badge lang", text: item.language, auto: true }),
              item.unread ? el("span", { cls: "badge unread", text: c("unread") }) : null,
            ]),
            el("span", { cls: "summary", text: item.summary, auto: true }),
          ],
        );
        if (state.current && state.current.id === item.id) button.setAttribute("aria-current", "true");
        button.addEventListener("click", () => openTicket(item.id));
        return el("li", {}, [button]);
      }),
    );
  }

  // ---------------------------------------------------------------- callback tasks

  /** Due now (or overdue) versus booked for later, e.g. for when the contact centre opens. */
  function isDue(ticket) {
    const due = parseTime(ticket.callback_after);
    return !due || due.getTime() <= Date.now();
  }

  /** A due time in the operator's own time zone; the date only when it is not today. */
  function formatDue(value) {
    const date = parseTime(value);
    if (!date) return c("due_now_short");
    const today = new Date().toDateString() === date.toDateString();
    return today ? formatTime(value) : formatDateTime(value);
  }

  function callbackOwner(ticket) {
    if (ticket.status !== "assigned") return null;
    return state.operator && ticket.operator_id === state.operator.id ? "yours" : "claimed";
  }

  function renderCallbacks() {
    const items = state.callbacks.map((t) => ({ ticket: t, due: isDue(t) }));
    const shape = JSON.stringify([items, state.current && state.current.id]);
    if (shape === state.callbacksShape) return;
    state.callbacksShape = shape;
    $("callbacks").replaceChildren(...items.map(({ ticket, due }) => callbackItem(ticket, due)));
    $("callbacks-count").textContent = String(items.length);
    $("callbacks-empty").hidden = items.length > 0;
  }

  function callbackItem(ticket, due) {
    const owner = callbackOwner(ticket);
    const at = formatDue(ticket.callback_after);
    const when = due ? c("due_since", { time: at }) : c("due_from", { time: at });
    const cls = `ticket-item callback-item ${due ? "due" : "later"}`;
    // A phone number reads left-to-right even among Arabic or Persian text.
    const button = el("button", { cls, attrs: { type: "button", "data-ticket-id": ticket.id } }, [
      el("span", { cls: "item-row" }, [
        el("span", { cls: "phone", text: ticket.callback_phone || c("no_number"), attrs: { dir: "ltr" } }),
        el("span", { cls: `badge ${due ? "due" : "later"}`, text: due ? c("badge_due") : c("badge_later") }),
        el("span", { cls: "badge lang", text: ticket.language, auto: true }),
        owner ? el("span", { cls: `badge owner owner-${owner}`, text: c(`owner_${owner}`) }) : null,
      ]),
      el("span", { cls: "when", text: when, auto: true }),
      el("span", { cls: "reason", text: coded("reason_", ticket.reason), auto: true }),
      el("span", { cls: "summary", text: ticket.summary, auto: true }),
    ]);
    if (state.current && state.current.id === ticket.id) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => openTicket(ticket.id));
    return el("li", { attrs: { "data-ticket-id": ticket.id } }, [button]);
  }

  /** tel: takes digits and a leading plus; anything else in the stored number is presentation. */
  function telHref(phone) {
    const digits = asciiDigits(String(phone || "")).replace(/[^\d+]/g, "");
    return digits ? `tel:${digits}` : null;
  }

  /** Arabic-Indic and Persian digits to 0-9, so a dialler understands the number. */
  function asciiDigits(text) {
    return text.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) & 0xf));
  }

  // ---------------------------------------------------------------- the open ticket

  function closeTicket() {
    state.current = null;
    $("ticket-body").hidden = true;
    $("ticket-placeholder").hidden = false;
  }

  async function openTicket(id) {
    if (state.current && state.current.id === id) return;
    hideBanner();
    state.current = {
      id,
      sessionId: null,
      ticket: null,
      sessionState: null,
      messageIds: new Set(),
      noteIds: new Set(),
      cardShown: false,
    };
    $("ticket-placeholder").hidden = true;
    $("ticket-body").hidden = false;
    $("ticket-heading").textContent = c("heading_conversation", { id });
    $("ticket-status").textContent = c("loading");
    for (const listId of ["transcript", "notes", "slots", "intents", "customer-orders", "canned"]) {
      $(listId).replaceChildren();
    }
    $("reply-text").value = "";
    $("note-text").value = "";
    state.replyOrigin = null;
    const item = state.mine.get(id);
    if (item) item.unread = false;
    renderQueue();
    renderMine();
    renderCallbacks();
    renderStatus();
    await refreshTicket({ loud: true });
  }

  async function refreshTicket(options = {}) {
    const current = state.current;
    if (!current || !state.token) return;
    let details;
    try {
      details = await api("GET", `/api/operator/tickets/${current.id}`);
    } catch (err) {
      if (state.current !== current) return;
      if (err.status === 404) {
        forgetMine(current.id);
        closeTicket();
        showBanner(explain(err));
      } else if (options.loud) {
        handleError(err);
      } else {
        backgroundError(err);
      }
      return;
    }
    if (state.current !== current) return; // the operator opened another ticket meanwhile
    const before = current.ticket;
    const ticket = details.ticket;
    const taken = ticket.status === "assigned" && ticket.operator_id !== state.operator.id;
    if (before && before.status === "queued" && taken && $("banner").hidden) {
      showBanner(c("claimed_by_other_banner"), "info");
    }
    current.ticket = details.ticket;
    current.sessionId = details.ticket.session_id;
    current.sessionState = details.session_state;
    current.details = details;
    const opened = !current.cardShown;
    if (opened) {
      renderCard(details.card || {}, details.ticket);
      renderCanned(details.ticket.language);
      current.cardShown = true;
    }
    const messages = details.messages.length ? details.messages : cardTranscript(details.card || {});
    addMessages(messages);
    addNotes(details.notes);
    if (state.mine.has(current.id) || details.ticket.operator_id === state.operator.id) {
      rememberMine(details.ticket);
    }
    renderStatus();
    if (opened) emit("ticket-opened", { ticket: details.ticket, details });
    if (ticket.status === "closed" && before && before.status !== "closed") ticketClosed(ticket.id);
  }

  /** Features hear of a close once, whether the close, its live echo or a refresh told the console. */
  function ticketClosed(ticketId) {
    if (state.closedTold.has(ticketId)) return;
    if (state.closedTold.size > 500) state.closedTold.clear();
    state.closedTold.add(ticketId);
    emit("ticket-closed", { ticketId });
  }

  /** The card's frozen transcript, used only when the live one is empty. */
  function cardTranscript(card) {
    return (card.transcript || []).map((m, index) => ({ ...m, id: `card-${index}` }));
  }

  function renderCard(card, ticket) {
    const session = card.session || {};
    const customer = card.customer || {};
    const what = ticket.kind === "callback" ? "callback" : "conversation";
    $("ticket-heading").textContent = customer.full_name
      ? c(`heading_${what}_named`, { id: ticket.id, name: customer.full_name })
      : c(`heading_${what}`, { id: ticket.id });
    $("ticket-heading").dir = "auto";
    setText("card-reason", coded("reason_", card.reason || ticket.reason));
    setText("card-topic", coded("topic_", card.topic || ticket.topic));
    setText("card-summary", card.summary || ticket.summary, c("no_summary"));
    setText("card-channel", session.channel || ticket.channel);
    setText("card-language", session.language || ticket.language);
    setText("card-priority", String(ticket.priority));
    setText("card-started", formatDateTime(session.started_at || ticket.created_at));
    const dialogueError = $("card-dialogue-error");
    dialogueError.hidden = !card.dialogue_error;
    dialogueError.textContent = card.dialogue_error
      ? c("dialogue_error", { detail: card.dialogue_error })
      : "";

    setText("customer-name", customer.full_name);
    setText("customer-phone", customer.phone);
    setText("customer-key", customer.key);
    setText("customer-language", customer.language);
    setText("customer-since", formatDateTime(customer.since));
    const orders = customer.orders || [];
    $("customer-orders").replaceChildren(
      ...(orders.length
        ? orders.map((order) =>
            el("li", { cls: "order" }, [
              el("span", { cls: "order-head" }, [
                el("span", { cls: "order-no", text: c("order_number", { number: order.number }), auto: true }),
                el("span", { cls: "badge", text: coded("order_status_", order.status), auto: true }),
              ]),
              el("span", { cls: "order-line", text: order.tariff, auto: true }),
              el("span", { cls: "order-line", text: order.address, auto: true }),
              el("span", {
                cls: "order-line muted",
                text: c("order_dates", { visit: order.visit_date || "?", ordered: formatDateTime(order.created_at) }),
              }),
            ]),
          )
        : [el("li", { cls: "muted", text: c("no_orders") })]),
    );

    const slots = Object.entries(card.slots || {});
    $("slots").replaceChildren(
      ...(slots.length
        ? slots.flatMap(([name, value]) => [
            el("dt", { text: name, auto: true }),
            el("dd", { text: slotValue(value), auto: true }),
          ])
        : [el("dd", { cls: "muted whole-row", text: c("no_slots") })]),
    );

    const intents = card.intents || [];
    $("intents").replaceChildren(
      ...(intents.length
        ? intents.map((entry) => {
            const others = (entry.ranking || [])
              .filter((r) => r.intent !== entry.intent)
              .map((r) => `${r.intent} ${percent(r.confidence)}`)
              .join(", ");
            return el("li", { cls: "intent" }, [
              el("span", { cls: "intent-head" }, [
                el("span", { cls: "intent-name", text: entry.intent || c("unknown_intent"), auto: true }),
                el("span", { cls: "confidence", text: percent(entry.confidence) }),
              ]),
              el("span", { cls: "intent-text", text: entry.text || "", auto: true }),
              others
                ? el("span", { cls: "intent-others muted", text: c("intent_others", { others }), auto: true })
                : null,
            ]);
          })
        : [el("li", { cls: "muted", text: c("no_intents") })]),
    );
  }

  function addMessages(messages) {
    const current = state.current;
    if (!current) return;
    const list = $("transcript");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    let added = false;
    for (const message of messages) {
      if (!message || current.messageIds.has(message.id)) continue;
      current.messageIds.add(message.id);
      added = true;
      const author = AUTHORS.includes(message.author) ? message.author : "system";
      const item = el("li", { cls: `msg msg-${author}`, attrs: { "data-message-id": message.id } }, [
        el("span", { cls: "msg-meta" }, [
          el("span", { cls: "msg-author", text: c(`author_${author}`) }),
          el("time", { text: formatTime(message.at), attrs: { datetime: message.at || "" } }),
        ]),
        el("p", { cls: "msg-text", text: message.text, auto: true }),
        ...payloadParts(message),
      ]);
      // Keep id order even if a live event overtakes a fetch.
      const next =
        typeof message.id === "number"
          ? [...list.children].find((child) => Number(child.dataset.messageId) > message.id)
          : null;
      list.insertBefore(item, next || null);
    }
    if (added && atBottom) list.scrollTop = list.scrollHeight;
  }

  function addNotes(notes) {
    const current = state.current;
    if (!current) return;
    const list = $("notes");
    for (const note of notes) {
      if (current.noteIds.has(note.id)) continue;
      current.noteIds.add(note.id);
      const mine = state.operator && note.operator_id === state.operator.id;
      const who = mine ? c("note_by_me") : c("note_by_colleague", { name: colleagueName(note.operator_id) });
      list.append(
        el("li", { cls: "note", attrs: { "data-note-id": note.id } }, [
          el("span", { cls: "msg-meta" }, [
            el("span", { text: who }),
            el("time", { text: formatDateTime(note.at), attrs: { datetime: note.at || "" } }),
          ]),
          el("p", { cls: "note-text", text: note.text, auto: true }),
        ]),
      );
    }
  }

  /** The status line and which buttons make sense now. */
  function renderStatus() {
    const current = state.current;
    const ticket = current && current.ticket;
    const mine = Boolean(ticket && ticket.status === "assigned" && ticket.operator_id === state.operator.id);
    const callback = Boolean(ticket && ticket.kind === "callback");
    if (ticket) renderStatusLine(current, ticket, mine);
    renderCallbackPanel(callback ? ticket : null);
    const loaded = Boolean(ticket);
    $("claim").disabled = !loaded || ticket.status !== "queued";
    // A callback task has no live chat: no reply box, nothing to give back to the bot (the API says 409).
    $("return-to-bot").hidden = callback;
    $("composer").hidden = callback;
    $("return-to-bot").disabled = !mine;
    $("transfer").disabled = !mine;
    $("close").disabled = !mine;
    $("disposition").disabled = !mine;
    $("reply-text").disabled = !mine;
    $("reply-submit").disabled = !mine;
    $("reply-text").placeholder = mine ? c("reply_placeholder") : c("reply_placeholder_claim");
    for (const button of $("canned").querySelectorAll("button")) button.disabled = !mine;
    $("note-text").disabled = !loaded;
    $("note-submit").disabled = !loaded;
  }

  function renderStatusLine(current, ticket, mine) {
    const status = $("ticket-status");
    status.replaceChildren();
    status.className = `status status-${ticket.status}`;
    if (ticket.status === "queued" && ticket.kind === "callback") {
      status.append(isDue(ticket) ? c("status_call_now") : c("status_call_from", { time: formatDue(ticket.callback_after) }));
    } else if (ticket.status === "queued") {
      const queued = state.queue.find((t) => t.id === ticket.id);
      const since = queued ? queued.since : Date.now() - ticket.waiting_seconds * 1000;
      const wait = el("span", { text: formatDuration(Date.now() - since), attrs: { "data-since": since } });
      // The ticking time goes where the language puts it: "{wait}" marks its place in the text.
      const [before, after] = c("status_waiting").split("{wait}");
      status.append(before, wait, after === undefined ? "" : after);
    } else if (mine) {
      status.append(c("status_yours"));
    } else if (ticket.status === "assigned") {
      status.append(c("status_claimed_by", { name: colleagueName(ticket.operator_id) }));
    } else {
      status.append(c("status_closed"));
    }
    const offer = ticket.status === "queued" ? offerOf(ticket.id) : null;
    if (offer) status.append(c("status_separator"), offer === "me" ? c("status_offered_to_you") : c("status_offered_to_colleague"));
    status.append(c("status_separator"));
    if (ticket.kind === "callback") {
      status.append(c("status_callback_task"));
    } else if (SESSION_STATES.includes(current.sessionState)) {
      status.append(c(`customer_${current.sessionState}`));
    } else {
      status.append(c("customer_unknown", { state: current.sessionState || "?" }));
    }
  }

  /** For a callback the number to call is the main thing on the screen. */
  function renderCallbackPanel(ticket) {
    $("callback-panel").hidden = !ticket;
    if (!ticket) return;
    const link = $("callback-phone");
    const href = telHref(ticket.callback_phone);
    link.textContent = ticket.callback_phone || c("no_number_left");
    if (href) link.setAttribute("href", href);
    else link.removeAttribute("href");
    const due = isDue(ticket) ? c("callback_due_now") : c("callback_due_from", { time: formatDue(ticket.callback_after) });
    const closed = ticket.status === "closed";
    const what = closed ? c("callback_done") : due;
    $("callback-due").textContent = `${what}${c("status_separator")}${ticket.language}`;
  }

  // ---------------------------------------------------------------- canned replies

  async function loadCanned() {
    try {
      state.canned = (await api("GET", "/console/canned-replies.json")) || {};
    } catch (err) {
      state.canned = {};
    }
    if (state.current && state.current.ticket) renderCanned(state.current.ticket.language);
  }

  function renderCanned(language) {
    const code = String(language || "en").toLowerCase();
    const replies = state.canned[code] || state.canned[code.split("-")[0]] || state.canned.en || [];
    $("canned").replaceChildren(
      ...replies.map((reply) => {
        const button = el("button", {
          cls: "canned-reply",
          text: reply.title,
          auto: true,
          attrs: { type: "button", title: reply.text },
        });
        button.addEventListener("click", () => {
          const box = $("reply-text");
          box.value = reply.text;
          state.replyOrigin = null;
          box.focus();
        });
        return button;
      }),
    );
    renderStatus();
  }

  // ---------------------------------------------------------------- actions

  function claim() {
    const current = state.current;
    if (!current) return;
    busy($("claim"), async () => {
      try {
        const ticket = await api("POST", `/api/operator/tickets/${current.id}/claim`);
        expectEcho((kind, data) => kind === "ticket_claimed" && data.ticket_id === ticket.id);
        current.ticket = ticket;
        rememberMine(ticket);
        hideBanner();
      } catch (err) {
        if (err.status === 409) {
          showBanner(explain(err));
        } else {
          throw err;
        }
      } finally {
        await Promise.all([refreshQueue(), refreshTicket()]);
      }
      const claimed = state.current === current && current.ticket;
      if (claimed && claimed.status === "assigned" && claimed.operator_id === state.operator.id) {
        emit("ticket-opened", { ticket: claimed, details: current.details });
      }
    });
  }

  /** A feature's text in the reply box, for the operator to edit and send; the send names where it began. */
  function insertReply(text, meta) {
    const box = $("reply-text");
    box.value = String(text);
    const suggestion = meta && meta.suggestion ? String(meta.suggestion).slice(0, SUGGESTION_MAX) : null;
    state.replyOrigin = state.current && suggestion ? { ticketId: state.current.id, suggestion } : null;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  /** The suggestion the text being sent began from, if it did (and the box was not emptied since). */
  function replySuggestion(ticketId) {
    const origin = state.replyOrigin;
    return origin && origin.ticketId === ticketId ? origin.suggestion : null;
  }

  function sendReply(event) {
    event.preventDefault();
    const current = state.current;
    const box = $("reply-text");
    const text = box.value.trim();
    if (!current || !text) {
      box.focus();
      return;
    }
    const suggestion = replySuggestion(current.id);
    busy($("reply-submit"), async () => {
      const body = suggestion ? { text, suggestion } : { text };
      const message = await api("POST", `/api/operator/tickets/${current.id}/messages`, body);
      if (state.replyOrigin && state.replyOrigin.suggestion === suggestion) state.replyOrigin = null;
      expectEcho((kind, data) => kind === "message" && data.message && data.message.id === message.id);
      if (state.current === current) {
        if (box.value.trim() === text) box.value = "";
        addMessages([message]);
        $("transcript").scrollTop = $("transcript").scrollHeight;
      }
    });
  }

  function addNote(event) {
    event.preventDefault();
    const current = state.current;
    const box = $("note-text");
    const text = box.value.trim();
    if (!current || !text) {
      box.focus();
      return;
    }
    busy($("note-submit"), async () => {
      const note = await api("POST", `/api/operator/tickets/${current.id}/notes`, { text });
      if (state.current === current) {
        if (box.value.trim() === text) box.value = "";
        addNotes([note]);
      }
    });
  }

  function closeConversation() {
    const current = state.current;
    if (!current) return;
    const disposition = $("disposition").value;
    busy($("close"), async () => {
      await api("POST", `/api/operator/tickets/${current.id}/close`, { disposition });
      expectEcho((kind, data) => kind === "ticket_closed" && data.ticket_id === current.id);
      forgetMine(current.id);
      const label = coded("disposition_", disposition);
      showBanner(c("closed_banner", { id: current.id, disposition: label }), "info");
      await refreshTicket();
    });
  }

  function returnToBot() {
    const current = state.current;
    if (!current) return;
    busy($("return-to-bot"), async () => {
      await api("POST", `/api/operator/tickets/${current.id}/return-to-bot`);
      forgetMine(current.id);
      showBanner(c("returned_banner", { id: current.id }), "info");
      await refreshTicket();
    });
  }

  /** Enter sends, Shift+Enter makes a new line; never while an input method is composing. */
  function replyKeys(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  }

  // ---------------------------------------------------------------- colleagues and transfers

  async function loadColleagues() {
    state.colleaguesAt = Date.now();
    try {
      state.colleagues = (await api("GET", "/api/operator/operators")) || [];
    } catch (err) {
      backgroundError(err);
      return;
    }
    if ($("transfer-dialog").open) fillTransferTargets();
  }

  function colleagueName(id) {
    const found = state.colleagues.find((c) => c.id === id);
    return found ? found.display_name || found.login : `#${id}`;
  }

  /** Colleagues (online first, never myself), then skills: the four topics plus any a colleague has. */
  function fillTransferTargets() {
    const select = $("transfer-target");
    const previous = select.value;
    const others = state.colleagues
      .filter((c) => !state.operator || c.id !== state.operator.id)
      .sort((a, b) => Number(b.online) - Number(a.online));
    const people = el("optgroup", { attrs: { label: c("transfer_people") } });
    people.append(
      ...others.map((colleague) => {
        const text = c(colleague.online ? "transfer_colleague_online" : "transfer_colleague_offline", {
          name: colleague.display_name || colleague.login,
          login: colleague.login,
        });
        return el("option", { text, auto: true, attrs: { value: `operator:${colleague.login}` } });
      }),
    );
    const skills = el("optgroup", { attrs: { label: c("transfer_skills") } });
    skills.append(
      ...transferTopics().map((topic) =>
        el("option", { text: coded("topic_", topic), attrs: { value: `topic:${topic}` } }),
      ),
    );
    const groups = [...(others.length ? [people] : []), skills];
    // Unchanged: the options stay as they are (an open list is not reset under the operator's pointer).
    const shape = JSON.stringify(groups.map((g) => [g.label, [...g.children].map((o) => [o.value, o.text])]));
    if (shape === select.dataset.shape) return;
    select.dataset.shape = shape;
    select.replaceChildren(...groups);
    if ([...select.options].some((o) => o.value === previous)) select.value = previous;
  }

  function transferTopics() {
    const extra = state.colleagues.flatMap((c) => c.skills || []).filter((t) => t !== "all");
    return [...new Set([...TOPICS, ...extra.sort()])];
  }

  function openTransfer() {
    if (!state.current || !state.current.ticket) return;
    $("transfer-error").hidden = true;
    fillTransferTargets();
    $("transfer-dialog").showModal();
    loadColleagues(); // fresh presence; the list is redrawn when it arrives
  }

  function submitTransfer(event) {
    event.preventDefault();
    const current = state.current;
    const [to, name] = splitTarget($("transfer-target").value);
    if (!current || !to) return;
    const body = to === "operator" ? { to_operator: name } : { to_topic: name };
    busy($("transfer-submit"), async () => {
      try {
        await api("POST", `/api/operator/tickets/${current.id}/transfer`, body);
      } catch (err) {
        if (err.status === 401 || err.status === 0) throw err;
        showTransferError(err);
        return;
      }
      $("transfer-dialog").close();
      forgetMine(current.id);
      const text =
        to === "operator"
          ? c("transferred_to_colleague", { id: current.id, name: colleagueByLogin(name) })
          : c("transferred_to_skill", { id: current.id, skill: coded("topic_", name) });
      showBanner(text, "info");
      await Promise.all([refreshQueue(), refreshTicket()]);
    });
  }

  function splitTarget(value) {
    const at = String(value || "").indexOf(":");
    return at > 0 ? [value.slice(0, at), value.slice(at + 1)] : [null, null];
  }

  function colleagueByLogin(login) {
    const found = state.colleagues.find((c) => c.login === login);
    return found ? found.display_name || login : login;
  }

  /** The API's own words: the operator needs to know exactly why a transfer was refused. */
  function showTransferError(err) {
    const node = $("transfer-error");
    node.textContent = c("transfer_refused", { detail: err.detail || err.status });
    node.hidden = false;
  }

  // ---------------------------------------------------------------- message payloads

  /** What came with a message besides its text: the buttons shown, an attachment. */
  function payloadParts(message) {
    const payload = message.payload;
    if (!payload || typeof payload !== "object") return [];
    return [buttonChips(payload.buttons), attachment(payload.media)].filter(Boolean);
  }

  function buttonChips(buttons) {
    if (!Array.isArray(buttons) || !buttons.length) return null;
    const chips = buttons.map((b) =>
      el("li", {
        cls: "chip",
        text: (b && (b.title || b.payload)) || "?",
        auto: true,
        attrs: { title: c("button_sends", { payload: (b && b.payload) || "" }) },
      }),
    );
    return el("ul", { cls: "chips", attrs: { "aria-label": c("buttons_shown") } }, chips);
  }

  function attachment(media) {
    if (!media || typeof media !== "object") return null;
    const label = MEDIA_KINDS.includes(media.kind) ? c(`media_${media.kind}`) : humanize(media.kind) || c("attachment");
    const about = [media.file_name, media.emoji, media.phone, media.caption].filter((v) => v).join(" · ");
    const parts = [
      el("span", { cls: "attachment-kind", text: label }),
      about ? el("span", { cls: "attachment-about", text: about, auto: true }) : null,
    ];
    if (media.url) {
      const button = el("button", { cls: "link", text: c("download"), attrs: { type: "button" } });
      button.addEventListener("click", () => busy(button, () => download(media)));
      parts.push(button);
    }
    return el("p", { cls: `attachment attachment-${String(media.kind || "file")}` }, parts);
  }

  /**
   * The file is behind the operator API, so it is fetched with the token (a plain link sends none) and
   * handed to the browser as a download: opening customer files inside the console's origin is not safe.
   */
  async function download(media) {
    const url = new URL(String(media.url), window.location.href);
    if (url.origin !== window.location.origin) throw new Error(c("attachment_elsewhere"));
    let response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${state.token}` }, cache: "no-store" });
    } catch (err) {
      throw new ApiError(0, "the server cannot be reached");
    }
    if (!response.ok) {
      throw new ApiError(response.status, c("attachment_failed", { status: response.status }));
    }
    const link = el("a", { attrs: { href: URL.createObjectURL(await response.blob()) } });
    link.download = media.file_name || `${media.kind || "attachment"}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  // ---------------------------------------------------------------- figures

  // Each figure's label is console.figure_<key>.
  const FIGURES = [
    { key: "queue_length", format: count },
    { key: "claimed", format: count },
    { key: "abandoned", format: count },
    { key: "average_speed_of_answer_seconds", format: seconds },
    { key: "average_handle_time_seconds", format: seconds },
    { key: "abandonment_rate", format: ratio },
    { key: "service_level", format: ratio },
    { key: "bot_containment", format: ratio },
    { key: "first_contact_resolution", format: ratio },
    { key: "satisfaction_mean", format: satisfaction },
  ];
  const NO_DATA = "—";

  function count(value) {
    return typeof value === "number" ? value.toLocaleString(texts.language) : NO_DATA;
  }

  function seconds(value) {
    if (typeof value !== "number") return NO_DATA;
    return value < 60 ? c("seconds_short", { seconds: Math.round(value) }) : formatDuration(value * 1000);
  }

  function ratio(value) {
    if (typeof value !== "number") return NO_DATA;
    return value.toLocaleString(texts.language, { style: "percent", maximumFractionDigits: 0 });
  }

  function satisfaction(value, figures) {
    if (typeof value !== "number") return NO_DATA;
    const mean = value.toLocaleString(texts.language, { maximumFractionDigits: 1 });
    return c("satisfaction_value", { mean, count: count(figures.satisfaction_count) });
  }

  const VIEWS = {
    conversations: ["conversations-view", "tab-conversations"],
    figures: ["figures-view", "tab-figures"],
    supervisor: ["slot-supervisor-view", "tab-supervisor"],
  };

  function showView(view) {
    state.view = view;
    const figures = view === "figures";
    for (const [name, [viewId, tabId]] of Object.entries(VIEWS)) {
      $(viewId).hidden = name !== view;
      $(tabId).setAttribute("aria-pressed", String(name === view));
    }
    clearInterval(state.figuresTimer);
    state.figuresTimer = null;
    if (!figures) return;
    loadFigures();
    state.figuresTimer = setInterval(() => {
      if (!document.hidden) loadFigures();
    }, FIGURES_MS);
  }

  /** Local midnight today, or six days before it: what an operator means by "today" and "this week". */
  function figuresQuery() {
    const since = new Date();
    since.setHours(0, 0, 0, 0);
    if ($("figures-period").value === "week") since.setDate(since.getDate() - 6);
    const params = new URLSearchParams({ since: since.toISOString(), group_by: $("figures-group").value });
    return `/api/operator/kpi?${params}`;
  }

  async function loadFigures() {
    if (!state.token || state.view !== "figures") return;
    const request = ++state.figuresRequest;
    const status = $("figures-updated");
    status.textContent = c("figures_updating");
    let report;
    try {
      report = await api("GET", figuresQuery());
    } catch (err) {
      if (request !== state.figuresRequest) return;
      if (err.status === 401) handleError(err);
      status.textContent = c("figures_not_updated", { detail: err instanceof ApiError ? explain(err) : err.message });
      return;
    }
    if (request !== state.figuresRequest) return; // the period or breakdown changed meanwhile
    renderFigures(report);
    state.figuresUpdated = new Date();
    status.textContent = c("figures_updated", { time: state.figuresUpdated.toLocaleTimeString(texts.language) });
  }

  function renderFiguresNote(seconds) {
    $("figures-note").dataset.seconds = String(seconds);
    $("figures-note").textContent = c("figures_note", { seconds });
  }

  function renderFigures(report) {
    state.figuresReport = report;
    renderFiguresNote(report.service_level_seconds);
    $("figures-total").replaceChildren(
      ...FIGURES.map((f) =>
        el("div", { cls: "figure-card", attrs: { "data-figure": f.key } }, [
          el("span", { cls: "figure-label", text: c(`figure_${f.key}`) }),
          el("span", { cls: "figure-value", text: f.format(report.total[f.key], report.total) }),
        ]),
      ),
    );
    const grouped = report.group_by !== "none";
    $("figures-table").hidden = !grouped;
    if (!grouped) return;
    $("figures-head").replaceChildren(
      el("th", { text: coded("group_title_", report.group_by), attrs: { scope: "col" } }),
      ...FIGURES.map((f) => el("th", { text: c(`figure_${f.key}`), attrs: { scope: "col" } })),
    );
    const rows = report.groups.map((g) => figuresRow(groupLabel(report.group_by, g.key), g.key, g.figures));
    const span = { colspan: FIGURES.length + 1 };
    const none = el("td", { cls: "muted", text: c("figures_nothing"), attrs: span });
    $("figures-rows").replaceChildren(
      ...(rows.length ? rows : [el("tr", {}, [none])]),
    );
  }

  function figuresRow(label, key, figures) {
    return el("tr", { attrs: { "data-key": key === null ? "" : key } }, [
      el("th", { text: label, auto: true, attrs: { scope: "row" } }),
      ...FIGURES.map((f) =>
        el("td", { text: f.format(figures[f.key], figures), attrs: { "data-figure": f.key } }),
      ),
    ]);
  }

  function groupLabel(groupBy, key) {
    if (key === null || key === undefined) return coded("group_none_", groupBy);
    if (groupBy === "operator") return colleagueName(Number(key));
    if (groupBy === "topic") return coded("topic_", key);
    return String(key);
  }

  // ---------------------------------------------------------------- start

  /** After a change of language: everything the script wrote is written again in the new one. */
  function relabel() {
    setConnection($("connection").dataset.mode || "connecting");
    state.mineShape = null;
    state.callbacksShape = null;
    if (state.token) {
      renderQueue();
      renderMine();
      renderCallbacks();
    }
    if (state.figuresReport) renderFigures(state.figuresReport);
    if (state.figuresUpdated) {
      $("figures-updated").textContent = c("figures_updated", {
        time: state.figuresUpdated.toLocaleTimeString(texts.language),
      });
    }
    if (state.current && state.current.ticket) fillTransferTargets();
    const current = state.current;
    if (current && current.details) {
      // The card and the transcript are drawn afresh from what was fetched; typed text stays.
      current.messageIds.clear();
      current.noteIds.clear();
      for (const listId of ["transcript", "notes"]) $(listId).replaceChildren();
      renderCard(current.details.card || {}, current.details.ticket);
      const details = current.details;
      addMessages(details.messages.length ? details.messages : cardTranscript(details.card || {}));
      addNotes(details.notes);
    }
    if (state.token) renderStatus();
    emit("language-changed", { language: texts.language });
  }

  async function storeLanguage(language) {
    const operator = await api("PUT", "/api/operator/me/console-language", { language });
    state.operator = { ...state.operator, ...operator };
    sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(state.operator));
  }

  /** The operator's choice is stored for them, then shown; a refused one puts the selector back. */
  async function chooseLanguage(event) {
    const select = event.target;
    const language = select.value;
    if (!state.token) {
      chosenAtLogIn = true;
      if (await useLanguage(language)) relabel();
      return;
    }
    select.disabled = true;
    try {
      await storeLanguage(language);
      if (await useLanguage(language)) relabel();
    } catch (err) {
      select.value = texts.language;
      handleError(err);
    } finally {
      select.disabled = false;
    }
  }

  async function boot() {
    await loadConfig();
    await useLanguage(localStorage.getItem(LANGUAGE_KEY) || "en");
    for (const id of LANGUAGE_SELECTS) $(id).addEventListener("change", chooseLanguage);
    $("tab-supervisor").addEventListener("click", () => showView("supervisor"));
    $("reply-text").addEventListener("input", () => {
      if (!$("reply-text").value.trim()) state.replyOrigin = null;
    });
    $("login-form").addEventListener("submit", submitLogin);
    $("logout").addEventListener("click", () => logOut(c("logged_out")));
    $("banner-close").addEventListener("click", hideBanner);
    $("claim").addEventListener("click", claim);
    $("close").addEventListener("click", closeConversation);
    $("return-to-bot").addEventListener("click", returnToBot);
    $("reply-form").addEventListener("submit", sendReply);
    $("reply-text").addEventListener("keydown", replyKeys);
    $("note-form").addEventListener("submit", addNote);
    $("banner-accept").addEventListener("click", () => {
      if (state.offerBanner !== null) acceptOffer(state.offerBanner);
    });
    $("transfer").addEventListener("click", openTransfer);
    $("transfer-form").addEventListener("submit", submitTransfer);
    $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
    $("tab-conversations").addEventListener("click", () => showView("conversations"));
    $("tab-figures").addEventListener("click", () => showView("figures"));
    $("figures-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadFigures();
    });
    for (const id of ["figures-period", "figures-group"]) $(id).addEventListener("change", loadFigures);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.view === "figures") loadFigures();
    });

    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      showLogin();
      return;
    }
    state.token = token;
    try {
      const operator = await api("GET", "/api/operator/me");
      sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(operator));
      startConsole(token, operator);
    } catch (err) {
      if (err.status === 401) {
        logOut(c("error_session_ended"));
      } else {
        // The server is unreachable for now: keep the token and work from what we knew.
        let operator = null;
        try {
          operator = JSON.parse(sessionStorage.getItem(OPERATOR_KEY) || "null");
        } catch (parseError) {
          operator = null;
        }
        if (operator) {
          startConsole(token, operator);
          showBanner(explain(err));
        } else {
          logOut(explain(err));
        }
      }
    }
  }

  window.frontline = Object.freeze({
    t,
    api,
    on,
    operator: () => state.operator,
    openTicket: () => (state.current && state.current.ticket) || null,
    insertReply,
    slot,
  });

  // Deferred feature scripts run before DOMContentLoaded: they have subscribed before anything happens.
  if (document.readyState === "complete") boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();
