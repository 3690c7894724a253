/* govaudit report: sortable and filterable tables, progressive enhancement only.
   Without JavaScript every table is complete; this script only hides and reorders rows.
   No network, no eval, no inline handlers (the page's CSP forbids them).

   Markup it understands:
     <table data-sortable>              sort buttons are added to the column headings
     <th data-sort-type="num">          numeric sort for that column
     <td data-sort="...">               sort key when it differs from the text
     <table data-page-size="2000">      show at most that many matching rows (a very long
                                        table re-lays out slowly; "Show all" lifts it)
     <div data-filter-for="TABLE-ID">   filter tools: an <input>, a .filter-status and an
                                        optional button.show-all; shown only when JS runs
     <table data-rows="SCRIPT-ID">      the table's rows are data: a <script type=
                                        "application/json"> holding {"rows": [...]}, each row a
                                        list of cells, a cell a string or [text, second line,
                                        link]; without JS the page's own first rows show, with
                                        JS the filtered and sorted page is drawn from the data
                                        (a 30,000-row table as elements is too heavy a page)
*/
(function () {
  "use strict";

  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var fmt = function (n) { return n.toLocaleString("en-US"); };

  function Table(table) {
    this.table = table;
    this.body = table.tBodies[0];
    var size = parseInt(table.getAttribute("data-page-size") || "", 10);
    this.limit = size > 0 ? size : Infinity;
    this.showAll = false;
    this.terms = [];
    this.texts = null;
    this.tools = null;
  }

  Table.prototype.matches = function (row) {
    if (!this.terms.length) { return true; }
    if (this.texts === null) {
      var texts = new Map();
      each(this.body.rows, function (r) { texts.set(r, r.textContent.toLowerCase()); });
      this.texts = texts;
    }
    var text = this.texts.get(row) || "";
    return this.terms.every(function (t) { return text.indexOf(t) !== -1; });
  };

  /* Hide the rows that do not match, and those past the page size. Only rows whose state
     changes are touched, so the browser re-lays out as little as possible. */
  Table.prototype.refresh = function () {
    var matched = 0;
    var shown = 0;
    var self = this;
    each(this.body.rows, function (row) {
      var ok = self.matches(row);
      if (ok) { matched += 1; }
      var visible = ok && (self.showAll || matched <= self.limit);
      if (visible) { shown += 1; }
      if (row.hidden === visible) { row.hidden = !visible; }
    });
    this.report(shown, matched, this.body.rows.length);
  };

  /* The filter tools' status line and "Show all" button. */
  Table.prototype.report = function (shown, matched, total) {
    if (!this.tools) { return; }
    var status = this.tools.querySelector(".filter-status");
    var more = this.tools.querySelector("button.show-all");
    if (status) {
      var text = this.terms.length
        ? "Showing " + fmt(shown) + " of " + fmt(matched) + " matching rows (" + fmt(total) + " in all)"
        : (shown === total ? "Showing all " + fmt(total) + " rows"
          : "Showing the first " + fmt(shown) + " of " + fmt(total) + " rows; filter to narrow them");
      status.textContent = text;
    }
    if (more) { more.hidden = shown === matched; }
  };

  Table.prototype.makeSortable = function () {
    var head = this.table.tHead;
    if (!head || !this.body || !head.rows.length) { return; }
    var headers = head.rows[head.rows.length - 1].cells;
    var keys = {};
    var current = { index: -1, dir: 1 };
    var self = this;

    function key(row, index, numeric) {
      var cell = row.cells[index];
      if (!cell) { return numeric ? -Infinity : ""; }
      var raw = cell.getAttribute("data-sort");
      if (raw === null) { raw = cell.textContent; }
      raw = raw.trim();
      if (numeric) {
        var n = parseFloat(raw.replace(/[,%\s]/g, ""));
        return isNaN(n) ? -Infinity : n;
      }
      return raw.toLowerCase();
    }

    function sortBy(index, numeric) {
      var rows = Array.prototype.slice.call(self.body.rows);
      if (!keys[index]) {
        keys[index] = new Map();
        rows.forEach(function (row) { keys[index].set(row, key(row, index, numeric)); });
      }
      var dir = (current.index === index) ? -current.dir : 1;
      var map = keys[index];
      var order = rows.map(function (row, pos) { return [map.get(row), pos, row]; });
      order.sort(function (a, b) {
        if (a[0] < b[0]) { return -dir; }
        if (a[0] > b[0]) { return dir; }
        return a[1] - b[1];
      });
      var frag = document.createDocumentFragment();
      order.forEach(function (item) { frag.appendChild(item[2]); });
      self.body.appendChild(frag);
      current = { index: index, dir: dir };
      each(headers, function (th, i) {
        if (i === index) {
          th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        } else {
          th.removeAttribute("aria-sort");
        }
      });
      if (self.terms.length || self.limit !== Infinity) { self.refresh(); }
    }

    each(headers, function (th, index) {
      if (th.colSpan > 1 || th.getAttribute("data-nosort") !== null) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      var numeric = th.getAttribute("data-sort-type") === "num";
      button.addEventListener("click", function () { sortBy(index, numeric); });
    });
  };

  Table.prototype.attachTools = function (tools, size) {
    var input = tools.querySelector("input");
    var more = tools.querySelector("button.show-all");
    var self = this;
    var timer = null;
    this.tools = tools;
    if (input) {
      input.addEventListener("input", function () {
        if (timer) { clearTimeout(timer); }
        timer = setTimeout(function () {
          self.terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
          self.refresh();
        }, (size || self.body.rows.length) > 2000 ? 150 : 0);
      });
    }
    if (more) {
      more.addEventListener("click", function () {
        self.showAll = true;
        self.refresh();
      });
    }
    tools.hidden = false;
  };

  /* Each body cell gets its column's heading as data-label, which the stylesheet shows
     before the value when a narrow window stacks the table's rows as cards. */
  function headerLabels(table) {
    var head = table.tHead;
    var labels = [];
    if (!head || !head.rows.length) { return labels; }
    each(head.rows[head.rows.length - 1].cells, function (th) {
      var abbr = th.querySelector("abbr[title]");
      var label = th.getAttribute("data-label") || (abbr ? abbr.getAttribute("title") : th.textContent);
      label = label.replace(/\s+/g, " ").trim();
      for (var i = 0; i < th.colSpan; i += 1) { labels.push(label); }
    });
    return labels;
  }

  function labelCells(table) {
    var labels = headerLabels(table);
    if (!labels.length) { return; }
    each(table.tBodies, function (body) {
      each(body.rows, function (row) {
        var col = 0;
        each(row.cells, function (cell) {
          if (cell.tagName === "TD" && labels[col] && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", labels[col]);
          }
          col += cell.colSpan;
        });
      });
    });
    table.classList.add("stacked");
  }

  /* Below 768 px the section links fold behind a Menu button. */
  function collapseNav() {
    var nav = document.querySelector(".site-header nav");
    var list = nav && nav.querySelector("ul");
    if (!list) { return; }
    if (!list.id) { list.id = "report-sections"; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "nav-toggle";
    button.textContent = "Menu";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", list.id);
    button.addEventListener("click", function () {
      var open = !nav.classList.contains("open");
      nav.classList.toggle("open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    nav.insertBefore(button, list);
  }

  /* A table drawn from data: filter, sort and page over rows that are not elements. */
  function DataTable(table, data) {
    this.table = table;
    this.body = table.tBodies[0];
    this.rows = data.rows || [];
    var size = parseInt(table.getAttribute("data-page-size") || "", 10);
    this.limit = size > 0 ? size : Infinity;
    this.showAll = false;
    this.terms = [];
    this.order = this.rows.map(function (_, i) { return i; });
    this.labels = headerLabels(table);  // drawn cells are labelled as labelCells does
    this.texts = null;
    this.tools = null;
  }

  function cellText(cell) {
    if (typeof cell === "string") { return cell; }
    return cell ? [cell[0], cell[1]].filter(Boolean).join(" ") : "";
  }

  /* Only a relative link to another page of the report: never a scheme or another host. */
  function safeHref(href) {
    return typeof href === "string" && /^[a-z0-9][a-z0-9._\/-]*\.html(#[a-z0-9-]+)?$/i.test(href)
      && href.indexOf("..") === -1;
  }

  DataTable.prototype.matches = function (i) {
    if (!this.terms.length) { return true; }
    if (this.texts === null) {
      this.texts = this.rows.map(function (row) {
        return row.map(cellText).join(" ").toLowerCase();
      });
    }
    var text = this.texts[i];
    return this.terms.every(function (t) { return text.indexOf(t) !== -1; });
  };

  DataTable.prototype.drawRow = function (row) {
    var tr = document.createElement("tr");
    var labels = this.labels;
    row.forEach(function (cell, index) {
      var td = document.createElement("td");
      if (labels[index]) { td.setAttribute("data-label", labels[index]); }
      var parts = typeof cell === "string" ? [cell] : (cell || [""]);
      var first = document.createTextNode(parts[0] || "");
      if (parts[2] && safeHref(parts[2])) {
        var a = document.createElement("a");
        a.setAttribute("href", parts[2]);
        a.appendChild(first);
        td.appendChild(a);
      } else {
        td.appendChild(first);
      }
      if (parts[1]) {
        td.appendChild(document.createElement("br"));
        var second = document.createElement("span");
        second.className = "reason";
        second.textContent = parts[1];
        td.appendChild(second);
      }
      tr.appendChild(td);
    });
    return tr;
  };

  DataTable.prototype.refresh = function () {
    var self = this;
    var matched = 0;
    var frag = document.createDocumentFragment();
    this.order.forEach(function (i) {
      if (!self.matches(i)) { return; }
      matched += 1;
      if (self.showAll || matched <= self.limit) { frag.appendChild(self.drawRow(self.rows[i])); }
    });
    var shown = Math.min(matched, this.showAll ? matched : this.limit);
    while (this.body.firstChild) { this.body.removeChild(this.body.firstChild); }
    this.body.appendChild(frag);
    Table.prototype.report.call(this, shown, matched, this.rows.length);
  };

  DataTable.prototype.makeSortable = function () {
    var head = this.table.tHead;
    if (!head || !head.rows.length) { return; }
    var headers = head.rows[head.rows.length - 1].cells;
    var current = { index: -1, dir: 1 };
    var self = this;
    each(headers, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var dir = (current.index === index) ? -current.dir : 1;
        var keys = self.rows.map(function (row) {
          var cell = row[index];
          return (typeof cell === "string" ? cell : (cell ? cell[0] || "" : "")).toLowerCase();
        });
        self.order.sort(function (a, b) {
          if (keys[a] < keys[b]) { return -dir; }
          if (keys[a] > keys[b]) { return dir; }
          return a - b;
        });
        current = { index: index, dir: dir };
        each(headers, function (h, i) {
          if (i === index) {
            h.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
          } else {
            h.removeAttribute("aria-sort");
          }
        });
        self.refresh();
      });
    });
  };

  DataTable.prototype.attachTools = function (tools) {
    Table.prototype.attachTools.call(this, tools, this.rows.length);
  };

  function init() {
    document.documentElement.classList.add("js");
    collapseNav();
    each(document.querySelectorAll("table.data"), labelCells);
    var tables = new Map();
    function get(table) {
      if (!tables.has(table)) { tables.set(table, new Table(table)); }
      return tables.get(table);
    }
    each(document.querySelectorAll("table[data-rows]"), function (t) {
      var source = document.getElementById(t.getAttribute("data-rows"));
      if (!t.tBodies[0] || !source) { return; }
      var data;
      try { data = JSON.parse(source.textContent); } catch (e) { return; }
      var table = new DataTable(t, data);
      tables.set(t, table);
      table.makeSortable();
    });
    each(document.querySelectorAll("table[data-sortable]"), function (t) {
      if (t.tBodies[0] && !tables.has(t)) { get(t).makeSortable(); }
    });
    each(document.querySelectorAll("[data-filter-for]"), function (tools) {
      var table = document.getElementById(tools.getAttribute("data-filter-for"));
      if (table && table.tBodies[0]) { get(table).attachTools(tools); }
    });
    each(document.querySelectorAll("table[data-page-size]"), function (t) {
      if (t.tBodies[0]) { get(t); }
    });
    tables.forEach(function (t) {
      if (t.tools || t.limit < t.body.rows.length) { t.refresh(); }
    });
    window.addEventListener("beforeprint", function () {
      each(document.querySelectorAll("details"), function (d) {
        d.setAttribute("data-was-open", d.open ? "1" : "0");
        d.open = true;
      });
    });
    window.addEventListener("afterprint", function () {
      each(document.querySelectorAll("details[data-was-open]"), function (d) {
        d.open = d.getAttribute("data-was-open") === "1";
        d.removeAttribute("data-was-open");
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
