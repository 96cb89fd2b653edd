using System.Text.RegularExpressions;

namespace ReBench.Agents.Drivers.Aide;

/// <summary>
/// A model answer split into the plan (the text before the first code fence) and the code (AIDE's extract_code:
/// the ```python or untagged fenced blocks, joined). An answer without such a block, or with a fence left open, has
/// no code and says why; the driver marks its node buggy instead of running anything.
/// </summary>
public sealed partial record AideResponse(string Plan, string? Code, string? Problem)
{
    public const int MaxPlanChars = 4000;

    [GeneratedRegex(@"^[ \t]*```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)^[ \t]*```[ \t]*$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Fenced();

    private static readonly string[] PythonTags = ["", "python", "py", "python3"];

    public static AideResponse Parse(string? text)
    {
        text = (text ?? "").Replace("\r\n", "\n");
        if (text.Trim().Length == 0) return new("", null, "the answer was empty (no plan and no code block)");
        var fence = text.IndexOf("```", StringComparison.Ordinal);
        var plan = Clip((fence >= 0 ? text[..fence] : text).Trim());
        if (fence < 0) return new(plan, null, "the answer has no fenced code block (```python ... ```)");

        var blocks = Fenced().Matches(text).Select(m => (Tag: m.Groups[1].Value.ToLowerInvariant(), Body: m.Groups[2].Value)).ToList();
        if (blocks.Count == 0)
            return new(plan, null, "the answer's code block is not closed (an opening ``` without a closing ```)");
        var code = blocks.Where(b => PythonTags.Contains(b.Tag)).Select(b => b.Body.TrimEnd()).Where(b => b.Trim().Length > 0).ToList();
        if (code.Count == 0)
            return new(plan, null, blocks.All(b => b.Body.Trim().Length == 0)
                ? "the answer's code block is empty"
                : $"the answer has no Python code block (found only: {string.Join(", ", blocks.Select(b => b.Tag.Length == 0 ? "untagged" : b.Tag).Distinct())})");
        return new(plan, string.Join("\n\n", code) + "\n", null);
    }

    private static string Clip(string s) => s.Length <= MaxPlanChars ? s : s[..MaxPlanChars] + "…";
}
