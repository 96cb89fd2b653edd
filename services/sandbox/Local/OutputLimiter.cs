namespace ReBench.Sandbox.Local;

/// <summary>
/// Caps one output stream: the first half of the cap passes through live, the last half is kept in a ring buffer
/// and released at the end, and everything between is counted as elided.
/// </summary>
internal sealed class OutputLimiter(long cap)
{
    private readonly long _headCap = cap - cap / 2;
    private readonly int _tailCap = (int)(cap / 2);
    private byte[]? _ring;
    private int _ringPos;
    private long _headSent;
    private long _tailWritten;

    /// <summary>Takes a chunk read from the pipe; returns the part to stream now (possibly empty).</summary>
    public byte[] Accept(ReadOnlySpan<byte> data)
    {
        var live = (int)Math.Min(data.Length, _headCap - _headSent);
        _headSent += live;
        var rest = data[live..];
        if (!rest.IsEmpty && _tailCap > 0) AppendTail(rest);
        else _tailWritten += rest.Length;
        return data[..live].ToArray();
    }

    public byte[] Tail()
    {
        if (_ring is null) return [];
        if (_tailWritten <= _tailCap) return _ring[..(int)_tailWritten];
        return [.. _ring[_ringPos..], .. _ring[.._ringPos]];
    }

    public long ElidedBytes => _tailWritten - Math.Min(_tailWritten, _tailCap);

    private void AppendTail(ReadOnlySpan<byte> data)
    {
        _ring ??= new byte[_tailCap];
        _tailWritten += data.Length;
        if (data.Length >= _tailCap)
        {
            data[^_tailCap..].CopyTo(_ring);
            _ringPos = 0;
            return;
        }
        var first = Math.Min(data.Length, _tailCap - _ringPos);
        data[..first].CopyTo(_ring.AsSpan(_ringPos));
        data[first..].CopyTo(_ring);
        _ringPos = (_ringPos + data.Length) % _tailCap;
    }
}
