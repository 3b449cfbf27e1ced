// The officer's referrals, kept on the device until intake has them (served as /sw.js, scope
// /officer, so it sees no page of any other role).
//
// A referral the page sends (POST /officer/referrals with the Idempotency-Key the page made) is
// stored in IndexedDB *before* anything goes on the network, so an answer lost with the signal
// still leaves it here. It leaves the store only when the console answers that intake stored it
// (201), or is kept aside, unsent, when intake refused it for a reason a retry cannot fix, until
// a page has shown the officer why. Whenever the signal returns (Background Sync, or the page's
// `online` event where that is missing) it is sent again with the same key: intake answers a
// repeated key with the referral the first attempt made, so a retry never makes two.
"use strict";

const DB_NAME = "offramp-offline";
const STORE = "referrals";
const SYNC_TAG = "offramp-referrals";
const REFERRALS = "/officer/referrals";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function inStore(mode, act) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const all = () => inStore("readonly", (s) => s.getAll());
const keep = (item) => inStore("readwrite", (s) => s.put(item));
const forget = (key) => inStore("readwrite", (s) => s.delete(key));

async function tell(message) {
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  pages.forEach((page) => page.postMessage(message));
}

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status: status,
    headers: { "Content-Type": "application/json" },
  });
}

const sending = new Map(); // key -> the attempt under way, so one key is never sent twice at once
const made = new Set(); // keys intake answered 201, should a flush still hold a copy read before

function send(item) {
  if (made.has(item.key)) return Promise.resolve({ waiting: false, answer: json(202, { kept: "sent" }) });
  if (!sending.has(item.key)) {
    sending.set(item.key, attempt(item).finally(() => sending.delete(item.key)));
  }
  return sending.get(item.key);
}

// One attempt: what the page is answered, and whether the referral is still waiting.
async function attempt(item) {
  let response;
  try {
    response = await fetch(REFERRALS, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Idempotency-Key": item.key,
        "X-CSRF-Token": item.csrf,
        "X-Offline-Queue": "1",
      },
      body: item.body,
    });
  } catch (offline) {
    await later();
    return { waiting: true, answer: json(202, { kept: "offline" }) };
  }
  if (response.status === 201) {
    const referral = await response.clone().json();
    made.add(item.key);
    await forget(item.key);
    await tell({ type: "sent", key: item.key, referral_id: referral.referral_id });
    return { waiting: false, answer: response };
  }
  let answer = {};
  try { answer = await response.clone().json(); } catch (notJson) { answer = {}; }
  if (response.redirected || response.status === 401 || response.status === 403 || answer.keep) {
    // Signed out, or signed in as someone else: kept for the officer who made it.
    const message = answer.message || "";
    return { waiting: true, message: message, answer: json(202, { kept: "sign-in", message: message }) };
  }
  if (response.status >= 500 || response.status === 429) {
    await later();
    return { waiting: true, answer: json(202, { kept: "busy" }) };
  }
  const refused = { ...item, refused: answer.message || "The referral was refused." };
  await keep(refused);
  await tell({ type: "refused", key: item.key, message: refused.refused, body: item.body });
  return { waiting: false, answer: response };
}

async function later() {
  if (self.registration.sync) {
    try { await self.registration.sync.register(SYNC_TAG); } catch (unavailable) { /* the page's online event */ }
  }
}

// Send every referral still waiting; how many still wait, and why, if a person must act.
async function flush(csrf) {
  const items = await all();
  let waiting = 0;
  let message = "";
  for (const item of items) {
    if (item.refused) continue;
    const fresh = csrf && csrf !== item.csrf ? { ...item, csrf: csrf } : item;
    if (fresh !== item) await keep(fresh);
    const outcome = await send(fresh);
    if (outcome.waiting) waiting += 1;
    message = message || outcome.message || "";
  }
  return { waiting: waiting, message: message };
}

self.addEventListener("install", (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const key = request.headers.get("Idempotency-Key");
  if (request.method !== "POST" || new URL(request.url).pathname !== REFERRALS || !key) return;
  event.respondWith(
    (async () => {
      const item = {
        key: key,
        csrf: request.headers.get("X-CSRF-Token") || "",
        body: await request.text(),
        saved_at: new Date().toISOString(),
      };
      await keep(item);
      return (await send(item)).answer;
    })()
  );
});

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  // A rejected sync is retried by the browser with back-off: so while any is still waiting.
  event.waitUntil(
    flush("").then((left) => {
      if (left.waiting) throw new Error(left.waiting + " referral(s) still waiting");
    })
  );
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const reply = (value) => event.ports[0] && event.ports[0].postMessage(value);
  const work = (async () => {
    const left = message.type === "flush" ? await flush(message.csrf || "") : { message: "" };
    if (message.type === "forget") await forget(message.key);
    const items = await all();
    reply({
      message: left.message,
      waiting: items.filter((i) => !i.refused).length,
      refused: items.filter((i) => i.refused).map((i) => ({ key: i.key, message: i.refused, body: i.body })),
    });
  })();
  event.waitUntil(work);
});
