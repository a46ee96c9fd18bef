package errtrack

import (
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"
)

// pageTemplates parses the page's templates on first use.
var pageTemplates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
		},
		"statusClass": func(s int) string {
			switch {
			case s >= 500:
				return "s5"
			case s >= 400:
				return "s4"
			}
			return "s0"
		},
		"value": func(v any) string {
			if s, ok := v.(string); ok {
				return s
			}
			return fmt.Sprint(v)
		},
		"short": func(s string, n int) string {
			if r := []rune(s); len(r) > n {
				return string(r[:n-1]) + "…"
			}
			return s
		},
		"firstLine": func(s string) string {
			s, _, _ = strings.Cut(s, "\n")
			return s
		},
	}).Parse(pageHTML))
})

const pageHTML = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · otelkit</title>
<style>
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--red:#cf222e;--amber:#9a6700;--link:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header{background:#24292f;color:#fff;padding:12px 24px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:17px;margin:0}header a{color:#fff;text-decoration:none}
header .sub{color:#c9d1d9;font-size:13px}
main{padding:16px 24px}
a{color:var(--link)}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:6px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
tr:last-child td{border-bottom:0}
td.count{text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
.s5{color:var(--red);font-weight:600}.s4{color:var(--amber);font-weight:600}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;white-space:pre-wrap;margin:6px 0 0}
.muted{color:var(--muted)}.small{font-size:12px}
ul.kv{margin:0;padding:0;list-style:none}ul.kv li{font-size:12px;white-space:nowrap}
ul.kv code{color:var(--muted)}
.empty{background:#fff;border:1px dashed var(--line);border-radius:6px;padding:32px;text-align:center;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:0 0 16px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
section.occurrence{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:0 0 12px}
section.occurrence h3{font-size:13px;margin:0 0 4px;font-weight:600}
h2{font-size:15px;margin:16px 0 8px}
details.attrs{margin:4px 0}details.attrs summary{cursor:pointer;color:var(--muted);font-size:12px}
</style></head><body>
{{end}}

{{define "kv"}}{{if .}}<ul class="kv">{{range $k, $v := .}}<li><code>{{$k}}</code> = {{value $v}}</li>{{end}}</ul>{{end}}{{end}}

{{define "list"}}{{template "head" "Errors"}}
<header><h1><a href="{{.Prefix}}/">Errors</a></h1><span class="sub" id="summary">{{.Fingerprints}} fingerprint{{if ne .Fingerprints 1}}s{{end}}{{if .Evicted}} · {{.Evicted}} evicted{{end}} · newest first</span></header>
<main>
{{if .Groups}}
<table id="groups">
<thead><tr><th>Error</th><th>Status</th><th>Count</th><th>First seen</th><th>Last seen</th><th>Latest message</th><th>Extras</th><th>Trace</th></tr></thead>
<tbody>
{{range .Groups}}<tr class="group" data-fingerprint="{{.Fingerprint}}" data-count="{{.Count}}">
<td class="id"><a class="detail" href="{{.URL}}">{{if .ID}}{{.ID}}{{else}}{{.Fingerprint}}{{end}}</a><div class="muted small mono">{{short .Fingerprint 24}}</div>{{if .Route}}<div class="muted small">{{.Method}} {{.Route}}</div>{{end}}</td>
<td class="status {{statusClass .Status}}">{{if .Status}}{{.Status}}{{end}}</td>
<td class="count">{{.Count}}</td>
<td class="first small">{{when .FirstSeen}}</td>
<td class="last small">{{when .LastSeen}}</td>
<td class="message">{{short (firstLine .Message) 160}}{{if .Type}}<div class="muted small mono">{{.Type}}</div>{{end}}</td>
<td class="extras">{{template "kv" .Extras}}</td>
<td class="trace mono">{{if .TraceID}}{{short .TraceID 12}}{{end}}</td>
</tr>
{{end}}</tbody></table>
{{else}}<p class="empty" id="empty">No errors captured yet.</p>{{end}}
</main></body></html>
{{end}}

{{define "detail"}}{{template "head" .Group.ID}}
<header><h1><a href="{{.Prefix}}/">Errors</a></h1><span class="sub">/ {{if .Group.ID}}{{.Group.ID}}{{else}}{{.Group.Fingerprint}}{{end}}</span></header>
<main>
{{with .Group}}
<dl class="facts" id="facts">
<dt>Error id</dt><dd class="id">{{.ID}}</dd>
<dt>Status</dt><dd class="status {{statusClass .Status}}">{{if .Status}}{{.Status}}{{end}}</dd>
<dt>Count</dt><dd class="count">{{.Count}}</dd>
<dt>Fingerprint</dt><dd class="mono">{{.Fingerprint}}</dd>
<dt>Type</dt><dd class="mono">{{.Type}}</dd>
<dt>First seen</dt><dd>{{when .FirstSeen}}</dd>
<dt>Last seen</dt><dd>{{when .LastSeen}}</dd>
{{if .Route}}<dt>Route</dt><dd class="mono">{{.Method}} {{.Route}}</dd>{{end}}
<dt>Latest trace</dt><dd class="mono trace">{{.TraceID}}</dd>
<dt>Latest message</dt><dd class="message">{{.Message}}</dd>
{{if .Info}}<dt>Info</dt><dd>{{template "kv" .Info}}</dd>{{end}}
{{if .Extras}}<dt>Extras</dt><dd>{{template "kv" .Extras}}</dd>{{end}}
</dl>
<h2>Recent occurrences ({{len .Occurrences}})</h2>
{{range .Occurrences}}<section class="occurrence">
<h3>{{when .Time}}{{if .TraceID}} · <span class="mono">trace {{.TraceID}}</span>{{end}}</h3>
<div class="message">{{.Message}}</div>
{{if .Attributes}}<details class="attrs"><summary>{{len .Attributes}} attributes</summary>{{template "kv" .Attributes}}</details>{{end}}
{{if .Stack}}<pre class="stack">{{.Stack}}</pre>{{end}}
</section>
{{end}}
{{end}}
</main></body></html>
{{end}}

{{define "notfound"}}{{template "head" "Not found"}}
<header><h1><a href="{{.Prefix}}/">Errors</a></h1></header>
<main><p class="empty">No errors with this fingerprint are held; it may have been evicted.</p></main></body></html>
{{end}}
`
