namespace ReBench.Agents.Drivers.Modular;

public static class OutputFormat
{
    /// <summary>The text, or, when longer than <paramref name="limit"/>, its head and tail with the elided count between.</summary>
    public static string HeadTail(string text, int limit = ModularPrompts.LongOutputChars, int keep = ModularPrompts.HeadTailChars)
    {
        if (text.Length <= limit) return text;
        var elided = text.Length - (2 * keep);
        return $"{text[..keep]}\n[... {elided} characters elided ...]\n{text[^keep..]}";
    }
}
