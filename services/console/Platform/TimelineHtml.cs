using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using ReBench.Replay;

namespace ReBench.WebConsole.Platform;

/// <summary>
/// One timeline row as HTML, the same for the page's first render and for rows pushed while the attempt runs (so a
/// pushed row is indistinguishable from a reloaded one). Every value from an event is encoded: event bodies are written
/// by agents, which are untrusted.
/// </summary>
public static class TimelineHtml
{
    private static readonly HtmlEncoder Enc = HtmlEncoder.Default;

    /// <summary>The filter names of the page (the replay library's kinds).</summary>
    public static readonly IReadOnlyList<(string Kind, string Label)> Kinds =
    [
        (TimelineKind.Action, "actions"), (TimelineKind.Score, "scores"), (TimelineKind.Model, "model calls"),
        (TimelineKind.Pause, "pauses"), (TimelineKind.Lifecycle, "lifecycle"),
    ];

    public static string Row(string attemptId, ReplayEvent e, IDictionary<string, string> commandsByStep, bool broken = false)
    {
        var entry = Timeline.Entry(e);
        var stepId = e.Text("StepId");
        if (e.Type == "action_requested" && stepId is not null && e.Text("Command") is { } cmd) commandsByStep[stepId] = cmd;

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<li class=\"ev kind-{entry.Kind}{(broken ? " broken" : "")}\" id=\"ev-{e.Version}\" data-version=\"{e.Version}\" data-kind=\"{entry.Kind}\">");
        sb.Append(CultureInfo.InvariantCulture, $"<span class=\"v\">#{e.Version}</span> ");
        sb.Append("<time>").Append(Enc.Encode(entry.At?.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "")).Append("</time> ");
        sb.Append("<span class=\"type\">").Append(Enc.Encode(e.Type)).Append("</span> ");
        if (broken) sb.Append("<strong class=\"broken-mark\">BROKEN LINK</strong> ");
        switch (e.Type)
        {
            case "action_requested" when e.Text("Kind") != "write_file":
                sb.Append("<code class=\"cmd\">").Append(Enc.Encode(e.Text("Command") ?? "")).Append("</code>");
                break;
            case "action_completed":
                if (stepId is not null && commandsByStep.TryGetValue(stepId, out var command))
                    sb.Append("<code class=\"cmd\">").Append(Enc.Encode(command)).Append("</code> ");
                sb.Append(CultureInfo.InvariantCulture, $"<span class=\"exit\">exit {e.Long("ExitCode")}</span>");
                if (e.Bool("TimedOut")) sb.Append(" <span class=\"warn\">timed out</span>");
                if (e.Text("Error") is { Length: > 0 } error) sb.Append(" <span class=\"warn\">").Append(Enc.Encode(error)).Append("</span>");
                Output(sb, e.Text("Stdout") ?? "", e.Text("Stderr") ?? "", e.Long("OutputElidedBytes"));
                break;
            case "model_call_completed":
                sb.Append(Enc.Encode(entry.Summary));
                ModelCall(sb, attemptId, e);
                break;
            default:
                // The summary of a bare lifecycle event is its type name, already shown.
                if (entry.Summary != e.Type) sb.Append(Enc.Encode(entry.Summary));
                break;
        }
        sb.Append("</li>");
        return sb.ToString();
    }

    /// <summary>Collapsed by default; the full stored output opens on demand (a details element: no script needed).</summary>
    private static void Output(StringBuilder sb, string stdout, string stderr, long elided)
    {
        var size = Encoding.UTF8.GetByteCount(stdout) + Encoding.UTF8.GetByteCount(stderr);
        var firstLine = stdout.Split('\n', 2)[0];
        if (firstLine.Length > 80) firstLine = firstLine[..80] + "…";
        sb.Append("<details class=\"output\"><summary>output (").Append(size.ToString(CultureInfo.InvariantCulture)).Append(" bytes)");
        if (firstLine.Length > 0) sb.Append(": <span class=\"peek\">").Append(Enc.Encode(firstLine)).Append("</span>");
        sb.Append("</summary>");
        sb.Append("<pre class=\"stdout\" tabindex=\"0\">").Append(Enc.Encode(stdout)).Append("</pre>");
        if (stderr.Length > 0) sb.Append("<pre class=\"stderr\" tabindex=\"0\">").Append(Enc.Encode(stderr)).Append("</pre>");
        if (elided > 0) sb.Append("<p class=\"note\">").Append(elided.ToString(CultureInfo.InvariantCulture)).Append(" bytes were elided when stored (head and tail kept).</p>");
        sb.Append("</details>");
    }

    private static void ModelCall(StringBuilder sb, string attemptId, ReplayEvent e)
    {
        sb.Append("<details class=\"model\"><summary>prompt and response</summary>");
        sb.Append(CultureInfo.InvariantCulture,
            $"<p>{Enc.Encode(e.Text("Provider") ?? "")}/{Enc.Encode(e.Text("Model") ?? "")}: input {e.Long("InputTokens")} tokens, output {e.Long("OutputTokens")}, reasoning {e.Long("ReasoningTokens")}, cost ${(e.Double("CostUsd") ?? 0).ToString("0.0000", CultureInfo.InvariantCulture)}, {e.Long("LatencyMs")} ms</p>");
        Part(sb, attemptId, "prompt", e.Text("RequestJson"), e.Text("RequestBlobSha256"));
        Part(sb, attemptId, "response", e.Text("ResponseJson"), e.Text("ResponseBlobSha256"));
        sb.Append("</details>");
    }

    private static void Part(StringBuilder sb, string attemptId, string label, string? preview, string? blob)
    {
        sb.Append("<h4>").Append(label).Append("</h4><pre class=\"").Append(label).Append("\" tabindex=\"0\">").Append(Enc.Encode(preview ?? "")).Append("</pre>");
        if (blob is { Length: 64 })
            sb.Append("<a href=\"/attempts/").Append(Enc.Encode(attemptId)).Append("/blobs/").Append(Enc.Encode(blob)).Append("\">full ").Append(label).Append(" (blob)</a>");
    }
}
