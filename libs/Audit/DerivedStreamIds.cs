using System.Security.Cryptography;
using System.Text;

namespace ReBench.Audit;

/// <summary>
/// Ids of the streams kept beside an attempt (corrections, access log): a name-based UUID (RFC 9562 version 8) of
/// SHA-256("&lt;name&gt;:" + attempt id), so each is found without an index and never collides with another stream.
/// </summary>
public static class DerivedStreamIds
{
    public static Guid Of(string name, Guid attemptId)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(name + ":" + attemptId.ToString("D")))[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true);
    }
}
