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
      // The detail already opens with the kind (越界报警：…), as in the rendered rows.
      var cells = [a.at, null, a.detail, "待签收"];
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
  // Fence map: clicks on svg[data-draw] add polygon vertices (WGS-84) to the GeoJSON field.
  var svg = document.querySelector("svg[data-draw]");
  var target = document.querySelector("[data-draw-target]");
  if (svg && target && svg.createSVGPoint) {
    var pts = [];
    var line = svg.querySelector("polyline.drawing");
    var num = function (k) { return parseFloat(svg.getAttribute("data-" + k)); };
    var datum = document.querySelector("[data-draw-datum]");
    var redraw = function () {
      line.setAttribute("points", pts.map(function (p) { return p.x + "," + p.y; }).join(" "));
      if (pts.length < 3) { target.value = ""; return; }
      var ring = pts.map(function (p) { return [p.lon, p.lat]; });
      ring.push(ring[0]);
      target.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      // Clicks are in the tiles' datum; the server converts to WGS-84 and keeps the original.
      if (datum) { datum.value = svg.getAttribute("data-datum"); }
    };
    svg.addEventListener("click", function (e) {
      var pt = svg.createSVGPoint();
      pt.x = e.clientX; pt.y = e.clientY;
      var p = pt.matrixTransform(svg.getScreenCTM().inverse());
      // Inverse Web Mercator at the drawing's zoom (domain::geo::mercator::from_pixel).
      var world = 256 * Math.pow(2, num("z"));
      var lon = (num("ox") + p.x) / world * 360 - 180;
      var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * (num("oy") + p.y) / world))) * 180 / Math.PI;
      pts.push({ x: p.x.toFixed(1), y: p.y.toFixed(1), lon: +lon.toFixed(6), lat: +lat.toFixed(6) });
      redraw();
    });
    var clear = document.querySelector("[data-draw-clear]");
    if (clear) { clear.addEventListener("click", function () { pts = []; redraw(); }); }
  }
  // Move focus to the error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
