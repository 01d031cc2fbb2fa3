/*
** ft_report_html.c — the page of `fragtrace report --format html` (see
** ft_report_html.h): the styles, the header, what the reader needs first
** (findings with their advice, tripped gates, the summary), then the
** charts and tables in the order a fragmentation investigation goes:
** memory over time, the call sites, the flame graph, the host. What the
** text report says about production mode (issue 5) the page says in the
** same words: the sampling line, "(est.)" labels, the exact totals,
** untracked, unwritten and thinned counts, recording periods.
**
** The page is one file with nothing to fetch: inline CSS (system fonts
** only), inline SVG, no script, no URL, and a Content-Security-Policy
** that forbids loading anything. Interactions are HTML's own:
** <details> for stacks, <title> for tooltips, radio buttons and CSS for
** the flame graph's weight. Print styles keep the charts whole and drop
** the controls.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_frag.h"
#include "ft_report_html.h"
#include "ft_svg.h"

#define CAP FT_FMT_CAP

static const char css[] =
    ":root{--fg:#1d2330;--mute:#5b6475;--line:#d9dde5;--bg:#fff;--card:#f5f7fa;--live:#2563eb;--rss:#dc2626;"
    "--pss:#059669;--gap:#f59e0b;--peak:#7c3aed}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;max-width:1180px;padding:16px 24px 48px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--fg);background:var(--bg)}\n"
    "h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;padding-top:8px;border-top:1px solid "
    "var(--line)}h3{font-size:15px;margin:16px 0 6px}h3 small{color:var(--mute);font-weight:400}\n"
    "code,.site,.stack{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:12.5px}\n"
    ".meta{color:var(--mute);margin:0 0 4px}.note{color:var(--mute);font-style:italic}\n"
    "nav{margin:8px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px}nav a{color:var(--live);text-decoration:none}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px;margin:8px 0}\n"
    ".card{background:var(--card);border-radius:6px;padding:8px 10px}.card b{display:block;font-size:17px}"
    ".card span{color:var(--mute);font-size:12px}\n"
    "ol.findings{padding-left:20px}ol.findings>li{margin:0 0 10px}.sev{display:inline-block;border-radius:4px;padding:0 6px;"
    "margin-right:6px;font-size:12px;font-weight:600;color:#fff}.sev1{background:#b91c1c}.sev2{background:#d97706}"
    ".sev3{background:#2563eb}.clear{background:#ecfdf5;border-left:4px solid #059669;padding:8px 12px}\n"
    ".advice{margin:4px 0 0;color:#374151}.rule{color:var(--mute);font-size:12px}\n"
    "table{border-collapse:collapse;width:100%}th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:right;"
    "vertical-align:top;white-space:nowrap}th{font-weight:600;background:var(--card)}td.site,th:last-child{text-align:left;"
    "white-space:normal}td.viz{padding:2px 6px;text-align:left}.scroll{overflow-x:auto}\n"
    "table.gates td:first-child,table.gates th:first-child{text-align:left}.failed{color:#b91c1c;font-weight:600}\n"
    "summary{cursor:pointer}ol.stack{margin:4px 0 4px 0;padding-left:34px;color:var(--mute)}ol.stack li.at{color:var(--fg);"
    "font-weight:600}ol.stack li.wrap{opacity:.7}\n"
    "svg{display:block}svg.chart{width:100%;height:auto}svg text{font:11px system-ui,Arial,sans-serif;fill:#4b5563}\n"
    ".axis line{stroke:#9ca3af}.axis .grid{stroke:#eceef2}.axis .frame{stroke:#6b7280;fill:none}path.frame{stroke:#6b7280}\n"
    "path.live{fill:none;stroke:var(--live);stroke-width:2}path.rss{fill:none;stroke:var(--rss);stroke-width:1.6}"
    "path.pss{fill:none;stroke:var(--pss);stroke-width:1.4;stroke-dasharray:5 3}circle.rss{fill:var(--rss)}circle.live{fill:var(--live)}circle.pss{fill:var(--pss)}"
    ".gap path{fill:var(--gap);fill-opacity:.28}.peak line{stroke:var(--peak);stroke-dasharray:3 3}.peak text{fill:var(--peak);"
    "font-weight:600}circle.peakdot{fill:var(--peak)}\n"
    ".ev line{stroke-width:1.5}.ev.compact line{stroke:#ea580c}.ev.thp line{stroke:#9333ea;stroke-dasharray:2 2}\n"
    ".paused rect,.untraced rect{fill:#6b7280;fill-opacity:.16}.paused text,.untraced text{fill:#4b5563;font-style:italic}"
    ".ctl line{stroke:#374151;stroke-width:1.2;stroke-dasharray:4 2}.ctl text{fill:#374151}"
    ".key.paused i{background:#6b7280;opacity:.3}.key.ctl i{background:#374151;height:2px}\n"
    ".mode{margin:4px 0;padding:4px 10px;border-left:3px solid #9ca3af;background:var(--card)}"
    "h3.proc{margin-top:20px}h3.proc code{font-weight:400}\n"
    "rect.cnt{fill:#1e40af}rect.byt{fill:#93c5fd}svg.spark path{fill:#bfdbfe;stroke:#2563eb;stroke-width:1}svg.bars rect{fill:#64748b}\n"
    ".legend{margin:2px 0 10px;font-size:12px;color:var(--mute)}.key{margin-right:14px;white-space:nowrap}.key i{display:inline-block;"
    "width:14px;height:10px;margin-right:4px;vertical-align:middle;border-radius:2px;background:#999}\n"
    ".key.live i{background:var(--live)}.key.rss i{background:var(--rss)}.key.pss i{background:var(--pss)}"
    ".key.gap i{background:var(--gap);opacity:.5}.key.peak i{background:var(--peak)}\n"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}figure{margin:0}figcaption{font-size:12px;color:var(--mute)}\n"
    "@media (max-width:800px){.pair{grid-template-columns:1fr}}\n"
    ".flame input{position:absolute;opacity:0}.flame label{display:inline-block;padding:3px 12px;margin:0 4px 8px 0;border:1px solid "
    "var(--line);border-radius:14px;cursor:pointer;font-size:13px}.flame input:checked+label{background:var(--fg);color:#fff;"
    "border-color:var(--fg)}.flame input:focus-visible+label{outline:2px solid var(--live)}\n"
    ".fg{display:none}#fw0:checked~.fg0,#fw1:checked~.fg1,#fw2:checked~.fg2,#fw3:checked~.fg3{display:block}\n"
    "svg.flamegraph{width:100%;height:auto}svg.flamegraph text{font:11px ui-monospace,Menlo,Consolas,monospace;fill:#111;"
    "pointer-events:none}svg.flamegraph rect{stroke:#fff;stroke-width:.5}svg.flamegraph g:hover rect{stroke:#111;stroke-width:1}\n"
    "footer{margin-top:32px;color:var(--mute);font-size:12px}\n"
    "@media print{body{max-width:none;padding:0;font-size:11px}nav,.flame label{display:none}h2{break-after:avoid}"
    "svg,figure,tr{break-inside:avoid}.scroll{overflow:visible}a{color:inherit}}\n";

void ft_html_heading(FILE *out, const char *id, const char *title) {
  fprintf(out, "<h2 id=\"%s\">", id);
  ft_html_esc(out, title);
  fputs("</h2>\n", out);
}

void ft_html_para(FILE *out, const char *cls, const char *text) {
  if (cls) fprintf(out, "<p class=\"%s\">", cls);
  else fputs("<p>", out);
  ft_html_esc(out, text);
  fputs("</p>\n", out);
}

static void card(FILE *out, const char *label, const char *value, const char *detail) {
  fputs("<div class=\"card\"><span>", out);
  ft_html_esc(out, label);
  fputs("</span><b>", out);
  ft_html_esc(out, value);
  fputs("</b>", out);
  if (detail) {
    fputs("<span>", out);
    ft_html_esc(out, detail);
    fputs("</span>", out);
  }
  fputs("</div>\n", out);
}

static const char *pct(char *buf, int64_t part, int64_t whole) {
  return ft_fmt_pct(buf, CAP, whole > 0 ? 100.0 * (double)part / (double)whole : 0);
}

/* The summary cards. From a byte-sampled trace what comes from the rows
** (counts, bytes, the peak, leaks, lifetimes) is estimated and says so
** ("(est.)"; the peak and temporary are not even unbiased, schema/README.md
** "Production mode"); the exact counters of heap_totals get
** cards of their own whenever they say something the rows do not (a
** sampled trace, a paused recording, a --since window), and the live
** usable bytes at the end always (no row gives them). Below the cards:
** what the recorder left out (untracked, unwritten, thinned) and each
** image's recording periods, in the text report's words. */
static void summary(const ft_report *r, FILE *out) {
  char a[CAP], b[CAP], c[CAP], line[1024];
  int est = r->nsampled > 0;
  ft_html_heading(out, "summary", "Summary");
  fputs("<div class=\"cards\">\n", out);
  if (r->nprocs == 1) snprintf(line, sizeof line, "pid %lld", (long long)r->procs[0].pid);
  snprintf(a, sizeof a, "%zu", r->nprocs);
  card(out, "processes", a, r->nprocs == 1 ? line : NULL);
  card(out, "runtime", ft_fmt_duration(a, sizeof a, (double)r->runtime_ns), NULL);
  snprintf(line, sizeof line, "%s frees%s", ft_fmt_int(b, sizeof b, r->frees), est ? " (est.)" : "");
  card(out, est ? "allocations (est.)" : "allocations", ft_fmt_int(a, sizeof a, r->allocations), line);
  snprintf(line, sizeof line, "%s bytes", ft_fmt_int(b, sizeof b, r->bytes));
  card(out, est ? "bytes allocated (est.)" : "bytes allocated", ft_fmt_bytes(a, sizeof a, (double)r->bytes), line);
  if (r->ntotals > 0) {
    const ft_exact_totals *t = &r->totals;
    if (t->allocations != r->allocations || t->frees != r->frees || t->bytes != r->bytes) {
      snprintf(line, sizeof line, "%s frees, paused and unsampled ones included", ft_fmt_int(b, sizeof b, t->frees));
      card(out, "allocations (exact)", ft_fmt_int(a, sizeof a, t->allocations), line);
      snprintf(line, sizeof line, "%s bytes", ft_fmt_int(b, sizeof b, t->bytes));
      card(out, "bytes requested (exact)", ft_fmt_bytes(a, sizeof a, (double)t->bytes), line);
    }
    snprintf(line, sizeof line, "%s bytes at the end of recording", ft_fmt_int(b, sizeof b, t->usable_live_bytes));
    card(out, "live usable (exact)", ft_fmt_bytes(a, sizeof a, (double)t->usable_live_bytes), line);
    if (t->untracked > 0)
      card(out, "untracked", ft_fmt_int(a, sizeof a, t->untracked),
           "sampled allocations not recorded (the recorder's block table was full)");
    if (t->thinned > 0)
      card(out, "unwritten (max size)", ft_fmt_int(a, sizeof a, t->thinned),
           "events not written (the spill reached its maximum size)");
  }
  if (r->peak_proc) {
    const ft_proc_info *p = r->peak_proc;
    snprintf(line, sizeof line, "%s blocks at %s, pid %lld", ft_fmt_int(b, sizeof b, p->peak_live_allocations),
             ft_fmt_duration(c, sizeof c, (double)p->peak_live_ns), (long long)p->pid);
    card(out, est ? "peak live heap (est.)" : "peak live heap", ft_fmt_bytes(a, sizeof a, (double)p->peak_live_bytes), line);
  } else {
    card(out, "peak live heap", "0 B", NULL);
  }
  if (r->rss_proc) {
    const ft_proc_info *p = r->rss_proc;
    snprintf(line, sizeof line, "at %s, pid %lld", ft_fmt_duration(c, sizeof c, (double)p->peak_rss_ns), (long long)p->pid);
    card(out, "peak RSS", ft_fmt_bytes(a, sizeof a, (double)p->peak_rss_bytes), line);
  } else {
    card(out, "peak RSS", "no samples", NULL);
  }
  snprintf(line, sizeof line, "%s blocks%s", ft_fmt_int(b, sizeof b, r->leaked), r->nsupp > 0 ? ", after suppressions" : "");
  card(out, est ? "leaked (est.)" : "leaked", ft_fmt_bytes(a, sizeof a, (double)r->leaked_bytes), line);
  snprintf(line, sizeof line, "%s allocations freed within %s", ft_fmt_int(b, sizeof b, r->short_lived),
           ft_fmt_duration(c, sizeof c, (double)r->short_lived_ns));
  card(out, est ? "short-lived (est.)" : "short-lived", pct(a, r->short_lived, r->allocations), line);
  snprintf(line, sizeof line, "%s freed before their thread allocated again", ft_fmt_int(b, sizeof b, r->temporary));
  card(out, est ? "temporary (est.)" : "temporary", pct(a, r->temporary, r->allocations), line);
  snprintf(line, sizeof line, "%s mapping%s", ft_fmt_int(b, sizeof b, r->mmap_count), r->mmap_count == 1 ? "" : "s");
  card(out, "mmap", ft_fmt_bytes(a, sizeof a, (double)r->mmap_bytes), line);
  if (r->events_dropped > 0) card(out, "events dropped", ft_fmt_int(a, sizeof a, r->events_dropped), "numbers are lower bounds");
  fputs("</div>\n", out);
  ft_report_thinning_text(r, line, sizeof line);
  if (line[0]) {
    fputs("<p class=\"mode\"><b>Thinned:</b> ", out);
    ft_html_esc(out, line);
    fputs(".</p>\n", out);
  }
  for (size_t i = 0; i < r->nprocs; i++) {
    const ft_proc_info *p = &r->procs[i];
    if (!p->nctl) continue;
    ft_report_recording_text(p, line, sizeof line);
    if (r->nprocs > 1) fprintf(out, "<p class=\"mode\"><b>Recording, pid %lld:</b> ", (long long)p->pid);
    else fputs("<p class=\"mode\"><b>Recording:</b> ", out);
    ft_html_esc(out, line);
    fputs(".</p>\n", out);
  }
}

static const char *const severity_name[] = {"", "high", "medium", "low"};

static void findings(const ft_report *r, FILE *out) {
  const ft_frag_report *f = r->frag;
  ft_html_heading(out, "findings", "Findings and advice");
  if (!f) {
    ft_html_para(out, "note",
                 "The fragmentation section is not in this report (the trace has no samples, or --section left it out): "
                 "no findings.");
    return;
  }
  int program = 0;
  for (int i = 0; i < f->nfindings; i++) program += f->findings[i].scope != FT_FIND_SYSTEM;
  int has_program = f->has_psamples || f->nchurn > 0 || f->npins > 0 || f->nmix > 0;
  if (program == 0 && has_program)
    fputs("<p class=\"clear\">All clear: no fragmentation finding for the program.</p>\n", out);
  else if (program == 0)
    ft_html_para(out, "note", "No program data in this trace (host samples only).");
  if (f->nfindings == 0) return;
  fputs("<ol class=\"findings\">\n", out);
  for (int i = 0; i < f->nfindings; i++) {
    const ft_finding *x = &f->findings[i];
    const char *scope = x->scope == FT_FIND_SYSTEM ? "host" : x->scope == FT_FIND_PROCESS ? "process" : "site";
    int sev = x->severity >= 1 && x->severity <= 3 ? x->severity : 3;
    fprintf(out, "<li><span class=\"sev sev%d\">%s</span>", sev, severity_name[sev]);
    ft_html_esc(out, x->text);
    fputs(" <span class=\"rule\">(", out);
    ft_html_esc(out, x->rule);
    fprintf(out, ", %s)</span>", scope);
    if (x->nadvice > 0) {
      fputs("<ul class=\"advice\">", out);
      for (int k = 0; k < x->nadvice; k++) {
        fputs("<li>", out);
        ft_html_esc(out, x->advice[k]);
        fputs("</li>", out);
      }
      fputs("</ul>", out);
    }
    fputs("</li>\n", out);
  }
  fputs("</ol>\n", out);
}

static void gates(const ft_report *r, FILE *out) {
  if (r->ngates == 0) return;
  ft_html_heading(out, "gates", "Gates");
  fputs("<table class=\"gates\"><thead><tr><th>gate</th><th>result</th><th>detail</th></tr></thead><tbody>\n", out);
  for (int i = 0; i < r->ngates; i++) {
    const ft_gate_result *g = &r->gates[i];
    fprintf(out, "<tr><td><code>--%s</code></td><td class=\"%s\">%s</td><td class=\"site\">", g->gate, g->tripped ? "failed" : "ok",
            g->tripped ? "FAILED" : "ok");
    ft_html_esc(out, g->message);
    fputs("</td></tr>\n", out);
  }
  fputs("</tbody></table>\n", out);
}

int ft_report_html(const ft_report *r, FILE *out, char *err, size_t errlen) {
  unsigned sec = r->opts->sections;
  /* The policy makes "nothing to fetch" the browser's rule too: should a
  ** symbol name or path ever smuggle markup past the escaping, it can
  ** neither run nor load anything. */
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>fragtrace report: ",
        out);
  ft_html_esc(out, r->command && *r->command ? r->command : r->opts->path);
  fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>fragtrace report</h1>\n<p class=\"meta\">command: <code>", css);
  ft_html_esc(out, r->command ? r->command : "?");
  fputs("</code> · trace: <code>", out);
  ft_html_esc(out, r->opts->path);
  fputs("</code></p>\n", out);
  if (r->window_lo > 0 || r->window_hi >= 0) {
    char a[CAP], b[CAP], line[256];
    if (r->window_hi >= 0)
      snprintf(line, sizeof line, "Window: allocations made from %s to %s after the trace started.",
               ft_fmt_duration(a, sizeof a, (double)r->window_lo), ft_fmt_duration(b, sizeof b, (double)r->window_hi));
    else
      snprintf(line, sizeof line, "Window: allocations made from %s after the trace started.",
               ft_fmt_duration(a, sizeof a, (double)r->window_lo));
    ft_html_para(out, "meta", line);
  }
  if (r->nsampled > 0) {
    /* As the text report says it: sampled numbers are estimates. */
    char line[256];
    if (r->sample_bytes > 0)
      snprintf(line, sizeof line, "Sampled: 1 allocation per %lld bytes on average%s; per-site counts and bytes are estimates.",
               (long long)r->sample_bytes, r->nsampled < (int)r->nprocs ? " (some processes)" : "");
    else
      snprintf(line, sizeof line, "Sampled: %d of %zu processes, at different rates; per-site counts and bytes are estimates.",
               r->nsampled, r->nprocs);
    ft_html_para(out, "meta", line);
  }
  fputs("<nav>", out);
  static const struct {
    const char *id, *name;
    unsigned sec;
  } toc[] = {{"findings", "Findings", 0},   {"summary", "Summary", FT_SEC_SUMMARY}, {"timeline", "Memory over time", 0},
             {"churn", "Churn", FT_SEC_CHURN}, {"leaks", "Leaks", FT_SEC_LEAKS},   {"peak", "Peak", FT_SEC_PEAK},
             {"pinning", "Pinning", FT_SEC_FRAG}, {"sizes", "Sizes", FT_SEC_SIZES}, {"flame", "Flame graph", 0},
             {"system", "Host memory", FT_SEC_FRAG}};
  for (size_t i = 0; i < sizeof toc / sizeof *toc; i++) {
    if (!toc[i].sec || (sec & toc[i].sec)) fprintf(out, "<a href=\"#%s\">%s</a>", toc[i].id, toc[i].name);
    if (i == 0 && r->ngates > 0) fputs("<a href=\"#gates\">Gates</a>", out);
  }
  fputs("</nav>\n</header>\n<main>\n", out);
  findings(r, out);
  gates(r, out);
  if (sec & FT_SEC_SUMMARY) summary(r, out);
  ft_html_timeline(r, out);
  ft_html_sites(r, out);
  if (ft_html_flame(r, out, err, errlen) != 0) return -1;
  if (sec & FT_SEC_FRAG) ft_html_system(r, out);
  fprintf(out, "</main>\n<footer>Written by fragtrace %s", FT_VERSION);
  if (r->fragtrace_version) {
    fputs(" from a trace recorded by fragtrace ", out);
    ft_html_esc(out, r->fragtrace_version);
  }
  fputs(". Self-contained: no script, no external resource.</footer>\n</body>\n</html>\n", out);
  return ferror(out) ? (snprintf(err, errlen, "write error"), -1) : 0;
}
