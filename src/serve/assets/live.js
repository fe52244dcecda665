// xos live updates, the one script of the pages: it follows the server's
// events (/api/v1/events) and, when an experiment shown on this page is
// re-evaluated, fetches the page again and swaps its live parts
// ([data-live] elements, by id) in place — no reload, scroll kept. On /try
// it re-evaluates the form as the user types (the same POST /try as the
// Evaluate button) and swaps the results in, leaving the text boxes alone.
(function () {
  'use strict';
  var form = document.getElementById('try-form');
  var results = document.getElementById('try-results');
  if (!form || !results || !window.fetch || !window.FormData) {
    return;
  }
  var timer = null;
  var sent = 0;
  function evaluate() {
    var mine = ++sent;
    fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      credentials: 'same-origin',
      cache: 'no-store'
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== sent) {
          return; // a later edit's answer is on its way
        }
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        var replacement = fresh.getElementById('try-results');
        if (replacement) {
          results.replaceWith(document.adoptNode(replacement));
          results = replacement;
        }
        var spec = document.getElementById('spec');
        var inferred = fresh.getElementById('spec');
        if (spec && inferred && spec.value.trim() === '' && inferred.value.trim() !== '') {
          spec.value = inferred.value;
        }
        document.body.setAttribute('data-evaluated', String(mine));
      })
      .catch(function () { /* the next edit retries */ });
  }
  form.addEventListener('input', function (event) {
    if (event.target && event.target.tagName === 'TEXTAREA') {
      clearTimeout(timer);
      timer = setTimeout(evaluate, 300);
    }
  });
})();

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

  // `id`: the experiment's key in URLs, as the events and data-live carry it.
  function shown(id) {
    var parts = document.querySelectorAll('[data-live]');
    for (var i = 0; i < parts.length; i++) {
      var live = parts[i].getAttribute('data-live');
      if (live === 'all' || live === id) {
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
      if (shown(change.id)) {
        refresh();
      }
    });
  });
  events.addEventListener('lagged', refresh);
})();
