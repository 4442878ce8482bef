// The console's shell: sign-in with the admin key, the hash router
// (#/dashboard, #/invites, #/users, #/users/42, #/batches, #/audit) and the notice
// shown when the API refuses the key.
import { api, session, whenKeyRefused, ApiError } from './api.js';
import * as dashboard from './pages/dashboard.js';
import * as invites from './pages/invites.js';
import * as users from './pages/users.js';
import * as batches from './pages/batches.js';
import * as audit from './pages/audit.js';

const pages = { dashboard, invites, users, batches, audit };
const $ = (id) => document.getElementById(id);

function showNotice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

function showSignIn(message) {
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('view').replaceChildren();
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  $('sign-in-error').hidden = !message;
  $('admin-key').value = '';
  $('admin-key').focus();
}

// A key that the server refuses (now or later) ends the session with a
// message saying so, never a blank page.
whenKeyRefused((error) => {
  session.clear();
  showSignIn(`The admin key was refused: ${error.describe()} Check MocaverseAdminKey and type it again.`);
});

// Checks a key with the cheapest admin read before keeping it.
async function signIn(key) {
  session.save(key);
  try {
    await api('GET', 'admin/invite-codes', { query: { limit: 1 } });
  } catch (error) {
    if (error.status === 403) return; // whenKeyRefused has shown the message
    session.clear();
    showSignIn(error.status === 404
      ? 'This server has no admin API at the address the console uses (404): see <meta name="mocaverse-api"> in index.html.'
      : `Could not sign in: ${error instanceof ApiError ? error.describe() : error.message}`);
    return;
  }
  if (!location.hash || location.hash === '#/') location.hash = '#/dashboard'; // hashchange routes
  else route();
}

let rendering = 0;
async function route() {
  if (!session.key) { showSignIn(); return; }
  const [, name = 'dashboard', param] = location.hash.match(/^#\/([a-z]+)(?:\/([^/]+))?/) ?? [];
  const page = pages[name] ?? dashboard;
  $('sign-in').hidden = true;
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  showNotice('');
  for (const link of $('nav').querySelectorAll('a')) {
    if (link.dataset.page === (pages[name] ? name : 'dashboard')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const view = $('view');
  const ticket = ++rendering;
  view.setAttribute('aria-busy', 'true');
  try {
    const content = await page.render(param ? decodeURIComponent(param) : undefined);
    if (ticket !== rendering || !session.key) return; // another page was asked for meanwhile
    view.replaceChildren(content);
    const heading = view.querySelector('h1');
    document.title = `${heading?.textContent ?? 'Console'} – mocaverse console`;
    heading?.focus({ preventScroll: true }); // a screen reader announces the new page
  } catch (error) {
    if (ticket !== rendering || error.status === 403) return;
    view.replaceChildren();
    showNotice(`This page could not be loaded: ${error instanceof ApiError ? error.describe() : error.message}`);
  } finally {
    view.removeAttribute('aria-busy');
  }
}

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('admin-key').value.trim();
  if (key) signIn(key);
});
$('sign-out').addEventListener('click', () => {
  session.clear();
  history.replaceState(null, '', location.pathname);
  showSignIn();
});
window.addEventListener('hashchange', route);
route();
