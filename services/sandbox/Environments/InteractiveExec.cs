using System.Threading.Channels;

namespace ReBench.Sandbox.Environments;

/// <summary>Rows and columns of a pseudo-terminal.</summary>
public sealed record TerminalSize(int Rows, int Cols)
{
    public static readonly TerminalSize Default = new(24, 80);

    /// <summary>Zero means the default; anything else must be a size a terminal can have.</summary>
    public static TerminalSize Check(int rows, int cols)
    {
        if (rows < 0 || rows > 1000 || cols < 0 || cols > 1000)
            throw SandboxException.Invalid($"terminal size {rows}x{cols} must be between 1 and 1000 rows and columns (0 = default)");
        return new TerminalSize(rows == 0 ? Default.Rows : rows, cols == 0 ? Default.Cols : cols);
    }
}

/// <summary>What the client of an interactive exec sends after opening it.</summary>
public abstract record TerminalInput;

public sealed record TerminalKeys(ReadOnlyMemory<byte> Data) : TerminalInput;

public sealed record TerminalResized(TerminalSize Size) : TerminalInput;

/// <summary>Stdin is closed: the terminal sees end-of-file (an interactive shell exits).</summary>
public sealed record TerminalEof : TerminalInput;

/// <summary>Interactive exec in a driver; a separate interface member so that drivers without it still compile.</summary>
public static class InteractiveExec
{
    /// <summary>The command an empty one stands for: a login-less interactive bash.</summary>
    public const string DefaultCommand = "/bin/bash -i";
}
