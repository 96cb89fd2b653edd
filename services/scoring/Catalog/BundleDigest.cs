using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ReBench.Scoring.Catalog;

/// <summary>
/// SHA-256 over a folder's files in ordinal order of their '/'-separated relative paths: each file contributes its
/// path, a NUL, its length (8 bytes little-endian) and its bytes, so moving bytes between files changes the digest.
/// __pycache__ folders are skipped: Python may write them next to a scorer without changing what it does.
/// </summary>
public static class BundleDigest
{
    public static string Compute(string directory) => Compute(Files(directory));

    /// <summary>The same hash over a list of files, given as ('/'-separated relative path, absolute path).</summary>
    public static string Compute(IEnumerable<(string Relative, string Full)> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        foreach (var (relative, full) in files.OrderBy(f => f.Relative, StringComparer.Ordinal))
        {
            var content = File.ReadAllBytes(full);
            hash.AppendData(Encoding.UTF8.GetBytes(relative));
            hash.AppendData([0]);
            BinaryPrimitives.WriteInt64LittleEndian(length, content.LongLength);
            hash.AppendData(length);
            hash.AppendData(content);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The files that count as the folder's content, as ('/'-separated relative path, absolute path).</summary>
    public static IEnumerable<(string Relative, string Full)> Files(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => (Relative: Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'), Full: f))
            .Where(f => !f.Relative.Split('/').Contains("__pycache__"))
            .OrderBy(f => f.Relative, StringComparer.Ordinal);
}
