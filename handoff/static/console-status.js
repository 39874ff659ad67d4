"use strict";
// The operator's own status in the top bar (slot "header-status"): available, on a break, after-call
// work or offline. The server keeps it (PUT /api/operator/me/status): opening the console makes an
// offline operator available, closing it makes them offline, and only an available operator gets
// auto-offers. Changes made elsewhere (another tab) arrive as "operator_status" live events.
(() => {
  const fl = window.frontline;
  if (!fl) return; // the console did not load
  const s = (name, vars) => fl.t(`status.${name}`, vars);
  const STATUSES = ["available", "break", "after_call_work", "offline"];

  let select = null;
  let shown = null; // the status the server last confirmed

  function build() {
    const box = fl.slot("header-status");
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "operator-status";
    select = document.createElement("select");
    select.id = "operator-status";
    select.className = "operator-status";
    select.addEventListener("change", () => choose(select.value));
    box.replaceChildren(label, select);
    relabel();
  }

  function relabel() {
    if (!select) return;
    select.previousElementSibling.textContent = s("label");
    select.title = s("title");
    select.replaceChildren(
      ...STATUSES.map((status) => {
        const option = document.createElement("option");
        option.value = status;
        option.textContent = s(status);
        return option;
      }),
    );
    show(shown);
  }

  function show(status) {
    shown = STATUSES.includes(status) ? status : null;
    if (!select) return;
    select.value = shown || "";
    select.dataset.status = shown || "";
  }

  async function choose(status) {
    select.disabled = true;
    try {
      show((await fl.api("PUT", "/api/operator/me/status", { status })).status);
    } catch (err) {
      show(shown); // back to what the server has
      select.title = s("failed", { error: err.message });
    } finally {
      select.disabled = false;
    }
  }

  /** The server makes an offline operator available once their live stream is open, which is a
   * moment after log-in and before this console hears events: so it asks again until then. */
  async function load(tries = 10) {
    try {
      const status = (await fl.api("GET", "/api/operator/me/status")).status;
      show(status);
      if (status !== "offline" || tries <= 1) return;
    } catch (err) {
      if (tries <= 1) return;
    }
    setTimeout(() => fl.operator() && load(tries - 1), 1000);
  }

  // ---------------------------------------------------------------- colleagues in the transfer list

  const AWAY = ["break", "after_call_work", "offline"];
  let colleagues = { at: 0, byLogin: new Map() };

  async function colleagueStatuses() {
    if (Date.now() - colleagues.at > 3000) {
      const listed = await fl.api("GET", "/api/operator/operators");
      colleagues = { at: Date.now(), byLogin: new Map(listed.map((o) => [o.login, o])) };
    }
    return colleagues.byLogin;
  }

  /** A colleague whose console is open but who is away says so next to their name. */
  async function markAway(list) {
    let byLogin;
    try {
      byLogin = await colleagueStatuses();
    } catch (err) {
      return;
    }
    for (const option of list.querySelectorAll('option[value^="operator:"]')) {
      const colleague = byLogin.get(option.value.slice("operator:".length));
      if (option.dataset.plain === undefined || !option.textContent.startsWith(option.dataset.plain)) {
        option.dataset.plain = option.textContent;
      }
      const away = colleague && colleague.online && AWAY.includes(colleague.status);
      option.textContent = away ? `${option.dataset.plain} · ${s(colleague.status)}` : option.dataset.plain;
      option.dataset.status = colleague ? colleague.status : "";
    }
  }

  function watchTransfers() {
    const list = document.getElementById("transfer-target");
    if (!list || list.dataset.statusWatched) return;
    list.dataset.statusWatched = "1";
    new MutationObserver(() => markAway(list)).observe(list, { childList: true });
  }

  fl.on("signed-in", () => {
    if (!select) build();
    load();
    watchTransfers();
  });
  fl.on("language-changed", relabel);
  fl.on("live", ({ kind, data }) => {
    const me = fl.operator();
    if (kind === "operator_status" && me && data && data.operator_id === me.id) show(data.status);
  });
})();
