// The dashboard: small modules with no framework and no build step. Every
// piece of text from the server goes into the page through textContent, never
// as HTML, and no element gets an inline handler (the CSP forbids both).
import { activityView } from "/assets/activity.js";
import { dropToken, keepToken, onRefused, token, Unauthorized } from "/assets/api.js";
import { h } from "/assets/dom.js";
import { followEvents, stopEvents } from "/assets/events.js";
import { markFresh, renderList } from "/assets/list.js";
import { renderSession } from "/assets/session.js";

const view = document.getElementById("view");
const live = document.getElementById("live");
const activity = activityView();

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("login-error").textContent = message;
  view.replaceChildren();
  stopEvents();
  activity.stop();
}
onRefused(showLogin);

document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = document.getElementById("token").value.trim();
  const res = await fetch("/admin/status", { headers: { authorization: `Bearer ${value}` } });
  if (!res.ok) {
    document.getElementById("login-error").textContent =
      res.status === 401 ? "That token was refused." : res.status === 403 ? "That token lacks the admin:read scope the dashboard needs." : `The gateway answered ${res.status}.`;
    return;
  }
  keepToken(value);
  document.getElementById("token").value = "";
  start();
});

document.getElementById("logout").addEventListener("click", () => {
  dropToken();
  showLogin();
});

let pending;
function onEvent(e) {
  if (!e || typeof e.id !== "string") return;
  markFresh(e.id);
  const route = location.hash;
  const onSession = route.startsWith("#/s/") ? decodeURIComponent(route.slice(4)) : null;
  if (onSession !== null && onSession !== e.id) return;
  clearTimeout(pending);
  pending = setTimeout(() => {
    if (e.type === "deleted" && onSession === e.id) location.hash = "#/";
    // Not while someone is typing a filter or a message number: re-rendering would take the field from under them.
    else if (!document.activeElement?.closest?.("#filters, .jump")) render();
  }, 250);
}

// Renders overlap (a live update during a click): only the latest may draw, or a slow old answer would replace a newer page.
let renders = 0;

async function render() {
  if (!token()) return showLogin();
  const seq = ++renders;
  const current = () => seq === renders;
  try {
    const route = location.hash;
    if (route.startsWith("#/s/")) await renderSession(view, decodeURIComponent(route.slice(4)), { again: render, current });
    else await renderList(view, { extra: activity.element, again: render, current });
  } catch (err) {
    if (err instanceof Unauthorized || !current()) return;
    view.replaceChildren(h("p", { class: "error", role: "alert" }, err.message), h("p", {}, h("a", { href: "#/" }, "← Sessions")));
  }
}

function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("logout").hidden = false;
  render();
  followEvents(live, onEvent);
  activity.start();
}

// `openclaw gateway` prints a link with the generated token in the fragment, which never reaches
// a server or a Referer; it is taken once and dropped from the address bar and the history.
function takeLinkedToken() {
  const linked = /^#token=([^&]+)$/.exec(location.hash);
  if (!linked) return false;
  keepToken(decodeURIComponent(linked[1]));
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  return true;
}

window.addEventListener("hashchange", () => (takeLinkedToken() ? start() : render()));
takeLinkedToken();
if (token()) start();
else showLogin();
