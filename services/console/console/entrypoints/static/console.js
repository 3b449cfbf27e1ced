// The officer's referral form, kept on the device until intake has it.
//
// Submitting makes an Idempotency-Key here (crypto.randomUUID) and sends the form with it. Where
// the console's service worker (/sw.js) controls the page, the worker keeps the referral in
// IndexedDB before sending it and sends it again when the signal returns, even with this page
// closed (see sw.js). Where it does not (a browser without service workers, or the very first
// page before the worker took over), this page keeps it in localStorage and sends it again on its
// `online` event. Either way a retry carries the same key, and intake answers a repeated key with
// the referral the first attempt made: never two.
(function () {
  "use strict";
  var KEY = "offramp.pendingReferrals";
  var worker = "serviceWorker" in navigator ? navigator.serviceWorker : null;

  function pending() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(list) { localStorage.setItem(KEY, JSON.stringify(list)); }
  function drop(key) { save(pending().filter(function (p) { return p.key !== key; })); }
  function show(text, kind) {
    var box = document.getElementById("queue-status");
    if (!box) return;
    box.innerHTML = "";
    var p = document.createElement("p");
    p.className = kind || "notice";
    if (kind === "error") p.setAttribute("role", "alert");
    p.textContent = text;
    box.appendChild(p);
  }
  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }
  function controlled() { return !!(worker && worker.controller); }

  // A question to the worker, answered on a channel of its own.
  function ask(message) {
    return new Promise(function (resolve) {
      if (!controlled()) { resolve(null); return; }
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) { resolve(event.data); };
      worker.controller.postMessage(message, [channel.port2]);
    });
  }

  var NO_SIGNAL = "No signal: the referral is saved on this device and will be sent when you are back online.";
  var SIGN_IN = "Please sign in again: the referral stays saved on this device until then.";
  var BUSY = "The service is busy: the referral is saved on this device and will be sent again shortly.";

  // Kept on the device: the form is cleared, so that a second tap cannot make a second referral
  // of the same person under a new key (a refusal puts the answers back).
  function kept(text) {
    show(text);
    var form = document.getElementById("referral-form");
    if (!form) return;
    form.reset();
    prepare(form);
  }

  function made(referralId) {
    window.location.assign("/officer/referrals?made=" + encodeURIComponent(referralId));
  }

  function refused(key, message, fields, byWorker) {
    if (byWorker) ask({ type: "forget", key: key }); else drop(key);
    show(message || "The referral was refused.", "error");
    restore(fields);
  }

  function post(key, body, token) {
    return fetch("/officer/referrals", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Idempotency-Key": key,
        "X-CSRF-Token": token,
        "X-Offline-Queue": "1"
      },
      body: body
    });
  }

  // What the console (or the worker, for it) answered one attempt; true if the referral was
  // made or refused, false if it waits on the device.
  async function answered(key, fields, response, byWorker) {
    if (response.status === 201) {
      if (!byWorker) drop(key);
      made((await response.json()).referral_id);
      return true;
    }
    var answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    if (response.status === 202 && byWorker) {
      kept(answer.kept === "sign-in" ? (answer.message || SIGN_IN) : answer.kept === "busy" ? BUSY : NO_SIGNAL);
      if (answer.kept === "busy") setTimeout(function () { ask({ type: "flush", csrf: csrf() }); }, 5000);
      return false;
    }
    if (response.status === 202) { drop(key); show(NO_SIGNAL); return true; } // the worker took it over
    if (response.redirected || response.status === 401 || response.status === 403 || answer.keep) {
      show(answer.message || SIGN_IN, "error");
      return false;
    }
    if (response.status >= 500 || response.status === 429) {
      show(BUSY);
      setTimeout(flush, 5000);
      return false;
    }
    refused(key, answer.message, fields, byWorker);
    return true;
  }

  // The referrals this page keeps itself (no worker), sent one by one.
  var sending = false;
  async function flush() {
    if (sending) return;
    sending = true;
    try {
      var list = pending();
      for (var i = 0; i < list.length; i++) {
        var item = list[i];
        var response;
        try {
          response = await post(item.key, new URLSearchParams(item.fields).toString(), csrf() || item.csrf);
        } catch (e) {
          kept(NO_SIGNAL);
          return;
        }
        if (!(await answered(item.key, item.fields, response, false))) return;
      }
    } finally {
      sending = false;
    }
  }

  async function submit(fields) {
    var key = fields.idempotency_key;
    if (!controlled()) {
      var list = pending();
      list.push({ key: key, fields: fields, csrf: csrf(), saved_at: new Date().toISOString() });
      save(list);
      return flush();
    }
    var response;
    try {
      response = await post(key, new URLSearchParams(fields).toString(), csrf());
    } catch (e) {
      kept(NO_SIGNAL); // the worker keeps it: it stored the referral before sending
      return;
    }
    await answered(key, fields, response, true);
  }

  function restore(fields) {
    var form = document.getElementById("referral-form");
    if (!form || !fields) return;
    Object.keys(fields).forEach(function (name) {
      var inputs = form.querySelectorAll("[name='" + name + "']");
      inputs.forEach(function (input) {
        if (input.type === "radio" || input.type === "checkbox") input.checked = input.value === fields[name];
        else if (name !== "csrf_token" && name !== "idempotency_key") input.value = fields[name];
      });
    });
    showDoorQuestions(form);
  }
  function fieldsOf(body) {
    var fields = {};
    new URLSearchParams(body).forEach(function (value, name) { fields[name] = value; });
    return fields;
  }

  function prepare(form) {
    form.querySelector("input[name=utc_offset_minutes]").value = String(-new Date().getTimezoneOffset());
    showDoorQuestions(form);
  }

  function showDoorQuestions(form) {
    var door = (form.querySelector("input[name=door]:checked") || {}).value;
    form.querySelectorAll("fieldset.question[data-doors]").forEach(function (set) {
      var show = set.getAttribute("data-doors").split(" ").indexOf(door) >= 0;
      set.hidden = !show;
      set.querySelectorAll("input").forEach(function (i) { i.disabled = !show; });
    });
  }

  // The worker's own news: a referral it sent (or that intake refused) while this page was open.
  function listen() {
    worker.addEventListener("message", function (event) {
      var news = event.data || {};
      if (news.type === "sent") made(news.referral_id);
      if (news.type === "refused" && document.getElementById("referral-form")) {
        refused(news.key, news.message, fieldsOf(news.body), true);
      }
    });
  }

  async function whenControlled() {
    var form = document.getElementById("referral-form");
    var ready = document.getElementById("kept-on-device");
    if (ready) ready.hidden = false;
    if (form) form.setAttribute("data-kept-by", "service-worker");
    if (pending().length) await flush(); // hand what this page kept over to the worker
    var state = await ask({ type: "flush", csrf: csrf() });
    if (state && state.refused.length && form) {
      var first = state.refused[0];
      refused(first.key, first.message, fieldsOf(first.body), true);
    } else if (state && state.waiting) {
      show(state.message || "A referral saved on this device is waiting to be sent.", state.message ? "error" : "notice");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("referral-form");
    if (form) {
      prepare(form);
      form.addEventListener("change", function () { showDoorQuestions(form); });
      var button = form.querySelector("button[type=submit]");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (button.disabled) return;
        var fields = {};
        new FormData(form).forEach(function (value, name) { fields[name] = String(value); });
        fields.idempotency_key = crypto.randomUUID();
        show("Sending the referral...");
        button.disabled = true; // one tap, one referral
        submit(fields).finally(function () { button.disabled = false; });
      });
    }
    if (worker && window.location.pathname.indexOf("/officer") === 0) {
      listen();
      if (controlled()) whenControlled();
      else worker.addEventListener("controllerchange", whenControlled, { once: true });
      worker.register("/sw.js", { scope: "/officer" }).catch(function () { /* localStorage then */ });
    }
    if (!controlled() && pending().length) {
      show("A referral saved on this device is waiting to be sent.");
      flush();
    }
  });
  window.addEventListener("online", function () {
    if (!controlled()) { flush(); return; }
    ask({ type: "flush", csrf: csrf() }).then(function (state) {
      if (state && state.message) show(state.message, "error");
    });
  });
  // How many referrals wait on this device, for the page and its tests.
  window.offrampPendingReferrals = async function () {
    var state = await ask({ type: "count" });
    return pending().length + (state ? state.waiting : 0);
  };
})();
