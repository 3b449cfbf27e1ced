// The officer's referral form, kept on the device until intake has it.
//
// Submitting stores the form with an Idempotency-Key made here (crypto.randomUUID) in
// localStorage before anything is sent; the entry leaves the device only once the console
// answers that intake stored the referral, or refused it for a reason a retry cannot fix. A lost
// answer, an offline phone or a 503 keeps it, and it is sent again, with the same key, when the
// signal returns: intake answers a repeated key with the referral the first attempt made.
(function () {
  "use strict";
  var KEY = "offramp.pendingReferrals";

  function pending() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(list) { localStorage.setItem(KEY, JSON.stringify(list)); }
  function say(text) {
    var box = document.getElementById("queue-status");
    if (box) { box.innerHTML = ""; var p = document.createElement("p"); p.className = "notice"; p.textContent = text; box.appendChild(p); }
  }
  function sayError(text) {
    var box = document.getElementById("queue-status");
    if (box) { box.innerHTML = ""; var p = document.createElement("p"); p.className = "error"; p.setAttribute("role", "alert"); p.textContent = text; box.appendChild(p); }
  }
  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

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
          response = await fetch("/officer/referrals", {
            method: "POST",
            credentials: "same-origin",
            headers: {
              "Content-Type": "application/x-www-form-urlencoded",
              "Idempotency-Key": item.key,
              "X-CSRF-Token": csrf() || item.csrf,
              "X-Offline-Queue": "1"
            },
            body: new URLSearchParams(item.fields).toString()
          });
        } catch (e) {
          say("No signal: the referral is saved on this device and will be sent when you are back online.");
          return;
        }
        if (response.redirected) {
          sayError("Please sign in again: the referral stays saved on this device until then.");
          return;
        }
        if (response.status === 201) {
          var made = await response.json();
          save(pending().filter(function (p) { return p.key !== item.key; }));
          window.location.assign("/officer/referrals?made=" + encodeURIComponent(made.referral_id));
          return;
        }
        if (response.status >= 500 || response.status === 429) {
          say("The service is busy: the referral is saved on this device and will be sent again shortly.");
          setTimeout(flush, 5000);
          return;
        }
        var answer = {};
        try { answer = await response.json(); } catch (e) { answer = {}; }
        // Refused for what it says: keep nothing that would be refused again, show why.
        save(pending().filter(function (p) { return p.key !== item.key; }));
        sayError(answer.message || "The referral was refused.");
        restore(item.fields);
      }
    } finally {
      sending = false;
    }
  }

  function restore(fields) {
    var form = document.getElementById("referral-form");
    if (!form) return;
    Object.keys(fields).forEach(function (name) {
      var inputs = form.querySelectorAll("[name='" + name + "']");
      inputs.forEach(function (input) {
        if (input.type === "radio" || input.type === "checkbox") input.checked = input.value === fields[name];
        else if (name !== "csrf_token" && name !== "idempotency_key") input.value = fields[name];
      });
    });
  }

  function showDoorQuestions(form) {
    var door = (form.querySelector("input[name=door]:checked") || {}).value;
    form.querySelectorAll("fieldset.question[data-doors]").forEach(function (set) {
      var show = set.getAttribute("data-doors").split(" ").indexOf(door) >= 0;
      set.hidden = !show;
      set.querySelectorAll("input").forEach(function (i) { i.disabled = !show; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("referral-form");
    if (form) {
      form.querySelector("input[name=utc_offset_minutes]").value = String(-new Date().getTimezoneOffset());
      showDoorQuestions(form);
      form.addEventListener("change", function () { showDoorQuestions(form); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var fields = {};
        new FormData(form).forEach(function (value, name) { fields[name] = String(value); });
        var key = crypto.randomUUID();
        fields.idempotency_key = key;
        var list = pending();
        list.push({ key: key, fields: fields, csrf: csrf(), saved_at: new Date().toISOString() });
        save(list);
        say("Sending the referral...");
        flush();
      });
    }
    if (pending().length) {
      say("A referral saved on this device is waiting to be sent.");
      flush();
    }
  });
  window.addEventListener("online", flush);
  window.offrampPendingReferrals = function () { return pending().length; };
})();
