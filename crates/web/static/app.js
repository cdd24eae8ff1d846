// Small enhancements only; every page works without this file.
(function () {
  "use strict";
  // Buttons that change something important ask first: <button data-confirm="确定停用？">
  document.addEventListener("submit", function (e) {
    var b = e.submitter || e.target.querySelector("[data-confirm]");
    var msg = b && b.getAttribute && b.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // Copy buttons: <button type="button" data-copy="#id">
  document.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-copy]");
    if (!t) { return; }
    var src = document.querySelector(t.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.textContent.trim()).then(function () { t.textContent = "已复制"; });
    }
  });
  // Live alarms (亳安码): a table with data-live="/supervision/live" gets new alarms pushed as
  // server-sent events, newest first; the status line says so. Without this, reloading shows them.
  var live = document.querySelector("[data-live]");
  if (live && window.EventSource) {
    var note = document.getElementById("live-status");
    var es = new EventSource(live.getAttribute("data-live"));
    es.addEventListener("open", function () { if (note) { note.textContent = "实时接收报警中"; } });
    es.addEventListener("error", function () { if (note) { note.textContent = "实时连接中断，正在重连…"; } });
    es.addEventListener("alarm", function (e) {
      var a = JSON.parse(e.data);
      var tr = document.createElement("tr");
      tr.className = "fresh";
      var cells = [a.at, null, a.kind_label + "：" + a.detail, "待签收"];
      cells.forEach(function (text, i) {
        var td = document.createElement("td");
        if (i === 1) {
          var link = document.createElement("a");
          link.href = "/supervision/persons/" + encodeURIComponent(a.person_id);
          link.textContent = a.person;
          td.appendChild(link);
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      });
      var body = live.querySelector("tbody");
      body.insertBefore(tr, body.firstChild);
      if (note) { note.textContent = "新报警：" + a.person + "（" + a.kind_label + "）"; }
    });
  }
  // Move focus to the error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
