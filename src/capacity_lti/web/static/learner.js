/* Learner module page: mark blocks seen as they are read, remember where the learner is,
   and scroll back there on the next visit. Plain forms do the same without JavaScript. */
(function () {
  "use strict";
  var root = document.getElementById("learner-module");
  if (!root || !window.fetch || !window.IntersectionObserver) return;
  var url = root.getAttribute("data-progress");
  var token = root.getAttribute("data-token");
  var blocks = Array.prototype.slice.call(root.querySelectorAll("[data-block]"));
  var pending = {};
  var visible = {};
  var last = null;
  var lastSent = null;
  var timer = null;
  var sending = false;

  function renew(next) {
    if (!next || next === token) return;
    token = next;
    root.setAttribute("data-token", token);
    Array.prototype.forEach.call(document.querySelectorAll("input[name=s]"), function (input) {
      input.value = token;
    });
    Array.prototype.forEach.call(document.querySelectorAll("a[href*='s=']"), function (link) {
      var target = new URL(link.href, location.href);
      if (target.origin !== location.origin || !target.searchParams.has("s")) return;
      target.searchParams.set("s", token);
      link.href = target.toString();
    });
  }

  function show(seen) {
    var done = {};
    seen.forEach(function (key) { done[key] = true; });
    var count = 0;
    blocks.forEach(function (block) {
      if (done[block.getAttribute("data-block")]) { block.classList.add("seen"); count += 1; }
    });
    var bar = document.getElementById("read-progress");
    var label = document.getElementById("read-label");
    if (bar) bar.value = count;
    if (label && label.getAttribute("data-template")) {
      label.textContent = label.getAttribute("data-template")
        .replace("{seen}", String(count)).replace("{total}", String(blocks.length));
    }
  }

  function flush() {
    timer = null;
    var keys = Object.keys(pending);
    if (sending || (!keys.length && last === lastSent)) return;
    var body = new URLSearchParams();
    keys.forEach(function (key) { body.append("block", key); });
    if (last) body.append("last", last);
    pending = {};
    lastSent = last;
    sending = true;
    fetch(url, {
      method: "POST",
      body: body,
      headers: { "X-Capacity-Session": token, "Accept": "application/json" },
      credentials: "same-origin",
      keepalive: true
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (data) {
      sending = false;
      renew(data.token);
      show(data.seen);
      if (data.awarded && !root.hasAttribute("data-completed")) {
        var page = new URL(location.href);
        page.searchParams.set("s", token);
        page.hash = "status";
        location.replace(page.toString());
      }
    }).catch(function () {
      sending = false;
      lastSent = null;
      keys.forEach(function (key) { pending[key] = true; });
    });
  }

  function later() {
    if (timer === null) timer = setTimeout(flush, 1200);
  }

  var observer = new IntersectionObserver(function (entries) {
    var viewport = window.innerHeight || document.documentElement.clientHeight;
    entries.forEach(function (entry) {
      var key = entry.target.getAttribute("data-block");
      var needed = Math.min(entry.boundingClientRect.height, viewport) / 2;
      visible[key] = entry.isIntersecting;
      if (entry.isIntersecting && entry.intersectionRect.height >= needed &&
          !entry.target.classList.contains("seen")) {
        pending[key] = true;
      }
    });
    var reading = blocks.filter(function (b) { return visible[b.getAttribute("data-block")]; })[0];
    if (reading) last = reading.getAttribute("data-block");
    later();
  }, { threshold: [0, 0.25, 0.5, 0.75, 1] });
  blocks.forEach(function (block) { observer.observe(block); });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });

  var resume = root.getAttribute("data-resume");
  if (resume && !location.hash) {
    var target = document.getElementById(resume);
    if (target) target.scrollIntoView({ block: "start" });
  }
})();
