using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace ReBench.Audit;

/// <summary>
/// Ed25519 seals. The signed message is the canonical JSON
/// {"domain":"rebench.seal.v1","head":link,"stream":id,"version":n} in UTF-8: the stream's link at version n.
/// A key is named by its id: the first 16 hex digits of SHA-256 of the 32-byte public key.
/// </summary>
public static class Seals
{
    public const string Algorithm = "Ed25519";
    public const string Domain = "rebench.seal.v1";

    public static byte[] Message(string stream, long version, string head)
    {
        var sb = new StringBuilder("{\"domain\":");
        CanonicalJson.String(sb, Domain);
        sb.Append(",\"head\":"); CanonicalJson.String(sb, head);
        sb.Append(",\"stream\":"); CanonicalJson.String(sb, stream);
        sb.Append(",\"version\":").Append(version.ToString(CultureInfo.InvariantCulture)).Append('}');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static string KeyId(ReadOnlySpan<byte> publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    public static bool Verify(ReadOnlySpan<byte> publicKey, byte[] message, byte[] signature)
    {
        if (publicKey.Length != Ed25519PublicKeyParameters.KeySize || signature.Length != Ed25519PrivateKeyParameters.SignatureSize) return false;
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(publicKey));
        verifier.BlockUpdate(message, 0, message.Length);
        return verifier.VerifySignature(signature);
    }
}

/// <summary>An Ed25519 private key (its 32-byte seed) that signs seals.</summary>
public sealed class SealSigner
{
    private readonly Ed25519PrivateKeyParameters _key;

    public SealSigner(byte[] seed)
    {
        if (seed.Length != Ed25519PrivateKeyParameters.KeySize)
            throw new ArgumentException($"an Ed25519 private key is {Ed25519PrivateKeyParameters.KeySize} bytes, got {seed.Length}");
        _key = new Ed25519PrivateKeyParameters(seed);
        PublicKey = _key.GeneratePublicKey().GetEncoded();
        KeyId = Seals.KeyId(PublicKey);
    }

    public static SealSigner Generate(out byte[] seed)
    {
        seed = new byte[Ed25519PrivateKeyParameters.KeySize];
        new SecureRandom().NextBytes(seed);
        return new SealSigner(seed);
    }

    public byte[] PublicKey { get; }
    public string KeyId { get; }

    public byte[] Sign(string stream, long version, string head) => SignMessage(Seals.Message(stream, version, head));

    public byte[] SignMessage(byte[] message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, _key);
        signer.BlockUpdate(message, 0, message.Length);
        return signer.GenerateSignature();
    }
}
