// xos live updates, the one script of the pages: it follows the server's
// events (/api/v1/events) and, when an experiment shown on this page is
// re-evaluated, fetches the page again and swaps its live parts
// ([data-live] elements, by id) in place — no reload, scroll kept.
(function () {
  'use strict';
  var status = document.getElementById('live-status');
  if (!document.querySelector('[data-live]') || !window.EventSource) {
    return;
  }
  var busy = false;
  var again = false;

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.href, {
      credentials: 'same-origin',
      headers: { Accept: 'text/html' },
      cache: 'no-store'
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        document.querySelectorAll('[data-live]').forEach(function (old) {
          var replacement = fresh.getElementById(old.id);
          if (replacement) {
            old.replaceWith(document.adoptNode(replacement));
          }
        });
        document.body.setAttribute('data-updated', String(Date.now()));
      })
      .catch(function () { /* the next event retries */ })
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function shown(name) {
    var parts = document.querySelectorAll('[data-live]');
    for (var i = 0; i < parts.length; i++) {
      var live = parts[i].getAttribute('data-live');
      if (live === 'all' || live === name) {
        return true;
      }
    }
    return false;
  }

  var events = new EventSource('/api/v1/events');
  events.onopen = function () {
    if (status) { status.className = 'live-status on'; }
  };
  events.onerror = function () {
    if (status) { status.className = 'live-status off'; }
  };
  ['evaluated', 'failed', 'removed'].forEach(function (kind) {
    events.addEventListener(kind, function (event) {
      var change = JSON.parse(event.data);
      if (shown(change.experiment)) {
        refresh();
      }
    });
  });
  events.addEventListener('lagged', refresh);
})();
