"""The class report: how the class did per exercise, what went wrong most often, totals."""

import base64
import html
import io
from collections import Counter, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _summary(results):
    means, failures = defaultdict(list), defaultdict(Counter)
    for r in results:
        for key, (score, top, by_hand) in r.scores.items():
            if not by_hand:
                means[(r.assignment, key)].append((score, top))
        for gid, message in r.failures.items():
            failures[(r.assignment, gid)][_first_line(message)] += 1
    return means, failures


def _first_line(message, most=400):
    """The message's first line, whole unless very long; then cut at a word, with an ellipsis."""
    line = message.split("\n")[0]
    if len(line) <= most:
        return line
    return line[:most].rsplit(" ", 1)[0].rstrip(" ,;:") + " \u2026"


def _written(rows, assignment):
    """HTML saying how many written answers of `assignment` wait for a person, and whose."""
    rows = [row for row in rows if row.assignment == assignment]
    answers = sum(sum(by_hand for _, _, by_hand in row.cells.values()) for row in rows)
    if not answers:
        return ""
    waiting = {row.student: row.pending for row in rows if row.pending}
    graded = answers - sum(waiting.values())
    text = (f"Written answers: {graded} of {answers} graded by a person; "
            f"{sum(waiting.values())} waiting for a grader")
    if not waiting:
        return f"<p>{html.escape(text)}.</p>"
    who = ", ".join(f"{s} ({n})" for s, n in sorted(waiting.items()))
    return (f"<p><b>{html.escape(text)}</b> (formgrader's Manual Grading; until then they count "
            f"nothing in the totals and show as pending in grades.csv): {html.escape(who)}.</p>")


def write_report(path, results, not_collected=(), rows=()):
    """Write an HTML report of `results` ([grade.Result]) to `path`.

    not_collected: ["file: why"] for downloaded files that became nobody's submission;
    rows: [export.Row] of the class gradebook, for the written answers waiting for a person.
    """
    means, failures = _summary(results)
    statuses = Counter(r.status for r in results)
    parts = ["<html><head><meta charset='utf-8'><title>Class report</title>"
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}"
             "table{border-collapse:collapse}tr:nth-child(even){background:#f2f2f2}</style></head><body>",
             "<h1>Class report</h1>",
             *(["<p style='color:#b00;font-weight:bold'>" + html.escape(
                 f"{sum(not r.isolated for r in results)} submission(s) graded WITHOUT isolation "
                 "(--no-sandbox): student code could reach the grader and other students' work.") + "</p>"]
               if any(not r.isolated for r in results) else []),
             "<p>" + ", ".join(f"{n} {html.escape(s)}" for s, n in sorted(statuses.items())) + "</p>"]
    gradebook_rows = rows
    for assignment in sorted({r.assignment for r in results}):
        rows = [r for r in results if r.assignment == assignment]
        parts.append(f"<h2>{html.escape(assignment)} ({len(rows)} submissions)</h2>")
        parts.append(_written(gradebook_rows, assignment))
        parts.append("<table><tr><th>exercise</th><th>mean score</th><th>full marks</th>"
                     "<th>most common failures</th></tr>")
        keys = [k for (a, k) in means if a == assignment]
        for key in keys:
            scores = means[(assignment, key)]
            top = scores[0][1]
            mean = sum(s for s, _ in scores) / len(scores)
            full = sum(s >= t for s, t in scores)
            gid = key.split("/")[-1]
            common = failures.get((assignment, gid), Counter()).most_common(3)
            listed = "<br>".join(f"{n}&times; {html.escape(m)}" for m, n in common)
            parts.append(f"<tr><td>{html.escape(gid)}</td><td>{mean:.2f} / {top:g}</td>"
                         f"<td>{full} of {len(scores)}</td><td>{listed}</td></tr>")
        parts.append("</table>")
        totals = [r.auto_score for r in rows]
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(totals, bins=min(20, max(5, len(set(totals)))), color="tab:blue")
        ax.set(xlabel="autograded total", ylabel="students", title=f"{assignment}: totals")
        parts.append(_png(fig))
        bad = [r for r in rows if r.status != "graded"]
        if bad:
            parts.append("<h3>Submissions that need a look</h3><table><tr><th>student</th><th>status</th>"
                         "<th>reasons</th></tr>")
            for r in bad:
                parts.append(f"<tr><td>{html.escape(r.student)}</td><td>{html.escape(r.status)}</td>"
                             f"<td>{'<br>'.join(html.escape(x) for x in r.reasons)}</td></tr>")
            parts.append("</table>")
    if not_collected:
        parts.append("<h2>Downloaded files not collected</h2><ul>")
        parts += [f"<li>{html.escape(line)}</li>" for line in not_collected]
        parts.append("</ul>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
