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
  // Move focus to the error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
