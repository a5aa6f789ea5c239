/// The dashboard's page: markup with `{{NAME}}` slots that ``Dashboard/render(status:edges:stats:now:)``
/// fills, its style sheet, and the script that redraws it from the JSON API.
extension Dashboard {
    static let template = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Meridian</title>
    <link rel="icon" href="data:,">
    <style>
    \#(styleSheet)
    </style>
    </head>
    <body>
    <header>
    <h1>Meridian</h1>
    <span class="meta">version <span id="version">{{VERSION}}</span></span>
    <span class="meta">up <span id="uptime">{{UPTIME}}</span></span>
    <span id="conn" data-state="live">live</span>
    </header>
    <main>
    <section class="cards">
    <div class="card"><div class="label">Queries / s</div><div class="value" id="qps">{{QPS}}</div><svg id="qps-spark" viewBox="0 0 120 30" preserveAspectRatio="none" aria-hidden="true"><polyline id="qps-line" points="{{QPS_SPARK}}"></polyline></svg></div>
    <div class="card"><div class="label">Queries total</div><div class="value" id="queries-total" data-value="{{QUERIES_RAW}}">{{QUERIES}}</div></div>
    <div class="card"><div class="label">Edges serving</div><div class="value" id="edges-serving">{{SERVING}}</div></div>
    <div class="card" id="last-reload" data-ok="{{RELOAD_OK}}"><div class="label">Last reload</div><div class="value" id="reload-result">{{RELOAD_TEXT}}</div><div class="sub" id="reload-summary">{{RELOAD_SUMMARY}}</div></div>
    <div class="card" id="fleet" data-connected="{{FLEET_CONNECTED}}"{{FLEET_HIDDEN}}><div class="label">Fleet</div><div class="value" id="fleet-state">{{FLEET_TEXT}}</div><div class="sub" id="fleet-detail">{{FLEET_DETAIL}}</div></div>
    </section>
    <section class="split">
    <div class="panel">
    <h2>Edges on the map</h2>
    <svg id="map" viewBox="0 0 360 150" role="img" aria-label="World map of edges coloured by health">
    <rect class="sea" width="360" height="150"></rect>
    <path id="graticule" d="M0 30H360M0 60H360M0 90H360M0 120H360M60 0V150M120 0V150M180 0V150M240 0V150M300 0V150"></path>
    <path id="land" d="{{LAND}}"></path>
    <path id="seas" d="{{SEAS}}"></path>
    <g id="edge-dots">{{EDGE_DOTS}}</g>
    </svg>
    <div class="legend"><span class="up">up</span><span class="down">down</span><span class="drained">drained</span><span class="unknown">unknown</span></div>
    </div>
    <div class="panel">
    <h2>Response codes</h2>
    <table id="rcodes"><thead><tr><th>RCODE</th><th class="num">responses</th></tr></thead><tbody id="rcode-rows">{{RCODE_ROWS}}</tbody></table>
    </div>
    </section>
    <section class="panel scroll">
    <h2>Edges</h2>
    <table id="edges-table">
    <thead><tr><th>Edge</th><th>Pools</th><th>State</th><th>Admin</th><th>Last probe</th><th class="num">Latency</th><th>Result</th><th class="num">Answers</th><th class="num" title="of the answers in the last five minutes">Share, 5 min</th><th class="num">Shed</th></tr></thead>
    <tbody id="edge-rows">{{EDGE_ROWS}}</tbody>
    </table>
    </section>
    <section class="pair">
    <div class="panel">
    <h2>Queries / s, last hour <span class="aside">peak <span id="qps-peak">{{QPS_PEAK}}</span></span></h2>
    <svg id="qps-chart" class="chart" viewBox="0 0 600 100" preserveAspectRatio="none" role="img" aria-label="Queries per second over the last hour"><path class="grid" d="M0 25H600M0 50H600M0 75H600"></path><path id="qps-path" data-points="{{QPS_POINTS}}" d="{{QPS_PATH}}"></path></svg>
    <div class="axis"><span class="history-from" id="history-from" data-epoch="{{HISTORY_FROM}}">{{HISTORY_FROM_TEXT}}</span><span class="history-to" id="history-to" data-epoch="{{HISTORY_TO}}">{{HISTORY_TO_TEXT}}</span></div>
    </div>
    <div class="panel">
    <h2>Response time, last hour <span class="aside" id="latency-now">{{LATENCY_NOW}}</span></h2>
    <svg id="latency-chart" class="chart" viewBox="0 0 600 100" preserveAspectRatio="none" role="img" aria-label="Response time p50 and p99 over the last hour"><path class="grid" d="M0 25H600M0 50H600M0 75H600"></path><path id="p99-path" data-points="{{P99_POINTS}}" d="{{P99_PATH}}"></path><path id="p50-path" data-points="{{P50_POINTS}}" d="{{P50_PATH}}"></path></svg>
    <div class="axis"><span class="history-from" data-epoch="{{HISTORY_FROM}}">{{HISTORY_FROM_TEXT}}</span><span class="legend lines"><span class="p50">p50</span><span class="p99">p99</span><span>top <span id="latency-top">{{LATENCY_TOP}}</span></span></span><span class="history-to" data-epoch="{{HISTORY_TO}}">{{HISTORY_TO_TEXT}}</span></div>
    </div>
    </section>
    <section class="panel">
    <h2>Health, last hour</h2>
    <div id="health-timeline">{{HEALTH_BANDS}}</div>
    <div class="axis band-axis"><span class="history-from" data-epoch="{{HISTORY_FROM}}">{{HISTORY_FROM_TEXT}}</span><span class="history-to" data-epoch="{{HISTORY_TO}}">{{HISTORY_TO_TEXT}}</span></div>
    <div class="legend"><span class="up">up</span><span class="down">down</span><span class="drained">drained</span><span class="unknown">unknown</span><span class="nodata">no data</span></div>
    </section>
    <section class="triple">
    <div class="panel"><h2>Query types</h2><table id="qtypes"><thead><tr><th>Type</th><th class="num">queries</th></tr></thead><tbody id="qtype-rows">{{QTYPE_ROWS}}</tbody></table></div>
    <div class="panel"><h2>Zones</h2><table id="zones"><thead><tr><th>Zone</th><th class="num">Serial</th><th class="num">Records</th><th>DNSSEC</th></tr></thead><tbody id="zone-rows">{{ZONE_ROWS}}</tbody></table></div>
    </section>
    </main>
    <script type="application/json" id="initial-data">{{INITIAL}}</script>
    <script>
    \#(script)
    </script>
    </body>
    </html>

    """#

    static let styleSheet = #"""
    :root{--bg:#0e1418;--panel:#151e24;--line:#24323b;--text:#dbe3e8;--muted:#8b9ba6;--up:#2fbf71;--down:#e5484d;--drained:#f0a020;--unknown:#4c8dff;--land:#2a3943;--sea:#10181d}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
    header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 18px;padding:12px 20px;border-bottom:1px solid var(--line)}
    header h1{margin:0;font-size:18px;letter-spacing:.02em}
    header .meta{color:var(--muted)}
    #conn{margin-left:auto;font-size:12px;padding:2px 8px;border-radius:10px;background:#1d3a2b;color:var(--up)}
    #conn[data-state=offline]{background:#3d1f22;color:var(--down)}
    main{padding:16px 20px;display:grid;gap:16px;max-width:1400px;margin:0 auto}
    .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
    .card,.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
    .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
    .value{font-size:26px;font-variant-numeric:tabular-nums;white-space:nowrap}
    .sub{color:var(--muted);font-size:12px;overflow:hidden;text-overflow:ellipsis}
    #last-reload[data-ok=true] .value{color:var(--up)}
    #last-reload[data-ok=false] .value{color:var(--down)}
    #fleet[data-connected=true] .value{color:var(--up)}
    #fleet[data-connected=false] .value{color:var(--down)}
    #qps-spark{width:100%;height:28px;display:block}
    #qps-line{fill:none;stroke:var(--unknown);stroke-width:1.5;vector-effect:non-scaling-stroke}
    h2{margin:0 0 8px;font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-weight:600}
    #map{width:100%;height:auto;display:block;background:var(--sea);border-radius:6px}
    #map .sea{fill:var(--sea)}
    #land{fill:var(--land);stroke:#33454f;stroke-width:.3}
    #seas{fill:var(--sea)}
    #graticule{stroke:#1b262d;stroke-width:.3;fill:none}
    .edge circle{stroke:#0e1418;stroke-width:.8}
    .edge text{font-size:5px;fill:var(--text);paint-order:stroke;stroke:#0e1418;stroke-width:1.2px}
    .edge[data-health=up] circle{fill:var(--up)}
    .edge[data-health=down] circle{fill:var(--down)}
    .edge[data-health=drained] circle{fill:var(--drained)}
    .edge[data-health=unknown] circle{fill:var(--unknown)}
    .legend{display:flex;gap:14px;margin-top:8px;color:var(--muted);font-size:12px}
    .legend span::before,.dot{content:"";display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;vertical-align:baseline}
    .legend .up::before,tr[data-health=up] .dot{background:var(--up)}
    .legend .down::before,tr[data-health=down] .dot{background:var(--down)}
    .legend .drained::before,tr[data-health=drained] .dot{background:var(--drained)}
    .legend .unknown::before,tr[data-health=unknown] .dot{background:var(--unknown)}
    table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
    th,td{padding:5px 8px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
    th{color:var(--muted);font-weight:500;font-size:12px}
    td.num,th.num{text-align:right}
    tr[data-state=down] td.state{color:var(--down)}
    tr[data-state=up] td.state{color:var(--up)}
    tr[data-state=unknown] td.state{color:var(--unknown)}
    tr[data-admin=drained] td.admin{color:var(--drained)}
    .chart{width:100%;height:120px;display:block;background:var(--sea);border-radius:6px}
    .chart .grid{stroke:#1b262d;stroke-width:1;fill:none;vector-effect:non-scaling-stroke}
    #qps-path,#p50-path,#p99-path{fill:none;stroke-width:1.5;stroke-linejoin:round;vector-effect:non-scaling-stroke}
    #qps-path{stroke:var(--unknown)}
    #p50-path{stroke:var(--up)}
    #p99-path{stroke:var(--drained)}
    .axis{display:flex;justify-content:space-between;gap:12px;color:var(--muted);font-size:12px;margin-top:4px}
    .axis .legend{margin-top:0}
    h2 .aside{float:right;text-transform:none;letter-spacing:0;font-weight:400}
    .band{display:grid;grid-template-columns:90px minmax(0,1fr);align-items:center;gap:8px;margin:3px 0}
    .band-name{font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
    .band svg{width:100%;height:12px;display:block;background:var(--sea);border-radius:3px}
    .band rect{shape-rendering:crispEdges}
    .band rect[data-state=up]{fill:var(--up)}
    .band rect[data-state=down]{fill:var(--down)}
    .band rect[data-state=drained]{fill:var(--drained)}
    .band rect[data-state=unknown]{fill:var(--unknown)}
    .band rect[data-state=nodata]{fill:var(--line)}
    .band-axis{margin-left:98px}
    .legend .nodata::before{background:var(--line)}
    .legend .p50::before{background:var(--up);border-radius:0;height:2px;vertical-align:middle}
    .legend .p99::before{background:var(--drained);border-radius:0;height:2px;vertical-align:middle}
    .pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
    .split{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
    .triple{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:16px}
    .scroll{overflow-x:auto}
    @media (max-width:900px){.split{grid-template-columns:1fr}}
    """#

    /// Polls `/api/v1/status`, `/api/v1/edges`, `/api/v1/stats` and `/api/v1/history` every
    /// two seconds and redraws the elements the server rendered, with the same markup and
    /// arithmetic as `Dashboard` (see DashboardHistory.swift).
    static let script = #"""
    (function () {
      "use strict";
      var POLL_MS = 2000, HOUR = 3600, SHARE_SECONDS = 300, WIDTH = 600, HEIGHT = 100;
      var byId = function (id) { return document.getElementById(id); };
      var samples = [];
      // The server's history as last merged, and when it arrived (performance.now()).
      var hist = null, histReceived = 0;
      var recent = {};

      function el(tag, attrs, text) {
        var node = document.createElement(tag);
        if (attrs) { for (var key in attrs) { node.setAttribute(key, attrs[key]); } }
        if (text !== undefined && text !== null) { node.textContent = text; }
        return node;
      }
      // The SVG namespace is spelled with escapes so that the page holds no URL at all.
      function svgEl(tag, attrs, text) {
        var node = document.createElementNS("\u0068ttp\u003a//www.w3.org/2000/svg", tag);
        if (attrs) { for (var key in attrs) { node.setAttribute(key, attrs[key]); } }
        if (text !== undefined && text !== null) { node.textContent = text; }
        return node;
      }
      function grouped(n) { return Number(n).toLocaleString("en-US"); }
      function oneDecimal(n) { return isFinite(n) ? (Math.round(n * 10) / 10).toFixed(1) : "\u2013"; }
      function ago(seconds) {
        var s = Math.max(0, Math.round(seconds));
        if (s < 60) { return s + " s ago"; }
        if (s < 3600) { return Math.floor(s / 60) + " min ago"; }
        return Math.floor(s / 3600) + " h ago";
      }
      function duration(seconds) {
        var s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
        if (d > 0) { return d + "d " + h + "h " + m + "m"; }
        if (h > 0) { return h + "h " + m + "m " + (s % 60) + "s"; }
        if (m > 0) { return m + "m " + (s % 60) + "s"; }
        return (s % 60) + "s";
      }
      // The viewer's local time, with its zone named: "14:02:07 CET".
      function clock(epoch) { return new Date(epoch * 1000).toLocaleTimeString([], { timeZoneName: "short" }); }
      function dateTime(epoch) { return new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC"; }
      function health(row) { return row.admin === "drained" ? "drained" : row.state; }
      function replaceChildren(parent, children) {
        while (parent.firstChild) { parent.removeChild(parent.firstChild); }
        children.forEach(function (child) { parent.appendChild(child); });
      }
      function setText(id, text) { var node = byId(id); if (node.textContent !== text) { node.textContent = text; } }

      function responseTime(s) {
        return s < 0.001 ? Math.round(s * 1e6) + " \u00b5s" : (s * 1000 < 10 ? oneDecimal(s * 1000) : Math.round(s * 1000)) + " ms";
      }

      function renderEdges(reply) {
        var edges = reply.edges || [];
        var total = Object.keys(recent).reduce(function (sum, name) { return sum + recent[name]; }, 0);
        var now = Date.now() / 1000;
        var rows = edges.map(function (row) {
          var attrs = { "data-edge": row.name, "data-state": row.state, "data-admin": row.admin, "data-health": health(row) };
          var tr = el("tr", attrs);
          var name = el("td", { "class": "edge-name" });
          name.appendChild(el("span", { "class": "dot" }));
          name.appendChild(document.createTextNode(row.name));
          tr.appendChild(name);
          tr.appendChild(el("td", null, (row.pools || []).join(", ")));
          tr.appendChild(el("td", { "class": "state" }, row.state));
          tr.appendChild(el("td", { "class": "admin" }, row.admin));
          var probe;
          if (row.lastCheck !== undefined) {
            probe = el("td", { "class": "probe", "data-epoch": String(row.lastCheck), "title": clock(row.lastCheck) }, ago(now - row.lastCheck));
          } else {
            probe = el("td", { "class": "probe" }, row.checked ? "pending" : "no check");
          }
          tr.appendChild(probe);
          var latency = row.latencyMs === undefined ? "\u2013" : (row.latencyMs < 10 ? oneDecimal(row.latencyMs) : Math.round(row.latencyMs)) + " ms";
          tr.appendChild(el("td", { "class": "num latency" }, latency));
          var result = row.result || "";
          if (row.since !== undefined && row.state === "down") { result += (result ? " " : "") + "since " + clock(row.since); }
          tr.appendChild(el("td", { "class": "result" }, result));
          tr.appendChild(el("td", { "class": "num answers" }, grouped(row.answers)));
          var mine = recent[row.name] || 0;
          tr.appendChild(el("td", { "class": "num share", "data-recent": String(mine) }, total === 0 ? "\u2013" : oneDecimal(mine / total * 100) + "%"));
          var load = row.load;
          var loadTitle = !load ? "no load feed" : ["feed " + load.feed].concat((load.signals || []).map(function (s) {
            return s.metric + " " + (s.value === undefined ? "?" : String(Math.round(s.value * 1000) / 1000));
          })).concat(load.lastError ? [load.lastError] : []).join("; ");
          tr.appendChild(el("td", { "class": "num shed", "title": loadTitle }, load ? oneDecimal(load.shedFraction * 100) + "%" : "\u2013"));
          return tr;
        });
        replaceChildren(byId("edge-rows"), rows);

        var dots = edges.filter(function (row) { return row.location && row.location.length === 2; }).map(function (row) {
          var x = Math.min(Math.max(row.location[1], -180), 180) + 180;
          var y = 90 - Math.min(Math.max(row.location[0], -59), 90);
          var g = svgEl("g", { "class": "edge", "data-edge": row.name, "data-state": row.state, "data-admin": row.admin,
                               "data-health": health(row), "transform": "translate(" + x.toFixed(2) + " " + y.toFixed(2) + ")" });
          g.appendChild(svgEl("circle", { "r": "3.2" }));
          g.appendChild(svgEl("text", { "x": "4.5", "y": "1.6" }, row.name));
          g.appendChild(svgEl("title", null, row.name + ": " + health(row) + (row.result ? " (" + row.result + ")" : "")));
          return g;
        });
        replaceChildren(byId("edge-dots"), dots);
        var serving = edges.filter(function (row) { return row.state !== "down" && row.admin === "active"; }).length;
        setText("edges-serving", serving + " / " + edges.length);
      }

      function countRows(tbody, counts, attribute) {
        var entries = Object.keys(counts || {}).map(function (key) { return [key, counts[key]]; });
        entries.sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); });
        replaceChildren(byId(tbody), entries.map(function (entry) {
          var attrs = {}; attrs[attribute] = entry[0];
          var tr = el("tr", attrs);
          tr.appendChild(el("td", null, entry[0]));
          tr.appendChild(el("td", { "class": "num" }, grouped(entry[1])));
          return tr;
        }));
      }

      function renderStatus(status) {
        setText("version", status.version);
        setText("uptime", duration(status.uptimeSeconds));
        var reload = byId("last-reload");
        if (status.lastReload) {
          reload.setAttribute("data-ok", status.lastReload.ok ? "true" : "false");
          setText("reload-result", (status.lastReload.ok ? "ok" : "failed") + " at " + clock(status.lastReload.at));
          setText("reload-summary", status.lastReload.summary);
        } else {
          reload.setAttribute("data-ok", "none");
          setText("reload-result", "none yet");
          setText("reload-summary", "no reload since start");
        }
        var fleet = byId("fleet");
        if (status.fleet) {
          fleet.hidden = false;
          fleet.setAttribute("data-connected", status.fleet.connected ? "true" : "false");
          setText("fleet-state", status.fleet.connected ? "connected" : "disconnected");
          setText("fleet-detail", "node " + status.fleet.node + (status.fleet.connected ? ", etcd reachable"
            : " since " + clock(status.fleet.disconnectedSince) + ": serving the last fleet state"));
        } else {
          fleet.hidden = true;
        }
        replaceChildren(byId("zone-rows"), (status.zones || []).map(function (zone) {
          var tr = el("tr", { "data-zone": zone.name });
          tr.appendChild(el("td", null, zone.name));
          tr.appendChild(el("td", { "class": "num" }, String(zone.serial)));
          tr.appendChild(el("td", { "class": "num" }, grouped(zone.records)));
          tr.appendChild(el("td", { "class": "dnssec" }, zone.keys ? "signed until " + dateTime(zone.signaturesExpire) : "unsigned"));
          return tr;
        }));
      }

      function renderStats(stats, fallbackRate) {
        var transports = stats.queries.byTransport || {};
        var total = Object.keys(transports).reduce(function (sum, key) { return sum + transports[key]; }, 0);
        var node = byId("queries-total");
        node.setAttribute("data-value", String(total));
        setText("queries-total", grouped(total));
        var now = performance.now();
        samples.push({ t: now, total: total });
        while (samples.length > 2 && now - samples[0].t > 10000) { samples.shift(); }
        var rate = fallbackRate;
        if (samples.length >= 2) {
          var first = samples[0], last = samples[samples.length - 1];
          if (last.t > first.t) { rate = Math.max(0, (last.total - first.total) / ((last.t - first.t) / 1000)); }
        }
        setText("qps", oneDecimal(rate));
        countRows("rcode-rows", stats.queries.byRcode, "data-rcode");
        countRows("qtype-rows", stats.queries.byType, "data-qtype");
      }

      // History: the same columns, paths and segments as the server draws.
      function historyPath() {
        if (!hist || hist.seconds === 0) { return "/api/v1/history"; }
        var elapsed = (performance.now() - histReceived) / 1000;
        var missing = Math.ceil(hist.now + elapsed - (hist.start + hist.seconds)) + 10;
        return "/api/v1/history?seconds=" + Math.min(HOUR, Math.max(10, missing));
      }

      function mergeHistory(old, part) {
        if (!old || old.seconds === 0 || part.seconds === 0 || part.start <= old.start) { return part; }
        var end = part.start + part.seconds, start = Math.max(old.start, end - HOUR), length = end - start;
        function take(before, after, missing) {
          var out = [];
          for (var i = 0; i < length; i++) {
            var t = start + i, value = missing;
            if (t >= part.start) { value = after ? after[t - part.start] : missing; }
            else if (before && t - old.start < old.seconds) { value = before[t - old.start]; }
            out.push(value);
          }
          return out;
        }
        var answers = {}, names = Object.keys(old.answersByEdge || {}).concat(Object.keys(part.answersByEdge || {}));
        names.forEach(function (name) { answers[name] = take((old.answersByEdge || {})[name], (part.answersByEdge || {})[name], 0); });
        var transitions = (old.transitions || []).filter(function (t) { return t.at >= start && t.at < part.start; })
          .concat(part.transitions || []);
        return {
          now: part.now, start: start, seconds: length,
          queriesPerSecond: take(old.queriesPerSecond, part.queriesPerSecond, null),
          responseP50Seconds: take(old.responseP50Seconds, part.responseP50Seconds, null),
          responseP99Seconds: take(old.responseP99Seconds, part.responseP99Seconds, null),
          responseBucketsSeconds: part.responseBucketsSeconds, answersByEdge: answers, edges: part.edges,
          transitions: transitions,
          transitionsSince: part.transitionsSince > part.start ? part.transitionsSince : Math.max(old.transitionsSince, start)
        };
      }

      function columns(series, combine) {
        if (!series.length) { return []; }
        var out = [], counts = [];
        for (var c = 0; c < WIDTH; c++) { out.push(null); counts.push(0); }
        series.forEach(function (value, second) {
          if (value === null || value === undefined || !isFinite(value)) { return; }
          var column = Math.floor(second * WIDTH / series.length);
          out[column] = combine === "max" ? Math.max(out[column] === null ? value : out[column], value) : (out[column] || 0) + value;
          counts[column] += 1;
        });
        if (combine !== "max") { for (var k = 0; k < WIDTH; k++) { if (counts[k] > 0) { out[k] /= counts[k]; } } }
        return out;
      }
      function chartTop(cols, floor) {
        return Math.max(floor, Math.max.apply(null, cols.filter(function (v) { return v !== null; }).concat([0]))) * 1.1;
      }
      function chartPath(cols, top) {
        var d = "", points = 0, drawing = false, step = WIDTH / Math.max(cols.length, 1);
        cols.forEach(function (value, column) {
          if (value === null) { drawing = false; return; }
          var y = HEIGHT - 2 - Math.min(value / top, 1) * (HEIGHT - 4);
          d += (drawing ? "L" : "M") + ((column + 0.5) * step).toFixed(1) + " " + y.toFixed(1);
          drawing = true;
          points += 1;
        });
        return { d: d, points: points };
      }
      function setPath(id, path) {
        var node = byId(id);
        node.setAttribute("d", path.d);
        node.setAttribute("data-points", String(path.points));
      }
      function sparkline(series) {
        var recentSeries = series.slice(-SHARE_SECONDS);
        var top = Math.max(1, Math.max.apply(null, recentSeries.filter(function (v) { return v !== null; }).concat([0])));
        var points = [];
        recentSeries.forEach(function (value, offset) {
          if (value === null) { return; }
          var x = recentSeries.length === 1 ? 120 : offset * 120 / (recentSeries.length - 1);
          points.push(x.toFixed(1) + "," + (29 - value / top * 27).toFixed(1));
        });
        return points.join(" ");
      }
      function recentAnswers(h) {
        var out = {};
        Object.keys(h.answersByEdge || {}).forEach(function (name) {
          out[name] = h.answersByEdge[name].slice(-SHARE_SECONDS).reduce(function (sum, n) { return sum + n; }, 0);
        });
        return out;
      }
      function healthSegments(edge, transitions, from, to, now, knownSince) {
        var health = edge.state, admin = edge.admin, cursor = Math.max(now, to), backwards = [];
        function add(state, start, end) {
          var s = Math.max(start, from), e = Math.min(end, to);
          if (e <= s) { return; }
          var last = backwards[backwards.length - 1];
          if (last && last.state === state && last.from === e) { last.from = s; } else { backwards.push({ state: state, from: s, to: e }); }
        }
        for (var i = transitions.length - 1; i >= 0; i--) {
          var t = transitions[i];
          if (t.edge !== edge.name) { continue; }
          if (t.at <= knownSince) { break; }
          if (t.at < cursor) { add(admin === "drained" ? "drained" : health, t.at, cursor); cursor = t.at; }
          if (t.kind === "admin") { admin = t.from; } else { health = t.from; }
        }
        add(admin === "drained" ? "drained" : health, knownSince, cursor);
        add("nodata", from, Math.min(knownSince, cursor));
        return backwards.reverse();
      }

      function renderHistory(h, startedAt) {
        var from = h.start, to = h.start + h.seconds;
        var queries = columns(h.queriesPerSecond, "mean");
        setPath("qps-path", chartPath(queries, chartTop(queries, 1)));
        var peak = queries.filter(function (v) { return v !== null; });
        setText("qps-peak", peak.length ? oneDecimal(Math.max.apply(null, peak)) : "\u2013");
        byId("qps-line").setAttribute("points", sparkline(h.queriesPerSecond));
        var p50 = columns(h.responseP50Seconds, "mean"), p99 = columns(h.responseP99Seconds, "max");
        var top = chartTop(p99.concat(p50), 0.00001);
        setPath("p50-path", chartPath(p50, top));
        setPath("p99-path", chartPath(p99, top));
        setText("latency-top", responseTime(top / 1.1));
        var last = -1;
        h.responseP50Seconds.forEach(function (v, i) { if (v !== null) { last = i; } });
        setText("latency-now", last < 0 ? "no queries" : "p50 " + responseTime(h.responseP50Seconds[last]) + ", p99 " + responseTime(h.responseP99Seconds[last]));
        var knownSince = Math.max(h.transitionsSince, startedAt);
        replaceChildren(byId("health-timeline"), (h.edges || []).map(function (edge) {
          var band = el("div", { "class": "band", "data-edge": edge.name });
          band.appendChild(el("span", { "class": "band-name" }, edge.name));
          var svg = svgEl("svg", { "viewBox": "0 0 " + WIDTH + " 10", "preserveAspectRatio": "none", "aria-hidden": "true" });
          var span = Math.max(to - from, 1);
          healthSegments(edge, h.transitions || [], from, to, h.now, knownSince).forEach(function (segment) {
            var rect = svgEl("rect", { "data-state": segment.state, "data-from": segment.from.toFixed(3), "data-to": segment.to.toFixed(3),
                                       "x": ((segment.from - from) / span * WIDTH).toFixed(2),
                                       "width": Math.max((segment.to - segment.from) / span * WIDTH, 1).toFixed(2), "height": "10" });
            rect.appendChild(svgEl("title", null, edge.name + ": " + segment.state + " " + clock(segment.from) + " \u2013 " + clock(segment.to)));
            svg.appendChild(rect);
          });
          band.appendChild(svg);
          return band;
        }));
        Array.prototype.forEach.call(document.querySelectorAll(".history-from"), function (node) {
          node.setAttribute("data-epoch", String(from));
          node.textContent = h.seconds ? clock(from) : "\u2013";
        });
        Array.prototype.forEach.call(document.querySelectorAll(".history-to"), function (node) {
          node.setAttribute("data-epoch", String(to));
          node.textContent = h.seconds ? clock(to) : "\u2013";
        });
      }

      function setConnection(live, detail) {
        var conn = byId("conn");
        conn.setAttribute("data-state", live ? "live" : "offline");
        conn.textContent = live ? "live" : "offline";
        conn.title = detail || "";
      }

      function fetchJSON(path) {
        return fetch(path, { cache: "no-store" }).then(function (response) {
          if (!response.ok) { throw new Error(path + ": HTTP " + response.status); }
          return response.json();
        });
      }

      function render(data) {
        renderStatus(data.status);
        if (data.history) {
          hist = mergeHistory(hist, data.history);
          histReceived = performance.now();
          recent = recentAnswers(hist);
          renderHistory(hist, data.status.startedAt);
        } else if (data.recent) {
          recent = data.recent;
        }
        renderEdges(data.edges);
        renderStats(data.stats, data.status.queriesPerSecond);
      }

      function poll() {
        Promise.all([fetchJSON("/api/v1/status"), fetchJSON("/api/v1/edges"), fetchJSON("/api/v1/stats"), fetchJSON(historyPath())])
          .then(function (replies) {
            render({ status: replies[0], edges: replies[1], stats: replies[2], history: replies[3] });
            setConnection(true);
          })
          .catch(function (error) { setConnection(false, String(error)); })
          .then(function () { setTimeout(poll, POLL_MS); });
      }

      try { render(JSON.parse(byId("initial-data").textContent)); } catch (error) { setConnection(false, String(error)); }
      // The hour itself is not in the page (the server drew it); the first poll reads it.
      poll();
    })();
    """#
}
