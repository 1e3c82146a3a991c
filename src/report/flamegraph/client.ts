/**
 * The flame graph page's script, run in the browser. It reads the data from a JSON script tag
 * and writes names only through textContent and attributes, never as HTML: a profile is
 * untrusted input. Kept in plain ES2017 so any current browser runs it without a build step.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('preheat-data').textContent);
  var ROW = 18;
  var graph = document.getElementById('graph');
  var tip = document.getElementById('tip');
  var info = document.getElementById('search-info');
  var input = document.getElementById('search');
  var nodes = data.nodes.map(function (n, i) {
    return { i: i, frame: n[0], depth: n[1], x: n[2], w: n[3], self: n[4], delta: n.length > 5 ? n[5] : null, el: null, parent: -1 };
  });
  // Parents come before children; a child's parent is the nearest earlier node one level up that spans it.
  var lastAtDepth = [];
  nodes.forEach(function (n) {
    var p = lastAtDepth[n.depth - 1];
    n.parent = n.depth === 0 ? -1 : p === undefined ? -1 : p;
    lastAtDepth[n.depth] = n.i;
    lastAtDepth.length = n.depth + 1;
  });
  var zoom = nodes[0];
  var maxDepth = nodes.reduce(function (m, n) { return Math.max(m, n.depth); }, 0);
  graph.style.height = (maxDepth + 1) * ROW + 'px';

  function pct(x) { return (x * 100).toFixed(x < 0.01 ? 2 : 1) + '%'; }
  function frameOf(n) { return data.frames[n.frame]; }
  function colour(n) {
    if (n.delta !== null) {
      var d = Math.max(-1, Math.min(1, n.delta * 20));
      return d >= 0 ? 'rgb(255,' + Math.round(235 - 160 * d) + ',' + Math.round(225 - 180 * d) + ')' : 'rgb(' + Math.round(225 + 180 * d) + ',' + Math.round(235 + 120 * d) + ',255)';
    }
    return '';
  }
  function isAncestor(a, n) {
    for (var p = n; p; p = p.parent >= 0 ? nodes[p.parent] : null) if (p === a) return true;
    return false;
  }

  function render() {
    graph.textContent = '';
    var left = zoom.x, width = zoom.w;
    nodes.forEach(function (n) {
      n.el = null;
      var inside = n.x + n.w > left && n.x < left + width;
      var onPath = isAncestor(n, zoom);
      if (!inside && !onPath) return;
      var x0 = onPath ? 0 : (n.x - left) / width;
      var w = onPath ? 1 : n.w / width;
      if (w < 0.001) return;
      var el = document.createElement('div');
      var f = frameOf(n);
      el.className = 'frame cat-' + f[2] + (onPath && n !== zoom ? ' ancestor' : '');
      el.style.left = x0 * 100 + '%';
      el.style.width = w * 100 + '%';
      el.style.top = n.depth * ROW + 'px';
      var c = colour(n);
      if (c) el.style.background = c;
      el.setAttribute('data-name', f[0]);
      el.setAttribute('data-index', String(n.i));
      el.textContent = f[0];
      graph.appendChild(el);
      n.el = el;
    });
    document.getElementById('zoomed').textContent = zoom.i === 0 ? '' : 'zoomed to ' + frameOf(zoom)[0] + ' (' + pct(zoom.w / data.total) + ')';
    applySearch();
  }

  function zoomTo(n) { zoom = n; render(); }

  function applySearch() {
    var q = input.value.trim().toLowerCase();
    var matched = 0;
    var counted = [];
    nodes.forEach(function (n) {
      var f = frameOf(n);
      var hit = q !== '' && n.i !== 0 && (f[0].toLowerCase().indexOf(q) >= 0 || f[1].toLowerCase().indexOf(q) >= 0);
      if (n.el) n.el.classList.toggle('match', hit);
      if (hit && !counted.some(function (a) { return isAncestor(a, n); })) { counted.push(n); matched += n.w; }
    });
    info.textContent = q ? 'search: ' + pct(matched / data.total) + ' of samples' : '';
  }

  graph.addEventListener('click', function (e) {
    var t = e.target.closest('.frame');
    if (t) zoomTo(nodes[Number(t.getAttribute('data-index'))]);
  });
  graph.addEventListener('mousemove', function (e) {
    var t = e.target.closest('.frame');
    if (!t) { tip.hidden = true; return; }
    var n = nodes[Number(t.getAttribute('data-index'))];
    var f = frameOf(n);
    tip.textContent = '';
    var lines = [f[0], 'total ' + pct(n.w / data.total) + ', self ' + pct(n.self / data.total)];
    if (n.delta !== null) lines.push('self change ' + (n.delta >= 0 ? '+' : '') + pct(n.delta));
    if (f[1]) lines.push(f[1]);
    lines.forEach(function (l, k) { var d = document.createElement(k === 0 ? 'strong' : 'div'); d.textContent = l; tip.appendChild(d); });
    tip.hidden = false;
    tip.style.left = Math.min(e.pageX + 12, window.innerWidth - 320) + 'px';
    tip.style.top = e.pageY + 14 + 'px';
  });
  graph.addEventListener('mouseleave', function () { tip.hidden = true; });
  document.getElementById('reset').addEventListener('click', function () { zoomTo(nodes[0]); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { input.value = ''; zoomTo(nodes[0]); } });
  input.addEventListener('input', applySearch);

  var list = document.getElementById('findings');
  if (data.findings.length === 0) {
    var none = document.createElement('p');
    none.textContent = 'No findings above the threshold.';
    list.appendChild(none);
  }
  data.findings.forEach(function (f) {
    var item = document.createElement('li');
    item.className = 'finding';
    item.setAttribute('data-frame', String(f.frame));
    [['kind', f.kind + ' · ' + pct(f.share)], ['fn', f.function + (f.where ? ' — ' + f.where : '')], ['evidence', f.evidence], ['advice', f.advice]].forEach(function (p) {
      var d = document.createElement('div');
      d.className = p[0];
      d.textContent = p[1];
      item.appendChild(d);
    });
    item.addEventListener('click', function () {
      var best = null;
      nodes.forEach(function (n) { if (n.frame === f.frame && (!best || n.w > best.w)) best = n; });
      if (!best) return;
      zoomTo(best.parent >= 0 ? nodes[best.parent] : best);
      input.value = data.frames[f.frame][0];
      applySearch();
    });
    list.appendChild(item);
  });

  if (data.diff) {
    var body = document.getElementById('diff-rows');
    data.diff.rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.className = r.delta > 0 ? 'worse' : 'better';
      [r.name, r.where, pct(r.before), pct(r.after), (r.delta > 0 ? '+' : '') + (r.delta * 100).toFixed(1) + 'pt'].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  render();
})();
`;
