namespace ReBench.Orchestrator.Attempts;

/// <summary>
/// Text that goes into a stored event. PostgreSQL's jsonb cannot hold U+0000, and agents print and write binary
/// data, so NUL becomes U+FFFD (as invalid UTF-8 already does when decoded); the exact bytes are not kept inline.
/// </summary>
public static class StoredText
{
    public const char Replacement = '\uFFFD';

    public static string FromBytes(ReadOnlySpan<byte> bytes) => Clean(Encoding.UTF8.GetString(bytes));

    public static string Clean(string text) => text.Contains('\0') ? text.Replace('\0', Replacement) : text;

    /// <summary>A short preview of written content; binary content is described, not shown.</summary>
    public static string Preview(ReadOnlySpan<byte> content, int max = 512)
    {
        var head = content[..Math.Min(content.Length, max)];
        if (head.Contains((byte)0)) return $"(binary, {content.Length} bytes)";
        var text = Clean(Encoding.UTF8.GetString(head));
        return content.Length > max ? text + "…" : text;
    }
}
